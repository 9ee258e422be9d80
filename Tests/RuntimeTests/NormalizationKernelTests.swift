import Foundation
import Formats
import Graph
import Runtime
import Testing

/// Runs one normalization-family node through a Session, every input fed at run time (so the
/// kernels, not session-time folding, see them) unless listed in `constants`.
enum NormalizationHarness {
    static func run(
        _ op: String, _ inputs: [(String, NDArray)], constants: Set<String> = [], attributes: [Attribute] = [],
        outputs: [String] = ["y"], opset: Int64 = 21, threads: Int = 1
    ) throws -> [NDArray] {
        let fed = inputs.filter { !constants.contains($0.0) }
        let initializers = inputs.filter { constants.contains($0.0) }.map { $0.1.tensor(name: $0.0) }
        let node = Node(name: "node", opType: op, inputs: inputs.map(\.0), outputs: outputs, attributes: attributes)
        let graph = Graph(
            name: "test", nodes: [node],
            inputs: inputs.map { Value(name: $0.0, $0.1.elementType, $0.1.shape.map { Dim.known($0) }) },
            outputs: outputs.filter { !$0.isEmpty }.map { Value(name: $0, type: nil) }, initializers: initializers)
        let model = Model(opsetImports: [OpsetImport(domain: "", version: opset)], graph: graph)
        let session = try Session(model: model, options: SessionOptions(threads: threads))
        let results = try session.run(Dictionary(uniqueKeysWithValues: fed.map { ($0.0, $0.1) }))
        return outputs.filter { !$0.isEmpty }.map { results[$0]! }
    }

    static func array<T>(_ type: ElementType, _ shape: [Int], _ values: [T]) -> NDArray {
        let out = NDArray(type, shape: shape)
        values.withUnsafeBytes { out.buffer.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return out
    }

    static func bytes(_ array: NDArray) -> [UInt8] {
        Array(UnsafeBufferPointer(start: array.pointer(as: UInt8.self), count: array.byteCount))
    }

    /// Deterministic values in [-scale, scale).
    static func random(_ shape: [Int], seed: UInt64 = 1, scale: Float = 3) -> NDArray {
        var state = seed
        let values = (0..<shape.reduce(1, *)).map { _ -> Float in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (Float(state >> 40) / Float(1 << 24) * 2 - 1) * scale
        }
        return NDArray(shape: shape, floats: values)
    }

    static func close(_ a: [Float], _ b: [Float], tolerance: Float = 1e-5) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance * max(1, abs($1)) }
    }
}

@Suite struct NormalizationKernelTests {
    typealias H = NormalizationHarness

    // MARK: Reductions

    /// Sum over axes {0, 2} of a 3×4×5 tensor, which do not merge into one run, checked against a
    /// direct loop; and the same with the axes as an attribute before opset 13.
    @Test func reduceOverSeparatedAxes() throws {
        let x = H.random([3, 4, 5])
        let values = Array(x.floats)
        var expected = [Float](repeating: 0, count: 4)
        for a in 0..<3 { for b in 0..<4 { for c in 0..<5 { expected[b] += values[(a * 4 + b) * 5 + c] } } }
        let axes = try NDArray(Tensor(name: "", shape: [2], int64s: [0, -1]))
        let y = try H.run("ReduceSum", [("x", x), ("axes", axes)], attributes: [Attribute("keepdims", .int(0))], threads: 2)[0]
        #expect(y.shape == [4])
        #expect(H.close(Array(y.floats), expected))
        let old = try H.run("ReduceSum", [("x", x)], attributes: [Attribute("axes", .ints([0, 2]))], opset: 11)[0]
        #expect(old.shape == [1, 4, 1])
        #expect(H.close(Array(old.floats), expected))
        let mean = try H.run("ReduceMean", [("x", x)], attributes: [Attribute("axes", .ints([2, 0]))], opset: 13)[0]
        #expect(H.close(Array(mean.floats), expected.map { $0 / 15 }))
    }

    @Test func reduceIntegersWrapAndKeepTheirType() throws {
        let x = H.array(.int32, [2, 3], [Int32.max, 1, 2, -4, 5, -6])
        let sum = try H.run("ReduceSum", [("x", x)], attributes: [Attribute("axes", .ints([1]))], opset: 11)[0]
        #expect(sum.elementType == .int32)
        #expect(Array(UnsafeBufferPointer(start: sum.pointer(as: Int32.self), count: 2)) == [Int32.max &+ 3, -5])
        let max = try H.run("ReduceMax", [("x", x)], attributes: [Attribute("keepdims", .int(0))], opset: 13)[0]
        #expect(max.shape == [])
        #expect(max.pointer(as: Int32.self)[0] == Int32.max)
        let l1 = try H.run("ReduceL1", [("x", H.array(.int8, [3], [Int8.min, 1, 1]))], opset: 13)[0]
        #expect(l1.pointer(as: Int8.self)[0] == Int8.min &+ 2)
    }

    @Test func emptyAxesWithNoopReduceEachElementAlone() throws {
        let x = H.random([2, 3])
        let none = NDArray(.int64, shape: [0])
        let square = try H.run("ReduceSumSquare", [("x", x), ("axes", none)], attributes: [Attribute("noop_with_empty_axes", .int(1))], opset: 18)[0]
        #expect(square.shape == [2, 3])
        #expect(H.close(Array(square.floats), x.floats.map { $0 * $0 }))
        let all = try H.run("ReduceSumSquare", [("x", x), ("axes", none)], opset: 18)[0]
        #expect(all.shape == [1, 1])
    }

    @Test func reduceHalfPrecision() throws {
        // 1, 2, 3, 4 in IEEE half.
        let x = H.array(.float16, [2, 2], [UInt16(0x3C00), 0x4000, 0x4200, 0x4400])
        let y = try H.run("ReduceLogSumExp", [("x", x), ("axes", try NDArray(Tensor(name: "", shape: [1], int64s: [1])))], opset: 18)[0]
        #expect(y.elementType == .float16)
        #expect(H.close(y.floatArray(), [2.3133, 4.3133], tolerance: 1e-3))
    }

    @Test func argMaxTiesNaNsAndErrors() throws {
        let x = NDArray(shape: [2, 4], floats: [1, 3, 3, 0, .nan, 2, .nan, 9])
        let first = try H.run("ArgMax", [("x", x)], attributes: [Attribute("axis", .int(1))], opset: 13)[0]
        #expect(first.int64Array() == [1, 0])
        let last = try H.run("ArgMax", [("x", x)], attributes: [Attribute("axis", .int(1)), Attribute("select_last_index", .int(1))], opset: 13)[0]
        #expect(last.int64Array() == [2, 2])
        let min = try H.run("ArgMin", [("x", H.array(.uint8, [3], [UInt8(5), 2, 2]))], attributes: [Attribute("keepdims", .int(0))], opset: 13)[0]
        #expect(min.shape == [])
        #expect(min.int64Array() == [1])
        #expect(throws: RuntimeError.self) {
            _ = try H.run("ArgMax", [("x", x)], attributes: [Attribute("axis", .int(2))], opset: 13)
        }
    }

    // MARK: Softmax

    /// Opset 13 normalizes along one axis (here the middle one, with elements at a stride); opset 11
    /// over everything from the axis on.
    @Test func softmaxAxisRulesByOpset() throws {
        let x = H.random([2, 3, 4], scale: 20)
        let v = Array(x.floats)
        let perAxis = try H.run("Softmax", [("x", x)], attributes: [Attribute("axis", .int(1))], opset: 13)[0]
        var expected = [Float](repeating: 0, count: 24)
        for o in 0..<2 {
            for i in 0..<4 {
                let column = (0..<3).map { v[(o * 3 + $0) * 4 + i] }
                let m = column.max()!, total = column.reduce(0) { $0 + exp($1 - m) }
                for k in 0..<3 { expected[(o * 3 + k) * 4 + i] = exp(column[k] - m) / total }
            }
        }
        #expect(H.close(Array(perAxis.floats), expected))
        let flattened = try H.run("LogSoftmax", [("x", x)], attributes: [Attribute("axis", .int(1))], opset: 11)[0]
        for o in 0..<2 {
            let row = Array(v[(o * 12)..<(o * 12 + 12)])
            let m = row.max()!, logTotal = log(row.reduce(0) { $0 + exp($1 - m) }) + m
            #expect(H.close(Array(flattened.floats[(o * 12)..<(o * 12 + 12)]), row.map { $0 - logTotal }))
        }
    }

    /// Softmax over the channels of N×C×L with L beyond one tile of columns (256), on two threads.
    @Test func softmaxOverChannelsInTiles() throws {
        let x = H.random([2, 3, 300], scale: 30)
        let v = Array(x.floats)
        for op in ["Softmax", "LogSoftmax"] {
            let out = try H.run(op, [("x", x)], attributes: [Attribute("axis", .int(1))], opset: 13, threads: 2)[0]
            let y = Array(out.floats)
            for o in 0..<2 {
                for i in 0..<300 {
                    let column = (0..<3).map { v[(o * 3 + $0) * 300 + i] }
                    let m = column.max()!, total = column.reduce(0) { $0 + exp($1 - m) }
                    let expected = column.map { op == "Softmax" ? exp($0 - m) / total : $0 - m - log(total) }
                    #expect(H.close((0..<3).map { y[(o * 3 + $0) * 300 + i] }, expected))
                }
            }
        }
    }

    @Test func softmaxDoubleAndHalf() throws {
        let x = H.array(.float64, [1, 3], [1000.0, 1001.0, 1002.0])
        let y = try H.run("Softmax", [("x", x)], opset: 13)[0]
        let values = Array(UnsafeBufferPointer(start: y.pointer(as: Double.self), count: 3))
        #expect(abs(values[2] - 0.6652409557748219) < 1e-12)
        let half = try H.run("Softmax", [("x", H.array(.float16, [2], [UInt16(0), 0]))], opset: 13)[0]
        #expect(H.bytes(half) == [0x00, 0x38, 0x00, 0x38])
    }

    // MARK: Normalizations

    @Test func layerNormalizationStatisticsAndBroadcastScale() throws {
        let x = H.random([2, 3, 4])
        let scale = NDArray(shape: [4], floats: [1, 2, 3, 4])
        let outputs = try H.run("LayerNormalization", [("x", x), ("scale", scale)], attributes: [Attribute("axis", .int(1))],
                                outputs: ["y", "", "inv"], opset: 17)
        let v = Array(x.floats)
        for r in 0..<2 {
            let row = Array(v[(r * 12)..<(r * 12 + 12)])
            let mean = row.reduce(0, +) / 12
            let inv = 1 / (row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 12 + 1e-5).squareRoot()
            #expect(abs(outputs[1].floats[r] - inv) < 1e-4)
            let expected = row.enumerated().map { ($1 - mean) * inv * Float($0 % 4 + 1) }
            #expect(H.close(Array(outputs[0].floats[(r * 12)..<(r * 12 + 12)]), expected, tolerance: 1e-4))
        }
        #expect(outputs[1].shape == [2, 1, 1])
        #expect(throws: RuntimeError.self) {
            _ = try H.run("LayerNormalization", [("x", x), ("scale", NDArray(shape: [3], floats: [1, 1, 1]))], opset: 17)
        }
    }

    /// Opset 18 GroupNormalization scales per group, opset 21 per channel; with equal per-channel
    /// values the two agree.
    @Test func groupNormalizationParameterForms() throws {
        let x = H.random([2, 4, 3])
        let perGroup = try H.run("GroupNormalization", [("x", x), ("s", NDArray(shape: [2], floats: [2, 3])), ("b", NDArray(shape: [2], floats: [1, -1]))],
                                 attributes: [Attribute("num_groups", .int(2))], opset: 18)[0]
        let perChannel = try H.run("GroupNormalization", [("x", x), ("s", NDArray(shape: [4], floats: [2, 2, 3, 3])), ("b", NDArray(shape: [4], floats: [1, 1, -1, -1]))],
                                   attributes: [Attribute("num_groups", .int(2))], opset: 21)[0]
        #expect(H.close(Array(perGroup.floats), Array(perChannel.floats)))
        #expect(throws: RuntimeError.self) {
            _ = try H.run("GroupNormalization", [("x", x), ("s", NDArray(shape: [3], floats: [1, 1, 1])), ("b", NDArray(shape: [3], floats: [0, 0, 0]))],
                          attributes: [Attribute("num_groups", .int(3))], opset: 21)
        }
    }

    /// Constant parameters are folded when the kernel is built; fed ones at run time: same result.
    @Test func batchNormalizationConstantAndFedParameters() throws {
        let x = H.random([2, 3, 5, 5])
        let parameters: [(String, NDArray)] = [
            ("s", NDArray(shape: [3], floats: [1, 0.5, 2])), ("b", NDArray(shape: [3], floats: [0, 1, -1])),
            ("m", NDArray(shape: [3], floats: [0.1, -0.2, 0.3])), ("v", NDArray(shape: [3], floats: [1, 2, 0.5])),
        ]
        let fed = try H.run("BatchNormalization", [("x", x)] + parameters, opset: 15, threads: 2)[0]
        let folded = try H.run("BatchNormalization", [("x", x)] + parameters, constants: ["s", "b", "m", "v"], opset: 9)[0]
        #expect(H.close(Array(fed.floats), Array(folded.floats)))
        let v = Array(x.floats)
        #expect(abs(fed.floats[25] - ((v[25] + 0.2) / (2 + 1e-5).squareRoot() * 0.5 + 1)) < 1e-5)
    }

    @Test func instanceNormalizationRejectsWrongScale() throws {
        let x = H.random([1, 2, 3])
        #expect(throws: RuntimeError.self) {
            _ = try H.run("InstanceNormalization", [("x", x), ("s", NDArray(shape: [3], floats: [1, 1, 1])), ("b", NDArray(shape: [2], floats: [0, 0]))])
        }
    }

    // MARK: Quantization

    /// Float8 and float4 encodings against ml_dtypes (which the ONNX reference uses), with and
    /// without saturation: ties to even, overflow to the largest value or to ∞/NaN, −0 handling.
    @Test func quantizeToMinifloats() throws {
        let x = NDArray(shape: [12], floats: [0.3, 460, 464, 470, 500, .infinity, -.infinity, -0.0, 0.0009765625, 0.00146484375, 5, -100])
        let scale = NDArray(shape: [], floats: [1])
        func quantize(_ type: ElementType, saturate: Int64) throws -> [UInt8] {
            let y = try H.run("QuantizeLinear", [("x", x), ("s", scale)],
                              attributes: [Attribute("output_dtype", .int(Int64(type.rawValue))), Attribute("saturate", .int(saturate))], opset: 21)[0]
            #expect(y.elementType == type)
            return H.bytes(y)
        }
        #expect(try quantize(.float8e4m3fn, saturate: 1) == [0x2A, 0x7E, 0x7E, 0x7E, 0x7E, 0x7E, 0xFE, 0x80, 0x00, 0x01, 0x4A, 0xEC])
        #expect(try quantize(.float8e4m3fn, saturate: 0) == [0x2A, 0x7E, 0x7E, 0x7F, 0x7F, 0x7F, 0xFF, 0x80, 0x00, 0x01, 0x4A, 0xEC])
        #expect(try quantize(.float8e4m3fnuz, saturate: 0) == [0x32, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x01, 0x02, 0x52, 0xF4])
        #expect(try quantize(.float8e5m2, saturate: 1) == [0x35, 0x5F, 0x5F, 0x5F, 0x60, 0x7B, 0xFB, 0x80, 0x14, 0x16, 0x45, 0xD6])
        #expect(try quantize(.float8e5m2, saturate: 0) == [0x35, 0x5F, 0x5F, 0x5F, 0x60, 0x7C, 0xFC, 0x80, 0x14, 0x16, 0x45, 0xD6])
        #expect(try quantize(.float8e5m2fnuz, saturate: 1) == [0x39, 0x63, 0x63, 0x63, 0x64, 0x7F, 0xFF, 0x00, 0x18, 0x1A, 0x49, 0xDA])
        // Two per byte, low nibble first; −0 + the zero point 0 is +0, as in the reference.
        #expect(try quantize(.float4e2m1, saturate: 1) == [0x71, 0x77, 0x77, 0x0F, 0x00, 0xF6])
    }

    /// Integer quantization rounds half to even and saturates; int4 packs two per byte, low first.
    @Test func quantizeIntegersRoundHalfToEven() throws {
        let x = NDArray(shape: [2, 3], floats: [0.5, 1.5, 2.5, -0.5, -1000, 1000])
        let y = try H.run("QuantizeLinear", [("x", x), ("s", NDArray(shape: [], floats: [1])), ("z", H.array(.int8, [], [Int8(0)]))], opset: 13)[0]
        #expect(y.elementType == .int8)
        #expect(H.bytes(y).map { Int8(bitPattern: $0) } == [0, 2, 2, 0, -128, 127])
        let packed = try H.run("QuantizeLinear", [("x", x), ("s", NDArray(shape: [2], floats: [1, 2]))],
                               attributes: [Attribute("axis", .int(0)), Attribute("output_dtype", .int(Int64(ElementType.int4.rawValue)))], opset: 21)[0]
        // Row 0 at scale 1: 0, 2, 2; row 1 at scale 2: −0.25 → 0, −8 (saturated), 7.
        #expect(H.bytes(packed) == [0x20, 0x02, 0x78])
        #expect(throws: RuntimeError.self) {
            _ = try H.run("QuantizeLinear", [("x", x), ("s", NDArray(shape: [3], floats: [1, 2, 3]))], attributes: [Attribute("axis", .int(0))], opset: 13)
        }
    }

    @Test("int8 and uint8 weights dequantize per channel with the scalar formula's bits, vector body and tail alike",
          arguments: [ElementType.int8, .uint8], [1, 2])
    func dequantizePerChannelVectors(type: ElementType, threads: Int) throws {
        // 3 output channels of 4×19 = 76 elements: nine full vectors and a tail of four each.
        let shape = [3, 4, 19, 1], inner = 76
        let raw = (0..<(3 * inner)).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        let scales: [Float] = [0.02, 1.5e-3, 7]
        let zeros = [UInt8(3), 250, 128]
        let x = H.array(type, shape, raw)
        let y = try H.run("DequantizeLinear", [("x", x), ("s", NDArray(shape: [3], floats: scales)), ("z", H.array(type, [3], zeros))],
                          constants: ["x", "s", "z"], attributes: [Attribute("axis", .int(0))], opset: 13, threads: threads)[0]
        let value = { (byte: UInt8) -> Float in type == .int8 ? Float(Int8(bitPattern: byte)) : Float(byte) }
        let expected = raw.indices.map { i in (value(raw[i]) - value(zeros[i / inner])) * scales[i / inner] }
        #expect(y.floats.map(\.bitPattern) == expected.map(\.bitPattern))
    }

    @Test func dequantizeBlockedAndPacked() throws {
        // uint4 values 1…6 in a 2×3 tensor, blocks of 2 along axis 1 (scale 2×2).
        let x = H.array(.uint4, [2, 3], [UInt8(0x21), 0x43, 0x65])
        let scale = NDArray(shape: [2, 2], floats: [1, 10, 100, 1000])
        let zero = H.array(.uint4, [2, 2], [UInt8(0x01), 0x00])
        let y = try H.run("DequantizeLinear", [("x", x), ("s", scale), ("z", zero)],
                          attributes: [Attribute("axis", .int(1)), Attribute("block_size", .int(2))], opset: 21)[0]
        #expect(Array(y.floats) == [0, 1, 30, 400, 500, 6000])
        #expect(throws: RuntimeError.self) {
            _ = try H.run("DequantizeLinear", [("x", x), ("s", NDArray(shape: [2, 1], floats: [1, 1]))],
                          attributes: [Attribute("axis", .int(1)), Attribute("block_size", .int(2))], opset: 21)
        }
    }

    /// The conformance harness compares float outputs through Float, which float8 and float4 have
    /// no conversion for; compare the quantization tests' outputs byte for byte instead.
    @Test(.enabled(if: Conformance.folder != nil, "set PARE_ONNX_NODE_TESTS"))
    func quantizationBackendOutputsMatchBytewise() throws {
        let names = Conformance.testNames().filter { $0.hasPrefix("test_quantizelinear") || $0.hasPrefix("test_dequantizelinear") }
        #expect(!names.isEmpty)
        for name in names {
            let directory = Conformance.folder!.appendingPathComponent(name)
            let model = try ONNXFormat.read(contentsOf: directory.appendingPathComponent("model.onnx"))
            let session = try Session(model: model, options: SessionOptions(threads: 1))
            let set = directory.appendingPathComponent("test_data_set_0")
            var feeds: [String: NDArray] = [:]
            for (k, input) in model.graph.runtimeInputs.enumerated() {
                let url = set.appendingPathComponent("input_\(k).pb")
                feeds[input.name] = try NDArray(ONNXFormat.decodeTensor(Data(contentsOf: url), baseDirectory: set, source: url.path))
            }
            let results = try session.run(feeds)
            let url = set.appendingPathComponent("output_0.pb")
            let expected = try ONNXFormat.decodeTensor(Data(contentsOf: url), baseDirectory: set, source: url.path)
            let actual = try #require(results[model.graph.outputs[0].name])
            #expect(actual.elementType == expected.elementType, "\(name)")
            if expected.elementType.isFloatingPoint, expected.elementType.bitWidth! >= 16 {
                #expect(H.close(actual.floatArray(), expected.floatValues() ?? [], tolerance: 1e-5), "\(name)")
            } else {
                #expect(H.bytes(actual) == Array(expected.bytes ?? Data()), "\(name)")
            }
        }
    }
}
