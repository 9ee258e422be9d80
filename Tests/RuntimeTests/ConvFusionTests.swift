import Foundation
import Formats
import Graph
import Runtime
import Testing

/// Session creation fuses Conv → BatchNormalization → Add → activation chains into one kernel.
/// Each case runs a small graph fused and unfused (every node its own kernel, the path the
/// conformance tests check) and compares; the profile's op labels show what was fused.
@Suite struct ConvFusionTests {
    /// Builds nodes and their constant tensors.
    struct Builder {
        var nodes: [Node] = []
        var initializers: [Tensor] = []
        var seed: UInt64 = 1

        mutating func constant(_ name: String, _ shape: [Int], positive: Bool = false) -> String {
            seed += 1
            var values = ConvolutionHarness.random(shape, seed: seed).tensor(name: name)
            if positive {
                let floats = NDArray(shape: shape, floats: (0..<shape.reduce(1, *)).map { Float($0 % 7) * 0.1 + 0.5 })
                values = floats.tensor(name: name)
            }
            initializers.append(values)
            return name
        }

        mutating func conv(_ x: String, _ out: String, cin: Int, cout: Int, kernel: [Int], group: Int = 1,
                           attributes: [Attribute] = [], bias: Bool = true) {
            let w = constant(out + ".w", [cout, cin / group] + kernel)
            let b = bias ? constant(out + ".b", [cout]) : ""
            nodes.append(Node(name: out, opType: "Conv", inputs: [x, w, b], outputs: [out],
                              attributes: [Attribute("group", .int(Int64(group)))] + attributes))
        }

        mutating func batchNorm(_ x: String, _ out: String, channels: Int) {
            let inputs = [x, constant(out + ".scale", [channels]), constant(out + ".bias", [channels]),
                          constant(out + ".mean", [channels]), constant(out + ".var", [channels], positive: true)]
            nodes.append(Node(name: out, opType: "BatchNormalization", inputs: inputs, outputs: [out],
                              attributes: [Attribute("epsilon", .float(1e-3))]))
        }

        mutating func node(_ op: String, _ inputs: [String], _ out: String, attributes: [Attribute] = []) {
            nodes.append(Node(name: out, opType: op, inputs: inputs, outputs: [out], attributes: attributes))
        }

        func model(inputs: [(String, [Int])], outputs: [String], opset: Int64 = 17) -> Model {
            let graph = Graph(name: "fusion", nodes: nodes,
                              inputs: inputs.map { Value(name: $0.0, .float32, $0.1.map { Dim.known($0) }) },
                              outputs: outputs.map { Value(name: $0, type: nil) }, initializers: initializers)
            return Model(opsetImports: [OpsetImport(domain: "", version: opset)], graph: graph)
        }
    }

    /// Runs `model` fused (with `threads`) and unfused; returns the fused run's op labels and
    /// the largest difference relative to the output's largest magnitude.
    func compare(_ model: Model, feeds: [String: NDArray], threads: Int = 1) throws -> (labels: [String], error: Double) {
        let fused = try Session(model: model, options: SessionOptions(threads: threads))
        let plain = try Session(model: model, options: SessionOptions(threads: 1, fusesConvolutions: false))
        let (outputs, timings) = try fused.profile(feeds)
        let expected = try plain.run(feeds)
        var error = 0.0
        for (name, value) in expected {
            let a = try #require(outputs[name]).floats, b = value.floats
            #expect(a.count == b.count)
            let scale = max(1e-6, b.map { Double(abs($0)) }.max() ?? 0)
            for i in a.indices { error = max(error, Double(abs(a[i] - b[i])) / scale) }
        }
        return (timings.map(\.operation), error)
    }

    func input(_ shape: [Int]) -> NDArray { ConvolutionHarness.random(shape, seed: 99) }

    static let convPaths: [(name: String, cin: Int, cout: Int, kernel: [Int], group: Int, attributes: [Attribute], size: [Int])] = [
        ("pointwise", 8, 16, [1, 1], 1, [], [12, 10]),
        ("im2col stride 2", 6, 10, [3, 3], 1,
         [Attribute("strides", .ints([2, 2])), Attribute("pads", .ints([1, 1, 1, 1]))], [13, 11]),
        ("winograd", 32, 16, [3, 3], 1, [Attribute("pads", .ints([1, 1, 1, 1]))], [17, 15]),
        ("depthwise", 12, 12, [3, 3], 12, [Attribute("pads", .ints([1, 1, 1, 1]))], [9, 14]),
        ("1-D", 5, 7, [3], 1, [], [20]),
    ]

    @Test("Conv+BatchNormalization+Relu on every conv path, 1 and 2 threads", arguments: 0..<5, [1, 2])
    func batchNormAndRelu(path: Int, threads: Int) throws {
        let p = Self.convPaths[path]
        var b = Builder()
        b.conv("x", "c", cin: p.cin, cout: p.cout, kernel: p.kernel, group: p.group, attributes: p.attributes)
        b.batchNorm("c", "bn", channels: p.cout)
        b.node("Relu", ["bn"], "y")
        let shape = [2, p.cin] + p.size
        let result = try compare(b.model(inputs: [("x", shape)], outputs: ["y"]), feeds: ["x": input(shape)], threads: threads)
        #expect(result.labels == ["Conv+BatchNormalization+Relu"], "\(p.name)")
        #expect(result.error < 1e-5, "\(p.name): relative error \(result.error)")
    }

    @Test("a residual Add and Clip fuse on every conv path", arguments: 0..<5)
    func residualAndClip(path: Int) throws {
        let p = Self.convPaths[path]
        var b = Builder()
        // The residual comes from a second conv of the same input, so its shape matches.
        b.conv("x", "c", cin: p.cin, cout: p.cout, kernel: p.kernel, group: p.group, attributes: p.attributes, bias: false)
        b.conv("x", "shortcut", cin: p.cin, cout: p.cout, kernel: p.kernel, group: p.group, attributes: p.attributes)
        b.node("Relu", ["shortcut"], "r")
        b.node("Add", ["r", "c"], "sum")
        b.node("Clip", ["sum", b.constant("lo", []), b.constant("hi", [])], "y")
        let shape = [1, p.cin] + p.size
        let result = try compare(b.model(inputs: [("x", shape)], outputs: ["y"]), feeds: ["x": input(shape)], threads: 2)
        #expect(result.labels.sorted() == ["Conv+Add+Clip", "Conv+Relu"], "\(p.name)")
        #expect(result.error < 1e-5, "\(p.name): relative error \(result.error)")
    }

    @Test func subgraphAfterFusedNodesStillReadsTheOuterScope() throws {
        // Fusing removes the Relu, so the If moves from node 2 to node 1; the values its branch
        // reads from the enclosing graph must move with it.
        var b = Builder()
        b.conv("x", "c", cin: 3, cout: 4, kernel: [3, 3])
        b.node("Relu", ["c"], "r")
        let branch = { (name: String, op: String) in
            Graph(name: name, nodes: [Node(opType: op, inputs: ["r"], outputs: [name + ".y"])], outputs: [Value(name: name + ".y", type: nil)])
        }
        b.nodes.append(Node(name: "if", opType: "If", inputs: ["flag"], outputs: ["y"],
                            attributes: [Attribute("then_branch", .graph(branch("then", "Identity"))),
                                         Attribute("else_branch", .graph(branch("else", "Neg")))]))
        var model = b.model(inputs: [("x", [1, 3, 6, 6])], outputs: ["y"])
        model.graph.inputs.append(Value(name: "flag", .bool, []))
        for flag in [true, false] {
            let flagArray = try NDArray(Tensor(name: "flag", elementType: .bool, shape: [], storage: .bytes(Data([flag ? 1 : 0]))))
            let feeds = ["x": input([1, 3, 6, 6]), "flag": flagArray]
            let result = try compare(model, feeds: feeds)
            #expect(result.labels == ["Conv+Relu", "If"])
            #expect(result.error == 0)
        }
    }

    @Test("every fusable activation matches its own kernel", arguments: [
        ("LeakyRelu", [Attribute("alpha", .float(0.2))]), ("HardSigmoid", []), ("HardSwish", []),
        ("Sigmoid", []), ("Tanh", []),
    ])
    func activations(op: String, attributes: [Attribute]) throws {
        var b = Builder()
        b.conv("x", "c", cin: 4, cout: 6, kernel: [3, 3], attributes: [Attribute("pads", .ints([1, 1, 1, 1]))])
        b.node(op, ["c"], "y", attributes: attributes)
        let shape = [1, 4, 8, 8]
        let result = try compare(b.model(inputs: [("x", shape)], outputs: ["y"]), feeds: ["x": input(shape)])
        #expect(result.labels == ["Conv+\(op)"])
        #expect(result.error == 0, "relative error \(result.error)")
    }

    @Test("the vectorized epilogue equals the standalone kernels bit for bit, NaN, ±0, infinities and a partial last vector included",
          arguments: [
              ("Relu", [Attribute]()), ("LeakyRelu", [Attribute("alpha", .float(0.2))]), ("HardSigmoid", []), ("HardSwish", []),
              ("Sigmoid", []), ("Tanh", []), ("Clip", []),
          ])
    func epilogueIsExact(op: String, attributes: [Attribute]) throws {
        // An identity 1×1 conv passes the input through exactly, so the activation sees each special value.
        var b = Builder()
        b.initializers.append(NDArray(shape: [1, 1, 1, 1], floats: [1]).tensor(name: "w"))
        b.initializers.append(NDArray(shape: [1], floats: [0.25]).tensor(name: "bias"))
        b.node("Conv", ["x", "w", "bias"], "c")
        var inputs = ["c"]
        if op == "Clip" {
            b.initializers.append(NDArray(shape: [], floats: [-0.25]).tensor(name: "lo"))
            b.initializers.append(NDArray(shape: [], floats: [6]).tensor(name: "hi"))
            inputs += ["lo", "hi"]
        }
        b.node(op, inputs, "y", attributes: attributes)
        let specials: [Float] = [.nan, -0.25, 0, -0.5, 5.75, 6, 7, -.infinity, .infinity, -3, 3, 2.75, -2.75, 0.1, -1e-30, 1e-30, 40, -40, 0.5]
        let shape = [1, 1, 1, specials.count]  // 19 elements: two full vectors and three left over
        let model = b.model(inputs: [("x", shape)], outputs: ["y"])
        let feeds = ["x": NDArray(shape: shape, floats: specials)]
        let (fused, timings) = try Session(model: model).profile(feeds)
        let plain = try Session(model: model, options: SessionOptions(fusesConvolutions: false)).run(feeds)
        #expect(timings.map(\.operation) == ["Conv+\(op)"])
        let a = try #require(fused["y"]).floats, e = try #require(plain["y"]).floats
        #expect(a.map(\.bitPattern) == e.map(\.bitPattern), "\(op): fused \(a) against \(e)")
    }

    @Test("Clip with opset-6 attribute bounds fuses")
    func clipAttributes() throws {
        var b = Builder()
        b.conv("x", "c", cin: 3, cout: 5, kernel: [1, 1])
        b.node("Clip", ["c"], "y", attributes: [Attribute("min", .float(-0.1)), Attribute("max", .float(0.2))])
        let shape = [1, 3, 6, 6]
        let result = try compare(b.model(inputs: [("x", shape)], outputs: ["y"], opset: 6), feeds: ["x": input(shape)])
        #expect(result.labels == ["Conv+Clip"])
        #expect(result.error == 0)
    }

    @Test("a Clip with a NaN bound stays unfused and gives NaN everywhere")
    func clipWithNaNBoundStaysUnfused() throws {
        var b = Builder()
        b.conv("x", "c", cin: 3, cout: 5, kernel: [1, 1])
        b.initializers.append(NDArray(shape: [], floats: [.nan]).tensor(name: "lo"))
        b.node("Clip", ["c", "lo"], "y")
        let shape = [1, 3, 4, 4]
        let model = b.model(inputs: [("x", shape)], outputs: ["y"])
        let (outputs, timings) = try Session(model: model).profile(["x": input(shape)])
        #expect(timings.map(\.operation) == ["Conv", "Clip"])
        #expect(try #require(outputs["y"]).floats.allSatisfy(\.isNaN))
    }

    @Test("values read twice or returned by the graph stay unfused")
    func leavesSharedValuesAlone() throws {
        var b = Builder()
        b.conv("x", "c", cin: 3, cout: 4, kernel: [1, 1])
        b.batchNorm("c", "bn", channels: 4)          // c is also a graph output: no fusion
        b.conv("bn", "c2", cin: 4, cout: 4, kernel: [1, 1])
        b.node("Relu", ["c2"], "r1")                 // c2 has two readers: no fusion
        b.node("Sigmoid", ["c2"], "r2")
        let shape = [1, 3, 5, 5]
        let result = try compare(b.model(inputs: [("x", shape)], outputs: ["c", "r1", "r2"]), feeds: ["x": input(shape)])
        #expect(result.labels.sorted() == ["BatchNormalization", "Conv", "Conv", "Relu", "Sigmoid"])
        #expect(result.error == 0)
    }

    @Test("a broadcasting Add, a constant Add and a fed BatchNormalization stay unfused")
    func leavesNonMatchingOperandsAlone() throws {
        var b = Builder()
        b.conv("x", "c", cin: 3, cout: 4, kernel: [1, 1])
        b.node("Add", ["c", "perChannel"], "a")      // [1, 4, 1, 1] broadcasts: not a residual
        b.conv("a", "c2", cin: 4, cout: 4, kernel: [1, 1])
        b.node("Add", ["c2", b.constant("k", [1, 4, 5, 5])], "a2")   // constant operand: left alone
        b.conv("a2", "c3", cin: 4, cout: 4, kernel: [1, 1])
        b.nodes.append(Node(name: "bnFed", opType: "BatchNormalization", inputs: ["c3", "s", "bb", "m", "v"], outputs: ["y"]))
        let shape = [1, 3, 5, 5]
        var feeds = ["x": input(shape), "perChannel": ConvolutionHarness.random([1, 4, 1, 1], seed: 5)]
        for (i, name) in ["s", "bb", "m"].enumerated() { feeds[name] = ConvolutionHarness.random([4], seed: UInt64(10 + i)) }
        feeds["v"] = NDArray(shape: [4], floats: [0.5, 1, 1.5, 2])
        let model = b.model(inputs: [("x", shape), ("perChannel", [1, 4, 1, 1]), ("s", [4]), ("bb", [4]), ("m", [4]), ("v", [4])],
                            outputs: ["y"])
        let result = try compare(model, feeds: feeds)
        #expect(result.labels == ["Conv", "Add", "Conv", "Add", "Conv", "BatchNormalization"])
        #expect(result.error == 0)
    }

    @Test("a conv remembers its shapes only for the input shapes they came from")
    func shapesFollowTheInputs() throws {
        var b = Builder()
        b.conv("x", "y", cin: 3, cout: 4, kernel: [3, 3], attributes: [Attribute("strides", .ints([2, 2]))])
        var model = b.model(inputs: [("x", [1, 3, 9, 9])], outputs: ["y"])
        model.graph.inputs = [Value(name: "x", .float32, [.known(1), .symbol("C"), .symbol("H"), .symbol("W")])]
        let session = try Session(model: model, options: SessionOptions(threads: 1))
        // Each run against a fresh session, which has nothing remembered.
        for size in [[9, 9], [7, 12], [9, 9], [5, 3]] {
            let x = input([1, 3] + size)
            let y = try #require(try session.run(["x": x])["y"])
            let fresh = try #require(try Session(model: model, options: SessionOptions(threads: 1)).run(["x": x])["y"])
            #expect(y.shape == [1, 4, (size[0] - 3) / 2 + 1, (size[1] - 3) / 2 + 1])
            #expect(Array(y.floats) == Array(fresh.floats), "\(size)")
        }
        // A shape that does not fit the weight is still an error after good runs.
        #expect(throws: RuntimeError.self) { _ = try session.run(["x": input([1, 5, 9, 9])]) }
    }

    @Test("a residual fed with sizes that break its declared symbols is an error naming the conv, not a wrong sum")
    func residualShapeMismatchIsAnError() throws {
        var b = Builder()
        b.conv("x", "c", cin: 3, cout: 4, kernel: [1, 1])
        b.node("Add", ["c", "z"], "y")
        let symbolic: [Dim] = [.known(1), .known(4), .symbol("H"), .symbol("W")]
        var model = b.model(inputs: [("x", [1, 3, 5, 5]), ("z", [1, 4, 5, 5])], outputs: ["y"])
        model.graph.inputs = [Value(name: "x", .float32, [.known(1), .known(3), .symbol("H"), .symbol("W")]),
                              Value(name: "z", .float32, symbolic)]
        let session = try Session(model: model, options: SessionOptions(threads: 1))
        #expect(try session.profile(["x": input([1, 3, 5, 5]), "z": input([1, 4, 5, 5])]).timings.map(\.operation) == ["Conv+Add"])
        #expect {
            _ = try session.run(["x": input([1, 3, 5, 5]), "z": input([1, 4, 1, 5])])
        } throws: { error in
            "\(error)".contains("c (Conv)") && "\(error)".contains("fused residual") && "\(error)".contains("got float32 1×4×1×5")
        }
    }

    @Test("nodes without a kernel are all named, fused convs around them or not")
    func missingKernelsAreNamed() throws {
        var b = Builder()
        b.conv("x", "c", cin: 3, cout: 4, kernel: [1, 1])
        b.node("Relu", ["c"], "r")
        b.node("NoSuchOp", ["r"], "odd")
        b.nodes.append(Node(name: "custom", opType: "Thing", domain: "com.example", inputs: ["odd"], outputs: ["y"]))
        let model = b.model(inputs: [("x", [1, 3, 4, 4])], outputs: ["y"])
        for fuses in [true, false] {
            let error = #expect(throws: RuntimeError.self) {
                try Session(model: model, options: SessionOptions(threads: 1, fusesConvolutions: fuses))
            }
            #expect(error?.description == "not supported by Pare's runtime: no kernel for NoSuchOp, com.example.Thing (used by odd (NoSuchOp), custom (Thing))")
        }
    }

    @Test("a session reuses the numbering a .pare file was validated with, and ignores one of another graph")
    func sessionReusesValidatedNumbering() throws {
        var b = Builder()
        b.conv("x", "c", cin: 4, cout: 6, kernel: [3, 3])
        b.batchNorm("c", "bn", channels: 6)
        b.node("Relu", ["bn"], "y")
        let model = b.model(inputs: [("x", [1, 4, 7, 7])], outputs: ["y"])
        let file = try PareFormat.decode(PareFormat.encode(model), source: "fusion.pare")
        #expect(file.numbering.numbers(file.model.graph))
        let feeds = ["x": input([1, 4, 7, 7])]
        func y(_ session: Session) throws -> [Float] {
            let outputs = try session.run(feeds)  // alive while its floats are copied out
            return try withExtendedLifetime(outputs) { Array(try #require(outputs["y"]).floats) }
        }
        let expected = try y(Session(model: file.model))
        // Fusion folds the BatchNormalization into new weights on the session's copy of the
        // numbering; the file's stays as it was and still applies.
        #expect(try y(Session(model: file.model, numbering: file.numbering)) == expected)
        #expect(file.numbering.numbers(file.model.graph))

        // Same value names, other wiring: the numbering does not apply and is not used.
        var swapped = file.model
        swapped.graph.nodes[2].opType = "Sigmoid"
        let sigmoid = try y(Session(model: swapped))
        #expect(try y(Session(model: swapped, numbering: file.numbering)) == sigmoid)
        #expect(sigmoid != expected)
    }
}
