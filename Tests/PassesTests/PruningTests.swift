import Foundation
import Formats
import Graph
import Passes
import Runtime
import Testing

/// Channel groups, channel removal and reconstruction on the Samples models.
@Suite("Channel pruning") struct PruningTests {
    static let samples = ["resnet_mini", "mobilenet_mini", "unet_thesis", "bisenet_attention", "convnext_block", "torch_opset13"]

    func groups(_ name: String) throws -> [ChannelGroup] {
        try ChannelPruner.analyze(try Samples.load("\(name).onnx")).analysis.groups
    }

    func group(_ groups: [ChannelGroup], producedBy node: String) -> ChannelGroup? {
        groups.first { $0.producers.contains { $0.hasPrefix(node + " ") } }
    }

    /// The model pruned at the default ratio by filter L1 norm (no calibration data needed).
    func prunedByL1(_ model: Model) throws -> Model {
        var options = PruneOptions(threads: 1)
        options.method = .l1
        return try ChannelPruner.prune(model, calibration: CalibrationSet(samples: []), options: options).0
    }

    func inputs(_ name: String) throws -> [String: NDArray] {
        var result: [String: NDArray] = [:]
        for tensor in try NPZ.read(contentsOf: Samples.url("\(name).inputs.npz")) { result[tensor.name] = try NDArray(tensor) }
        return result
    }

    @Test func residualAddTiesBothOperandsAndFlattenFeedsGemm() throws {
        let g = try groups("resnet_mini")
        let stem = try #require(group(g, producedBy: "n_Conv_0"))
        #expect(stem.producers.contains { $0.hasPrefix("n_Conv_2 ") }, "the residual Add ties the stem to the block's last conv")
        #expect(stem.isPrunable)
        let last = try #require(group(g, producedBy: "n_Conv_7"))
        #expect(last.consumers.contains { $0.hasPrefix("n_Gemm_0 ") }, "GlobalAveragePool → Flatten → Gemm contracts the channels")
        let logits = try #require(group(g, producedBy: "n_Gemm_0"))
        #expect(!logits.isPrunable && logits.blockers.contains { $0.contains("graph output 'output'") })
    }

    @Test func concatOffsetsAndTransposedConvs() throws {
        let g = try groups("unet_thesis")
        let skip = try #require(group(g, producedBy: "n_Conv_3"))
        #expect(Set(skip.consumers.map { String($0.prefix { $0 != " " }) }) == ["n_Conv_4", "n_Conv_6"], "the skip reaches the decoder through Concat")
        let up = try #require(group(g, producedBy: "n_ConvTranspose_0"))
        #expect(up.isPrunable && up.channels == 16)
        let beforeUp = try #require(group(g, producedBy: "n_Conv_5"))
        #expect(beforeUp.consumers.contains { $0.hasPrefix("n_ConvTranspose_0 ") })
    }

    @Test func depthwiseConvTiesItsInputToItsOutput() throws {
        let g = try groups("mobilenet_mini")
        let expand = try #require(group(g, producedBy: "n_Conv_1"))
        #expect(expand.channels == 64 && expand.isPrunable)
        // The depthwise n_Conv_2 carries the channels through: the project conv n_Conv_3 reads them.
        #expect(expand.consumers.map { String($0.prefix { $0 != " " }) } == ["n_Conv_3"])
        #expect(!g.contains { $0.producers.contains { $0.hasPrefix("n_Conv_2 ") } })
    }

    @Test func normalizationOverChannelsAndUnknownOpsBlock() throws {
        let convnext = try groups("convnext_block")
        let stem = try #require(group(convnext, producedBy: "n_Conv_0"))
        #expect(!stem.isPrunable && stem.blockers.contains { $0.contains("normalizes over the channels") })

        var model = try Samples.load("resnet_mini.onnx")
        let i = try #require(model.graph.nodes.firstIndex { $0.opType == "Relu" })
        let relu = model.graph.nodes[i]
        model.graph.nodes[i] = Node(name: relu.name, opType: "MysteryActivation", domain: "com.example", inputs: relu.inputs, outputs: relu.outputs)
        model.opsetImports.append(OpsetImport(domain: "com.example", version: 1))
        let analysis = try ChannelPruner.analyze(model).analysis
        let blocked = try #require(analysis.groups.first { $0.blockers.contains { $0.contains("MysteryActivation") || $0.contains(relu.name) } })
        #expect(!blocked.isPrunable)
    }

    /// Concat(conv 4, conv 6) → Split [4, 6] on the channel axis: each output takes one layer's
    /// channels whole, so both groups prune and the sizes follow; a Split through one layer's
    /// channels blocks that layer.
    @Test func splitOnTheChannelAxisKeepsWholeLayersOrBlocks() throws {
        var b = NetBuilder(input: "x", shape: [1, 3, 8, 8])
        let a = b.conv("x", 3, 4, kernel: 3, pad: 1), c = b.conv("x", 3, 6, kernel: 3, pad: 1)
        let joined = b.node("Concat", [a, c], [Attribute("axis", .int(1))])
        b.graph.initializers.append(Tensor(name: "sizes", shape: [2], int64s: [4, 6]))
        b.graph.nodes.append(Node(name: "split", opType: "Split", inputs: [joined, "sizes"], outputs: ["s1", "s2"],
                                  attributes: [Attribute("axis", .int(1))]))
        let wide = b.conv("x", 3, 8, kernel: 1)
        b.graph.initializers.append(Tensor(name: "halves", shape: [2], int64s: [4, 4]))
        b.graph.nodes.append(Node(name: "cut", opType: "Split", inputs: [wide, "halves"], outputs: ["h1", "h2"],
                                  attributes: [Attribute("axis", .int(1))]))
        let sum = ["s1", "s2", "h1", "h2"].enumerated().map { i, input in b.conv(input, i == 1 ? 6 : 4, 2, kernel: 1) }
        b.output(b.node("Sum", sum))
        let model = Model(graph: b.graph)

        let groups = try ChannelPruner.analyze(model).analysis.groups
        let first = try #require(group(groups, producedBy: a)), second = try #require(group(groups, producedBy: c))
        #expect(first.isPrunable && second.isPrunable && first.id != second.id)
        let cut = try #require(group(groups, producedBy: wide))
        #expect(!cut.isPrunable && cut.blockers.contains { $0.contains("cuts through the channels of one layer") })

        let pruned = try prunedByL1(model)
        let split = try #require(pruned.graph.nodes.first { $0.name == "split" })
        #expect(pruned.graph.initializer(named: split.inputs[1])?.int64Values() == [2, 3])
        let feeds = ["x": NDArray(shape: [1, 3, 8, 8], floats: Array(repeating: 1, count: 192))]
        #expect(try Session(model: pruned).run(feeds)[b.graph.outputs[0].name]?.shape == [1, 2, 8, 8])
    }

    /// Slice: a channel range that takes whole layers (Concat(conv 4, conv 6)[4:10]) prunes both
    /// layers and moves its bounds; a spatial crop passes channels through; a range cutting one
    /// layer's channels blocks it. With filter norms growing with the channel index, `l1` keeps
    /// the upper half of every group, so the pruned model must compute what the original does
    /// with the consumers' weights of the lower half zeroed.
    @Test func sliceRangesFollowTheChannels() throws {
        var b = NetBuilder(input: "x", shape: [1, 3, 8, 8])
        let a = b.conv("x", 3, 4, kernel: 3, pad: 1), c = b.conv("x", 3, 6, kernel: 3, pad: 1)
        let joined = b.node("Concat", [a, c], [Attribute("axis", .int(1))])
        b.graph.initializers += [Tensor(name: "s0", shape: [1], int64s: [4]), Tensor(name: "e0", shape: [1], int64s: [10]),
                                 Tensor(name: "ax1", shape: [1], int64s: [1]),
                                 Tensor(name: "s1", shape: [2], int64s: [1, 1]), Tensor(name: "e1", shape: [2], int64s: [7, -1]),
                                 Tensor(name: "ax23", shape: [2], int64s: [2, 3]),
                                 Tensor(name: "s2", shape: [1], int64s: [0]), Tensor(name: "e2", shape: [1], int64s: [3])]
        b.graph.nodes.append(Node(name: "range", opType: "Slice", inputs: [joined, "s0", "e0", "ax1"], outputs: ["ranged"]))
        let wide = b.conv("x", 3, 8, kernel: 3, pad: 1)
        b.graph.nodes.append(Node(name: "crop", opType: "Slice", inputs: [wide, "s1", "e1", "ax23"], outputs: ["cropped"]))
        let cut = b.conv("x", 3, 8, kernel: 1)
        b.graph.nodes.append(Node(name: "cut", opType: "Slice", inputs: [cut, "s2", "e2", "ax1"], outputs: ["part"]))
        let outputs = [b.conv("ranged", 6, 2, kernel: 1), b.conv("cropped", 8, 2, kernel: 1), b.conv("part", 3, 2, kernel: 1)]
        b.graph.outputs = outputs.map { Value(name: $0, type: nil) }
        // Weights: output channel o of every conv scaled by o + 1, so L1 norms grow with o.
        var state: UInt64 = 12345
        b.graph.initializers = b.graph.initializers.map { tensor in
            guard tensor.elementType == .float32 else { return tensor }
            let inner = tensor.shape.dropFirst().reduce(1, *)
            let values = (0..<tensor.elementCount).map { i -> Float in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return Float(i / max(inner, 1) + 1) * (0.5 + Float(state >> 40) / Float(1 << 24) * 0.5)
            }
            return Tensor(name: tensor.name, shape: tensor.shape, floats: values)
        }
        let model = Model(graph: b.graph)

        let groups = try ChannelPruner.analyze(model).analysis.groups
        for producer in [a, c, wide] { #expect(try #require(group(groups, producedBy: producer)).isPrunable, "\(producer)") }
        let blocked = try #require(group(groups, producedBy: cut))
        #expect(!blocked.isPrunable && blocked.blockers.contains { $0.contains("cuts through the channels of one layer") })

        let pruned = try prunedByL1(model)
        let range = try #require(pruned.graph.nodes.first { $0.name == "range" })
        #expect(pruned.graph.initializer(named: range.inputs[1])?.int64Values() == [2])
        #expect(pruned.graph.initializer(named: range.inputs[2])?.int64Values() == [5])

        // The original with the removed channels' weights zeroed in the consumers.
        var zeroed = model
        for (consumer, removed) in [(outputs[0], 0..<3), (outputs[1], 0..<4)] {
            let node = try #require(zeroed.graph.nodes.first { $0.outputs == [consumer] })
            let index = try #require(zeroed.graph.initializers.firstIndex { $0.name == node.inputs[1] })
            let weight = zeroed.graph.initializers[index]
            var values = try #require(weight.floatValues())
            let channels = weight.shape[1]
            for o in 0..<weight.shape[0] { for r in removed { values[o * channels + r] = 0 } }
            zeroed.graph.initializers[index] = Tensor(name: weight.name, shape: weight.shape, floats: values)
        }
        let feeds = ["x": NDArray(shape: [1, 3, 8, 8], floats: (0..<192).map { Float($0 % 17) / 17 - 0.5 })]
        let expected = try Session(model: zeroed).run(feeds), actual = try Session(model: pruned).run(feeds)
        for name in outputs {
            let e = try #require(expected[name]?.floatArray()), x = try #require(actual[name]?.floatArray())
            #expect(e.count == x.count && zip(e, x).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($0)) }, "\(name)")
        }
    }

    /// A channel Slice with a step, or with bounds computed at run time, blocks the layer it reads.
    @Test func sliceWithAStepOrRuntimeBoundsBlocks() throws {
        var b = NetBuilder(input: "x", shape: [1, 3, 8, 8])
        b.graph.inputs.append(Value(name: "start", .int64, [.known(1)]))
        let stepped = b.conv("x", 3, 8, kernel: 1), bounded = b.conv("x", 3, 8, kernel: 1)
        b.graph.initializers += [Tensor(name: "zero", shape: [1], int64s: [0]), Tensor(name: "eight", shape: [1], int64s: [8]),
                                 Tensor(name: "one", shape: [1], int64s: [1]), Tensor(name: "two", shape: [1], int64s: [2])]
        b.graph.nodes.append(Node(name: "every_other", opType: "Slice", inputs: [stepped, "zero", "eight", "one", "two"], outputs: ["half"]))
        b.graph.nodes.append(Node(name: "from_input", opType: "Slice", inputs: [bounded, "start", "eight", "one"], outputs: ["tail"]))
        let outputs = [b.conv("half", 4, 2, kernel: 1), b.node("ReduceSum", ["tail"])]
        b.graph.outputs = outputs.map { Value(name: $0, type: nil) }
        let groups = try ChannelPruner.analyze(Model(graph: b.graph)).analysis.groups
        let step = try #require(group(groups, producedBy: stepped)), runtime = try #require(group(groups, producedBy: bounded))
        #expect(!step.isPrunable && step.blockers.contains { $0.contains("slices the channels with a step") }, "\(step.blockers)")
        #expect(!runtime.isPrunable && runtime.blockers.contains { $0.contains("not constants") }, "\(runtime.blockers)")
    }

    @Test(arguments: samples) func ratioZeroLeavesOutputsIdentical(name: String) throws {
        let model = try Samples.load("\(name).onnx")
        var options = PruneOptions(threads: 2)
        options.ratio = 0
        let calibration = CalibrationSet(samples: [try inputs(name)])
        let (pruned, report) = try ChannelPruner.prune(model, calibration: calibration, options: options)
        #expect(report.parametersAfter == report.parametersBefore)
        let feeds = try inputs(name)
        let expected = try Session(model: model).run(feeds), actual = try Session(model: pruned).run(feeds)
        for (key, value) in expected { #expect(actual[key]?.floatArray() == value.floatArray(), "\(name): output \(key)") }
    }

    @Test(arguments: samples) func prunedModelsRunAndShrink(name: String) throws {
        let model = try Samples.load("\(name).onnx")
        for method in PruneOptions.Method.allCases {
            var options = PruneOptions(threads: 2)
            options.method = method
            options.samplesPerImage = 16
            let calibration = try CalibrationSet.random(inputs: model.graph.runtimeInputs, count: 3, seed: 1)
            let (pruned, report) = try ChannelPruner.prune(model, calibration: calibration, options: options)
            let prunable = report.groups.contains { $0.channelsAfter < $0.channelsBefore }
            #expect(!prunable || report.parametersAfter < report.parametersBefore, "\(name) \(method)")
            // The pruned graph survives a write and read, and runs with the original's output shapes.
            let reread = try ONNXFormat.decode(try ONNXFormat.encode(pruned), baseDirectory: nil, source: "pruned \(name)")
            let feeds = try inputs(name)
            let expected = try Session(model: model).run(feeds), actual = try Session(model: reread).run(feeds)
            for (key, value) in expected { #expect(actual[key]?.shape == value.shape, "\(name) \(method): output \(key)") }
            #expect(report.verification.allSatisfy { $0.cosineSimilarity.isFinite }, "\(name) \(method)")
        }
    }

    @Test func windowRowsTimesWeightsGiveTheLayerOutput() throws {
        let model = try Samples.load("unet_thesis.onnx")
        let graph = model.graph
        let layers = graph.nodes.filter { $0.opType == "Conv" || $0.opType == "ConvTranspose" }.prefix(8)
        var probe = model
        probe.graph.outputs = layers.flatMap { [Value(name: $0.inputs[0], type: nil), Value(name: $0.outputs[0], type: nil)] }
        let values = try Session(model: probe, options: SessionOptions(fusesConvolutions: false)).run(try inputs("unet_thesis"))
        for node in layers {
            let weight = try #require(graph.initializer(named: node.inputs[1])).floatValues()!
            let bias = graph.initializer(named: node.inputs[2])?.floatValues()
            let w = try #require(graph.initializer(named: node.inputs[1])).shape
            let x = try #require(values[node.inputs[0]]), y = try #require(values[node.outputs[0]])
            let transposed = node.opType == "ConvTranspose"
            let (outputs, channels) = transposed ? (w[1], w[0]) : (w[0], w[1])
            let taps = w.dropFirst(2).reduce(1, *)
            let plane = y.shape.dropFirst(2).reduce(1, *)
            let positions = [0, 1, plane / 2 + 7, plane - 1]
            let rows = try WindowSampling.rows(of: node, kernel: Array(w.dropFirst(2)), input: x,
                                               outputSpatial: Array(y.shape.dropFirst(2)), positions: positions)
            let out = y.floatArray()
            for (r, p) in positions.enumerated() {
                for o in 0..<outputs {
                    var sum = Double(bias?[o] ?? 0)
                    for c in 0..<channels {
                        for t in 0..<taps {
                            let wv = transposed ? weight[(c * outputs + o) * taps + t] : weight[(o * channels + c) * taps + t]
                            sum += Double(rows[r * channels * taps + c * taps + t]) * Double(wv)
                        }
                    }
                    #expect(abs(sum - Double(out[o * plane + p])) <= 1e-4 * max(1, abs(sum)), "\(node.displayName) at \(p), output \(o)")
                }
            }
        }
    }

    @Test func badOptionsAndCalibrationAreRefusedWithTheirNames() throws {
        let model = try Samples.load("resnet_mini.onnx")
        var options = PruneOptions()
        options.ratioFor = ["no_such_layer": 0.3]
        let calibration = CalibrationSet(samples: [try inputs("resnet_mini")])
        #expect(throws: PruneError.self) { try ChannelPruner.prune(model, calibration: calibration, options: options) }
        do {
            _ = try ChannelPruner.prune(model, calibration: calibration, options: options)
        } catch {
            #expect("\(error)".contains("no_such_layer"))
        }
        let wrong = Tensor(name: "input", shape: [2, 5], floats: Array(repeating: 0, count: 10))
        do {
            _ = try CalibrationSet.from([wrong], inputs: model.graph.runtimeInputs, source: "cal.npz")
            Issue.record("a calibration array of the wrong shape was accepted")
        } catch {
            #expect("\(error)".contains("cal.npz") && "\(error)".contains("'input'"))
        }
    }
}
