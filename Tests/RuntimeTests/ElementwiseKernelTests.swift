import Foundation
import Formats
import Graph
import Runtime
import Testing

/// Runs one elementwise node through a Session. Inputs are fed at run time with unknown dims, so
/// the kernels themselves (not shape inference or constant folding) see and check them.
enum ElementwiseHarness {
    static func run(
        _ op: String, _ inputs: [NDArray?], attributes: [Attribute] = [], opset: Int64 = 21, threads: Int = 1
    ) throws -> NDArray {
        let names = inputs.indices.map { "x\($0)" }
        let node = Node(name: "node", opType: op, inputs: zip(names, inputs).map { $1 == nil ? "" : $0 },
                        outputs: ["y"], attributes: attributes)
        let fed = zip(names, inputs).compactMap { name, array in array.map { (name, $0) } }
        let graph = Graph(
            name: "test", nodes: [node],
            inputs: fed.map { Value(name: $0.0, $0.1.elementType, nil) },
            outputs: [Value(name: "y", type: nil)])
        let model = Model(opsetImports: [OpsetImport(domain: "", version: opset)], graph: graph)
        let session = try Session(model: model, options: SessionOptions(threads: threads))
        return try session.run(Dictionary(uniqueKeysWithValues: fed))["y"]!
    }

    static func array<T>(_ type: ElementType, _ shape: [Int], _ values: [T]) -> NDArray {
        let out = NDArray(type, shape: shape)
        values.withUnsafeBytes { if $0.count > 0 { out.buffer.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
        return out
    }

    static func floats(_ shape: [Int], _ values: [Float]) -> NDArray { NDArray(shape: shape, floats: values) }

    static func values<T>(_ array: NDArray, as _: T.Type) -> [T] {
        Array(UnsafeBufferPointer(start: array.pointer(as: T.self), count: array.count))
    }

    static func bytes(_ array: NDArray) -> [UInt8] {
        Array(UnsafeRawBufferPointer(start: array.buffer.pointer, count: array.byteCount))
    }

    /// The description of the runtime error `body` throws, after checking it names the node
    /// (shape inference may catch a bad shape while planning, before the kernel would).
    static func failure(_ body: () throws -> Void) -> String? {
        do {
            try body()
            Issue.record("expected an error")
        } catch let error as RuntimeError {
            #expect(error.description.contains("node"))
            return error.description
        } catch {
            Issue.record("unexpected error \(error)")
        }
        return nil
    }
}

@Suite struct ElementwiseBroadcastTests {
    typealias H = ElementwiseHarness

    @Test func perChannelScalarAndGeneralBroadcasting() throws {
        let x = H.floats([2, 3, 2], (0..<12).map(Float.init))
        let channel = H.floats([3, 1], [100, 200, 300])
        let y = try H.run("Add", [x, channel])
        #expect(y.shape == [2, 3, 2])
        #expect(Array(y.floats) == [100, 101, 202, 203, 304, 305, 106, 107, 208, 209, 310, 311])
        let scalar = try H.run("Mul", [H.floats([], [2]), x])
        #expect(Array(scalar.floats) == (0..<12).map { Float($0 * 2) })
        // [2,1,2] against [3,1]: both operands broadcast along different axes.
        let a = H.floats([2, 1, 2], [1, 2, 3, 4]), b = H.floats([3, 1], [10, 20, 30])
        let c = try H.run("Sub", [a, b])
        #expect(c.shape == [2, 3, 2])
        #expect(Array(c.floats) == [-9, -8, -19, -18, -29, -28, -7, -6, -17, -16, -27, -26])
    }

    @Test func emptyTensorsBroadcast() throws {
        let y = try H.run("Add", [H.floats([0, 3], []), H.floats([3], [1, 2, 3])])
        #expect(y.shape == [0, 3])
    }

    @Test func threadsAgreeWithOneThread() throws {
        // Big enough for several chunks, with runs that break across chunk boundaries.
        let n = 3, c = 7, hw = 12_345
        let x = H.floats([n, c, hw], (0..<(n * c * hw)).map { Float($0 % 1000) * 0.01 - 5 })
        let s = H.floats([c, 1], (0..<c).map { Float($0) + 0.5 })
        for op in ["Add", "Mul", "Div", "PRelu"] {
            let one = try H.run(op, [x, op == "PRelu" ? H.floats([c, 1], (0..<c).map { Float($0) * 0.1 }) : s], threads: 1)
            let two = try H.run(op, [x, op == "PRelu" ? H.floats([c, 1], (0..<c).map { Float($0) * 0.1 }) : s], threads: 2)
            #expect(Array(one.floats) == Array(two.floats), "\(op)")
        }
        let big = try H.run("Sigmoid", [x], threads: 2)
        #expect(abs(big.floats[1] - 1 / (1 + exp(-x.floats[1]))) < 1e-6)
        let w = try H.run("Where", [H.array(.bool, [1, 1, hw], (0..<hw).map { UInt8($0 % 2) }), x, H.floats([], [0])], threads: 2)
        #expect(w.floats[1] == x.floats[1] && w.floats[2] == 0 && w.floats[2 * hw + 1] == x.floats[2 * hw + 1])
    }

    @Test func shapesThatDoNotBroadcastAreErrors() {
        let message = H.failure { _ = try H.run("Add", [H.floats([2, 3], Array(repeating: 0, count: 6)), H.floats([4], [0, 0, 0, 0])]) }
        #expect(message?.contains("broadcast") == true)
        let prelu = H.failure { _ = try H.run("PRelu", [H.floats([3], [1, 2, 3]), H.floats([2, 3], Array(repeating: 1, count: 6))]) }
        #expect(prelu?.contains("broadcast") == true)
        let types = H.failure { _ = try H.run("Add", [H.floats([1], [1]), H.array(.int64, [1], [Int64(1)])]) }
        #expect(types?.contains("element types") == true)
        let missing = H.failure { _ = try H.run("Add", [H.floats([1], [1]), nil]) }
        #expect(missing?.contains("missing") == true)
        let bounds = H.failure { _ = try H.run("Clip", [H.floats([2], [1, 2]), H.floats([2], [0, 0])]) }
        #expect(bounds?.contains("scalar") == true)
    }
}

@Suite struct ElementwiseArithmeticTests {
    typealias H = ElementwiseHarness

    @Test func integerDivisionTruncatesAndNeverTraps() throws {
        let a = H.array(.int32, [5], [Int32(7), -7, 7, Int32.min, 5])
        let b = H.array(.int32, [5], [Int32(2), 2, 0, -1, -2])
        #expect(H.values(try H.run("Div", [a, b]), as: Int32.self) == [3, -3, 0, Int32.min, -2])
    }

    @Test func modFollowsTheDivisorOrTheDividend() throws {
        let a = H.array(.int64, [4], [Int64(-7), 7, -7, 7]), b = H.array(.int64, [4], [Int64(3), -3, -3, 0])
        #expect(H.values(try H.run("Mod", [a, b]), as: Int64.self) == [2, -2, -1, 0])
        let fmod = try H.run("Mod", [a, b], attributes: [Attribute("fmod", .int(1))])
        #expect(H.values(fmod, as: Int64.self) == [-1, 1, -1, 0])
        let f = try H.run("Mod", [H.floats([2], [-7.5, 7.5]), H.floats([2], [2, 2])], attributes: [Attribute("fmod", .int(1))])
        #expect(Array(f.floats) == [-1.5, 1.5])
    }

    @Test func integerArithmeticWraps() throws {
        let a = H.array(.uint8, [2], [UInt8(250), 3]), b = H.array(.uint8, [2], [UInt8(10), 5])
        #expect(H.values(try H.run("Add", [a, b]), as: UInt8.self) == [4, 8])
        #expect(H.values(try H.run("Sub", [a, b]), as: UInt8.self) == [240, 254])
        #expect(H.values(try H.run("Neg", [H.array(.int8, [2], [Int8.min, 5])]), as: Int8.self) == [Int8.min, -5])
    }

    @Test func powWithMixedTypes() throws {
        let ints = H.array(.int64, [3], [Int64(2), -3, 2])
        #expect(H.values(try H.run("Pow", [ints, H.array(.int64, [3], [Int64(10), 3, -1])]), as: Int64.self) == [1024, -27, 0])
        #expect(H.values(try H.run("Pow", [ints, H.floats([3], [0.5, 2, 3])]), as: Int64.self) == [1, 9, 8])
        let f = try H.run("Pow", [H.floats([2], [2, 9]), H.array(.int32, [2], [Int32(3), 2])])
        #expect(f.elementType == .float32 && Array(f.floats) == [8, 81])
    }

    @Test func variadicOpsBroadcastAllInputs() throws {
        let a = H.floats([3], [1, 5, 3]), b = H.floats([2, 1], [2, 4]), c = H.floats([], [3.5])
        let max = try H.run("Max", [a, b, c])
        #expect(max.shape == [2, 3] && Array(max.floats) == [3.5, 5, 3.5, 4, 5, 4])
        let mean = try H.run("Mean", [a, b])
        #expect(Array(mean.floats) == [1.5, 3.5, 2.5, 2.5, 4.5, 3.5])
        let nan = try H.run("Min", [H.floats([2], [.nan, 1]), H.floats([2], [0, .nan])])
        #expect(nan.floats[0].isNaN && nan.floats[1].isNaN)
    }

    @Test func clipBoundsAndIntegers() throws {
        let x = H.array(.int8, [4], [Int8(-100), -5, 5, 100])
        let y = try H.run("Clip", [x, H.array(.int8, [], [Int8(-10)]), H.array(.int8, [], [Int8(10)])])
        #expect(H.values(y, as: Int8.self) == [-10, -5, 5, 10])
        let upperOnly = try H.run("Clip", [x, nil, H.array(.int8, [], [Int8(0)])])
        #expect(H.values(upperOnly, as: Int8.self) == [-100, -5, 0, 0])
        let old = try H.run("Clip", [H.floats([3], [-2, 0.5, 2])], attributes: [
            Attribute("min", .float(-1)), Attribute("max", .float(1)),
        ], opset: 6)
        #expect(Array(old.floats) == [-1, 0.5, 1])
    }

    @Test func roundsHalvesToEven() throws {
        let y = try H.run("Round", [H.floats([6], [0.5, 1.5, 2.5, -0.5, -1.5, 2.4])])
        #expect(Array(y.floats) == [0, 2, 2, -0, -2, 2])
    }

    @Test func halfPrecisionComputesThroughFloat32() throws {
        // 1.0 + 2^-11 is a tie between two halves; it rounds to even (1.0).
        let a = H.array(.float16, [2], [UInt16(0x3C00), 0x3C00]), b = H.array(.float16, [2], [UInt16(0x1000), 0x3C00])
        #expect(H.values(try H.run("Add", [a, b]), as: UInt16.self) == [0x3C00, 0x4000])
        let s = try H.run("Sigmoid", [H.array(.bfloat16, [1], [UInt16(0)])])
        #expect(H.values(s, as: UInt16.self) == [0x3F00])
    }
}

@Suite struct ElementwiseCastTests {
    typealias H = ElementwiseHarness

    static func cast(_ x: NDArray, to type: ElementType, _ extra: [Attribute] = []) throws -> NDArray {
        try H.run("Cast", [x], attributes: [Attribute("to", .int(Int64(type.rawValue)))] + extra)
    }

    @Test func floatToIntegerTruncatesAndNarrowingWraps() throws {
        let x = H.floats([6], [2.9, -2.9, 300, -129, .nan, 1e30])
        #expect(H.values(try Self.cast(x, to: .int8), as: Int8.self) == [2, -2, 44, 127, 0, -1])
        #expect(H.values(try Self.cast(x, to: .int64), as: Int64.self) == [2, -2, 300, -129, 0, Int64.max])
        let wide = H.array(.int64, [2], [Int64(200), -1])
        #expect(H.values(try Self.cast(wide, to: .int8), as: Int8.self) == [-56, -1])
        #expect(H.values(try Self.cast(wide, to: .uint16), as: UInt16.self) == [200, 65535])
        #expect(H.values(try Self.cast(H.floats([3], [0, -0.0, .nan]), to: .bool), as: UInt8.self) == [0, 0, 1])
    }

    @Test func float16RoundsToNearestEven() throws {
        // 1 + 2^-11 (a tie) → 1; 65520 (past the largest half, 65504) → ∞; 2^-25 → 0; -2^-24 → −smallest.
        let x = H.array(.float64, [4], [1 + 0x1p-11, 65520, 0x1p-25 , -0x1p-24])
        #expect(H.values(try Self.cast(x, to: .float16), as: UInt16.self) == [0x3C00, 0x7C00, 0, 0x8001])
        #expect(H.values(try Self.cast(H.floats([2], [1 + 0x1p-8, .nan]), to: .bfloat16), as: UInt16.self) == [0x3F80, 0x7FC0])
    }

    @Test func fastFloat32ToHalfAgreesWithTheGeneralEncoder() throws {
        // float32 → float16/bfloat16 uses bit arithmetic; float64 → them the general encoder.
        var values: [Float] = [0, -0.0, .infinity, -.infinity, .nan, 65504, 65519.996, 65520, 0x1p-24, 0x1p-25,
                               0x1.8p-25, 0x1p-26, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        var bits: UInt32 = 0x0001_2345
        for _ in 0..<40_000 {
            bits = bits &* 1_664_525 &+ 1_013_904_223
            let v = Float(bitPattern: bits)
            if !v.isNaN { values.append(v) }
        }
        let single = H.floats([values.count], values)
        let double = H.array(.float64, [values.count], values.map(Double.init))
        for type in [ElementType.float16, .bfloat16] {
            #expect(H.bytes(try Self.cast(single, to: type)) == H.bytes(try Self.cast(double, to: type)), "\(type)")
        }
    }

    @Test("every float16 and bfloat16 widens to float32 exactly, on one and two threads", arguments: [1, 2])
    func halvesWidenExactly(threads: Int) throws {
        let all = (0...UInt16.max).map { $0 }
        for (type, scalar) in [(ElementType.float16, halfToFloat), (.bfloat16, bfloat16ToFloat)] {
            let x = H.array(type, [all.count], all)
            let y = try H.run("Cast", [x], attributes: [Attribute("to", .int(Int64(ElementType.float32.rawValue)))], threads: threads)
            #expect(H.values(y, as: UInt32.self) == all.map { scalar($0).bitPattern }, "\(type)")
        }
        // Spot checks against the format: 1, the smallest subnormal 2^-24, −∞.
        let spots = try Self.cast(H.array(.float16, [3], [UInt16(0x3C00), 0x0001, 0xFC00]), to: .float32)
        #expect(Array(spots.floats) == [1, 0x1p-24, -.infinity])
    }

    @Test func subByteIntegersPackLowNibbleFirst() throws {
        let x = H.floats([5], [1, -1, 7, 8, 2])
        let y = try Self.cast(x, to: .int4)
        #expect(y.byteCount == 3 && H.bytes(y) == [0xF1, 0x87, 0x02])
        let back = try Self.cast(y, to: .float32)
        #expect(Array(back.floats) == [1, -1, 7, -8, 2])
    }

    @Test func castsInParallelBlocks() throws {
        // Several 4096-element blocks, the last one partial and ending mid-byte when packed.
        let n = 3 * 4096 + 3
        let x = H.floats([n], (0..<n).map { Float($0 % 16) - 8 })
        let one = try H.run("Cast", [x], attributes: [Attribute("to", .int(Int64(ElementType.int4.rawValue)))], threads: 1)
        let two = try H.run("Cast", [x], attributes: [Attribute("to", .int(Int64(ElementType.int4.rawValue)))], threads: 2)
        #expect(H.bytes(one) == H.bytes(two) && one.byteCount == (n + 1) / 2 && H.bytes(one).last == 0x0A)
        let back = try H.run("Cast", [two], attributes: [Attribute("to", .int(Int64(ElementType.float32.rawValue)))], threads: 2)
        #expect(Array(back.floats) == Array(x.floats))
    }

    @Test func float8SaturatesUnlessToldNot() throws {
        let x = H.floats([4], [1e6, -1e6, .infinity, -0.0])
        #expect(H.bytes(try Self.cast(x, to: .float8e4m3fn)) == [0x7E, 0xFE, 0x7E, 0x80])
        #expect(H.bytes(try Self.cast(x, to: .float8e4m3fnuz)) == [0x7F, 0xFF, 0x7F, 0x00])
        let exact = try Self.cast(x, to: .float8e5m2, [Attribute("saturate", .int(0))])
        #expect(H.bytes(exact) == [0x7C, 0xFC, 0x7C, 0x80])
    }

    /// The harness compares float outputs by value, which it cannot decode for float8 and float4;
    /// these compare the backend tests' bytes.
    @Test(.enabled(if: Conformance.folder != nil))
    func narrowFloatCastsMatchTheBackendTestsBitForBit() throws {
        let narrow: Set<ElementType> = [.float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz, .float8e8m0, .float4e2m1]
        var checked = 0
        for name in Conformance.testNames() where name.hasPrefix("test_cast") {
            let directory = Conformance.folder!.appendingPathComponent(name)
            let model = try ONNXFormat.read(contentsOf: directory.appendingPathComponent("model.onnx"))
            let set = directory.appendingPathComponent("test_data_set_0")
            let expected = try ONNXFormat.decodeTensor(Data(contentsOf: set.appendingPathComponent("output_0.pb")), baseDirectory: set, source: name)
            guard narrow.contains(expected.elementType) else { continue }
            var feeds: [String: NDArray] = [:]
            for (k, input) in model.graph.runtimeInputs.enumerated() {
                let url = set.appendingPathComponent("input_\(k).pb")
                feeds[input.name] = try NDArray(ONNXFormat.decodeTensor(Data(contentsOf: url), baseDirectory: set, source: name))
            }
            let actual = try Session(model: model).run(feeds)[model.graph.outputs[0].name]!
            #expect(H.bytes(actual) == [UInt8](expected.bytes ?? Data()), "\(name)")
            checked += 1
        }
        #expect(checked > 20)
    }
}
