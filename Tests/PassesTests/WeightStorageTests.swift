import Foundation
import Graph
import Runtime
import Testing
@testable import Passes

@Suite("Weight storage: fp16-weights and int8-weights, and fold-constants leaving decompression alone")
struct WeightStorageTests {
    static let samples = ["unet_thesis", "resnet_mini", "mobilenet_mini", "convnext_block", "torch_opset11", "torch_opset17"]

    /// The sample after the standard pipeline, its committed inputs and onnxruntime's outputs.
    static func prepared(_ name: String) throws -> (model: Model, inputs: [String: NDArray], expected: [String: NDArray]) {
        let model = try optimized(try Samples.load("\(name).onnx")).model
        return (model, try PipelineTests.arrays("\(name).inputs.npz"), try PipelineTests.arrays("\(name).outputs.npz"))
    }

    static func run(_ model: Model, _ inputs: [String: NDArray]) throws -> [String: NDArray] {
        try Session(model: model, options: SessionOptions(threads: 1)).run(inputs)
    }

    static func initializers(_ model: Model, _ type: ElementType) -> [Tensor] {
        model.graph.initializers.filter { $0.elementType == type }
    }

    @Test("fp16-weights on a sample: every float32 weight becomes float16 with one Cast, outputs within 1% of onnxruntime's", arguments: samples)
    func float16Sample(_ name: String) throws {
        let (model, inputs, expected) = try Self.prepared(name)
        let (result, report) = try optimized(model, [Float16WeightsPass()])
        let converted = report.passes[0].rewrites
        #expect(converted > 0)
        #expect(Self.initializers(result, .float16).count - Self.initializers(model, .float16).count == converted)
        #expect(opCount(result, "Cast") - opCount(model, "Cast") == converted)
        #expect(report.passes[0].nodesAdded == converted && report.passes[0].bytesSaved > 0)
        let left = Self.initializers(result, .float32).filter { $0.elementCount >= WeightStorage.minimumElements }
        #expect(left.isEmpty, "\(name): float32 left: \(left.map(\.name))")

        let outputs = try Self.run(result, inputs)
        for (output, reference) in expected {
            let candidate = try #require(outputs[output])
            let scale = try Compare.values(reference, name: output).map(abs).max() ?? 0
            let error = try Compare.arrays(reference: reference, candidate: candidate, name: output).maxAbsoluteError
            #expect(error <= 1e-2 * scale, "\(name).\(output): max abs error \(error), max |reference| \(scale)")
        }
        let again = try optimized(result, [Float16WeightsPass()]).report.passes[0]
        #expect(!again.changed)
    }

    @Test("int8-weights on a sample: conv and matmul weights become int8 with one dequantization each, cosine ≥ 0.99", arguments: samples)
    func int8Sample(_ name: String) throws {
        let (model, inputs, expected) = try Self.prepared(name)
        let (result, report) = try optimized(model, [Int8WeightsPass()])
        let converted = report.passes[0].rewrites
        #expect(converted > 0)
        #expect(Self.initializers(result, .int8).count - Self.initializers(model, .int8).count == converted)
        if model.defaultOpsetVersion >= 13 {
            #expect(opCount(result, "DequantizeLinear") - opCount(model, "DequantizeLinear") == converted)
            #expect(report.passes[0].nodesAdded == converted)
        } else {
            #expect(opCount(result, "DequantizeLinear") == 0)
            #expect(opCount(result, "Cast") - opCount(model, "Cast") == converted)
            #expect(opCount(result, "Mul") - opCount(model, "Mul") == converted)
        }
        #expect(report.passes[0].bytesSaved > 0)
        // Every Conv reads a dequantized weight, but for the tiny ones not worth a node.
        let producers = Dictionary(result.graph.nodes.flatMap { node in node.outputs.map { ($0, node.opType) } }, uniquingKeysWith: { a, _ in a })
        for node in result.graph.nodes where node.opType == "Conv" {
            if let kept = result.graph.initializer(named: node.inputs[1]) {
                #expect(kept.elementCount < WeightStorage.minimumElements, "\(name): \(node.displayName) kept \(kept.shape)")
            } else {
                #expect(producers[node.inputs[1]] == (model.defaultOpsetVersion >= 13 ? "DequantizeLinear" : "Mul"), "\(name): \(node.displayName)")
            }
        }

        let outputs = try Self.run(result, inputs)
        for (output, reference) in expected {
            let candidate = try #require(outputs[output])
            let cosine = try Compare.arrays(reference: reference, candidate: candidate, name: output).cosineSimilarity
            #expect(cosine >= 0.99, "\(name).\(output): cosine \(cosine)")
        }
        let again = try optimized(result, [Int8WeightsPass()]).report.passes[0]
        #expect(!again.changed)
        // The standard pipeline after it leaves the decompression in place.
        let reoptimized = try optimized(result).model
        #expect(Self.initializers(reoptimized, .int8).count == Self.initializers(result, .int8).count)
    }

    /// One weight of each kind: Conv (a zero channel, channels of very different magnitudes),
    /// ConvTranspose, Gemm with and without transB, MatMul.
    static func weights(opset: Int64) -> Sketch {
        var s = Sketch(inputs: [("x", [1, 3, 6, 6]), ("v", [2, 8])])
        s.opset = opset
        var conv: [Float] = (0..<(4 * 3 * 3 * 3)).map { _ in s.random() }
        for i in 27..<54 { conv[i] = 0 }
        for i in 54..<81 { conv[i] *= 1e-3 }
        for i in 81..<108 { conv[i] *= 40 }
        s.constant("conv_w", [4, 3, 3, 3], conv)
        s.constant("up_w", [4, 5, 2, 2])
        s.constant("gemm_t", [6, 8])
        s.constant("gemm_n", [8, 6])
        s.constant("mat", [8, 5])
        s.node("Conv", ["x", "conv_w"], ["c"], [Attribute("kernel_shape", .ints([3, 3]))])
        s.node("ConvTranspose", ["c", "up_w"], ["u"], [Attribute("kernel_shape", .ints([2, 2])), Attribute("strides", .ints([2, 2]))])
        s.node("Gemm", ["v", "gemm_t"], ["g1"], [Attribute("transB", .int(1))])
        s.node("Gemm", ["v", "gemm_n"], ["g2"])
        s.node("MatMul", ["v", "mat"], ["m"])
        s.outputs(["u", "g1", "g2", "m"])
        return s
    }

    @Test("int8: the dequantized weight is q·scale, within scale/2 of the original, with |q| reaching 127 in every nonzero channel")
    func int8Exactness() throws {
        let s = Self.weights(opset: 17)
        let (result, report) = try optimized(s.model, [Int8WeightsPass()])
        #expect(report.passes[0].rewrites == 5)
        let axes = ["conv_w": 0, "up_w": 1, "gemm_t": 0, "gemm_n": 1, "mat": 1]
        for (name, axis) in axes.sorted(by: { $0.key < $1.key }) {
            let original = try #require(s.graph.initializer(named: name))
            let q = try #require(result.graph.initializer(named: name + "_quantized"))
            let scale = try #require(result.graph.initializer(named: name + "_scale"))
            #expect(q.elementType == .int8 && q.shape == original.shape)
            #expect(scale.elementType == .float32 && scale.shape == [original.shape[axis]])
            let dq = try #require(result.graph.nodes.first { $0.outputs == [name] })
            #expect(dq.opType == "DequantizeLinear" && dq.inputs == [q.name, scale.name] && dq.int("axis") == Int64(axis))

            let w = try #require(original.floatValues()), qs = try #require(q.floatValues()), scales = try #require(scale.floatValues())
            let computed = try #require(NodeEvaluator.evaluate(dq, inputs: [q, scale], opsetVersion: 17).first?.floatValues())
            let channels = original.shape[axis], inner = original.shape[(axis + 1)...].reduce(1, *)
            var largest = [Float](repeating: 0, count: channels)
            for i in w.indices {
                let c = (i / inner) % channels, step = scales[c]
                #expect(computed[i] == qs[i] * step, "\(name)[\(i)]")
                #expect(abs(Double(w[i]) - Double(qs[i]) * Double(step)) <= Double(step) / 2 * (1 + 1e-6), "\(name)[\(i)]: \(w[i]) vs \(qs[i])·\(step)")
                largest[c] = max(largest[c], abs(qs[i]))
            }
            for c in 0..<channels {
                let zero = (0..<w.count).allSatisfy { (($0 / inner) % channels != c) || w[$0] == 0 }
                #expect(zero ? largest[c] == 0 && scales[c] == 1 : largest[c] == 127, "\(name) channel \(c)")
            }
        }

        // Before opset 13: Cast + Mul by a broadcasting scale, computing the same floats.
        let legacy = try optimized(Self.weights(opset: 11).model, [Int8WeightsPass()]).model
        #expect(opCount(legacy, "DequantizeLinear") == 0 && opCount(legacy, "Cast") == 5 && opCount(legacy, "Mul") == 5)
        #expect(legacy.graph.initializer(named: "conv_w_scale")?.shape == [4, 1, 1, 1])
        #expect(legacy.graph.initializer(named: "up_w_scale")?.shape == [1, 5, 1, 1])
        #expect(legacy.graph.initializer(named: "gemm_t_scale")?.shape == [6, 1])
        #expect(legacy.graph.initializer(named: "mat_scale")?.shape == [1, 5])
        for name in axes.keys.sorted() {
            let mul = try #require(legacy.graph.nodes.first { $0.outputs == [name] })
            let cast = try #require(legacy.graph.nodes.first { $0.outputs == [mul.inputs[0]] })
            let widened = try NodeEvaluator.evaluate(cast, inputs: [legacy.graph.initializer(named: cast.inputs[0])], opsetVersion: 11)
            let scaled = try NodeEvaluator.evaluate(mul, inputs: [widened[0], legacy.graph.initializer(named: mul.inputs[1])], opsetVersion: 11)
            let dq = try #require(result.graph.nodes.first { $0.outputs == [name] })
            let reference = try NodeEvaluator.evaluate(dq, inputs: dq.inputs.map { result.graph.initializer(named: $0) }, opsetVersion: 17)
            #expect(scaled[0].floatValues() == reference[0].floatValues(), "\(name)")
        }
        // Nodes go first, in initializer order.
        #expect(result.graph.nodes.prefix(5).flatMap(\.outputs) == ["conv_w", "up_w", "gemm_t", "gemm_n", "mat"])
        #expect(legacy.graph.nodes.prefix(10).map(\.opType) == Array(repeating: ["Cast", "Mul"], count: 5).flatMap { $0 })
    }

    @Test("fp16: the stored halves are floatToHalf of the originals, and the Cast gives them back as float32")
    func float16Exactness() throws {
        var s = Sketch(inputs: [("x", [1, 20])])
        s.constant("w", [20, 4], (0..<80).map { Float($0) * 0.37 - 13 + 1e-7 * Float($0) })
        s.constant("small", [4])
        s.node("MatMul", ["x", "w"], ["m"])
        s.node("Add", ["m", "small"], ["y"])
        s.outputs(["y"])
        let (result, report) = try optimized(s.model, [Float16WeightsPass()])
        #expect(report.passes[0].rewrites == 1 && report.passes[0].bytesSaved == 160)
        let original = try #require(s.graph.initializer(named: "w")?.floatValues())
        let stored = try #require(result.graph.initializer(named: "w_fp16"))
        #expect(stored.elementType == .float16 && stored.shape == [20, 4])
        let halves = try #require(stored.bytes).withUnsafeBytes { raw in (0..<80).map { raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self) } }
        #expect(halves == original.map(floatToHalf))
        let cast = try #require(result.graph.nodes.first)
        #expect(cast.opType == "Cast" && cast.inputs == ["w_fp16"] && cast.outputs == ["w"] && cast.int("to") == 1)
        let widened = try NodeEvaluator.evaluate(cast, inputs: [stored], opsetVersion: 17)[0]
        #expect(widened.elementType == .float32 && widened.floatValues() == halves.map(halfToFloat))
        // The 4-element bias stays float32: its Cast would cost more than it saves.
        #expect(result.graph.initializer(named: "small")?.elementType == .float32)

        // A taken name gets a suffix.
        var t = s
        t.constant("w_fp16", [4])
        t.node("Add", ["y", "w_fp16"], ["z"])
        t.outputs(["z"])
        let renamed = try optimized(t.model, [Float16WeightsPass()]).model
        #expect(renamed.graph.nodes.first?.inputs == ["w_fp16_1"])
    }

    @Test("fold-constants leaves DequantizeLinear and Casts of float16 or int8 constants alone, however small, and still folds Shape → Cast")
    func decompressionStays() throws {
        var s = Sketch(inputs: [("x", [1, 2, 2, 2])])
        s.graph.initializers.append(Tensor(name: "q", elementType: .int8, shape: [2], storage: .bytes(Data([3, 0xFD]))))
        s.constant("q_scale", [1], [0.5])
        s.graph.initializers.append(Tensor(name: "h", elementType: .float16, shape: [2], storage: .bytes([floatToHalf(1.5), floatToHalf(-2)].withUnsafeBytes { Data($0) })))
        s.graph.initializers.append(Tensor(name: "u", elementType: .uint8, shape: [2], storage: .bytes(Data([7, 9]))))
        s.node("DequantizeLinear", ["q", "q_scale"], ["dq"])
        s.node("Cast", ["h"], ["hf"], [Attribute("to", .int(1))])
        s.node("Cast", ["u"], ["uf"], [Attribute("to", .int(1))])
        s.node("Shape", ["x"], ["shape"])
        s.node("Cast", ["shape"], ["shape_f"], [Attribute("to", .int(1))])
        s.node("Add", ["dq", "hf"], ["a"])
        s.node("Add", ["a", "uf"], ["b"])
        s.node("ReduceSum", ["shape_f"], ["total"], [Attribute("keepdims", .int(0))])
        s.node("Mul", ["x", "b"], ["m"])
        s.node("Mul", ["m", "total"], ["y"])
        s.outputs(["y"])
        let alone = try optimized(s.model, [ConstantFoldingPass()]).model
        #expect(opCount(alone, "DequantizeLinear") == 1 && opCount(alone, "Cast") == 3)

        let result = try optimized(s.model).model
        #expect(opCount(result, "DequantizeLinear") == 1)
        #expect(result.graph.nodes.filter { $0.opType == "Cast" }.map(\.inputs) == [["h"], ["u"]])
        #expect(opCount(result, "Shape") == 0 && opCount(result, "ReduceSum") == 0)
        try expectEquivalent(s.model, result)

        // Nor does shape folding fold what is computed from them (the Mul of int8 weights before opset 13).
        let legacy = try optimized(Self.weights(opset: 11).model, [Int8WeightsPass()]).model
        let again = try optimized(legacy).model
        #expect(opCount(again, "Cast") == 5 && opCount(again, "Mul") == 5)
        #expect(Self.initializers(again, .int8).count == 5)
    }

    @Test("skips: a weight also read by an Add stays float32, so does a tensor beyond the float16 range (with notes), and graph inputs")
    func skips() throws {
        var s = Sketch(inputs: [("x", [1, 4, 4, 4])])
        s.constant("w", [4, 4, 1, 1])
        s.constant("wide", [4, 4], (0..<16).map { $0 == 5 ? 1e6 : Float($0) })
        s.constant("open", [4, 4])
        s.graph.inputs.append(Value(name: "open", .float32, [4, 4]))
        s.node("Conv", ["x", "w"], ["c"], [Attribute("kernel_shape", .ints([1, 1]))])
        s.node("Add", ["wide", "open"], ["k"])
        s.node("MatMul", ["c", "k"], ["y"])
        s.outputs(["y"])
        #expect(try optimized(s.model, [Int8WeightsPass()]).model.graph.initializer(named: "w_quantized") != nil)

        var shared = s
        shared.node("Add", ["c", "w"], ["extra"])
        shared.outputs(["y", "extra"])
        let (int8, int8Report) = try optimized(shared.model, [Int8WeightsPass()])
        #expect(int8.graph.initializer(named: "w")?.elementType == .float32 && opCount(int8, "DequantizeLinear") == 0)
        #expect(int8Report.passes[0].notes.contains { $0.contains("w") && $0.contains("Add") })

        let (fp16, fp16Report) = try optimized(s.model, [Float16WeightsPass()])
        #expect(fp16.graph.initializer(named: "wide")?.elementType == .float32)
        #expect(fp16Report.passes[0].notes.contains { $0.contains("wide") && $0.contains("float16 range") })
        #expect(fp16.graph.initializer(named: "open")?.elementType == .float32)
        #expect(fp16.graph.initializer(named: "w_fp16")?.elementType == .float16)
        #expect(fp16Report.passes[0].rewrites == 1)

        // Quantization scales stay float32 constants, so int8 then fp16 leaves the int8 weight as it is.
        var q = Sketch(inputs: [("x", [1, 2, 3, 3])])
        q.constant("w", [16, 2, 1, 1])
        q.node("Conv", ["x", "w"], ["y"], [Attribute("kernel_shape", .ints([1, 1]))])
        q.outputs(["y"])
        let quantized = try optimized(q.model, [Int8WeightsPass()]).model
        #expect(quantized.graph.initializer(named: "w_scale")?.shape == [16])
        let (both, bothReport) = try optimized(quantized, [Float16WeightsPass()])
        #expect(!bothReport.passes[0].changed && both.graph.initializer(named: "w_scale")?.elementType == .float32)
    }

    @Test("the storage passes are found by name but are not in the standard pipeline")
    func registration() throws {
        #expect(try Pipeline.named(["fold-constants", "fp16-weights", "int8-weights"]).passes.map(\.name) == ["fold-constants", "fp16-weights", "int8-weights"])
        let standard = Set(Pipeline.standard.passes.map(\.name))
        #expect(!standard.contains("fp16-weights") && !standard.contains("int8-weights"))
        let all = (Pipeline.allPasses + Pipeline.weightStoragePasses).map(\.name)
        #expect(Set(all).count == all.count)
        do {
            _ = try Pipeline.named(["int4-weights"])
            Issue.record("int4-weights is not a pass")
        } catch {
            #expect(error.description.contains("int8-weights") && error.description.contains("fp16-weights"))
        }
    }
}
