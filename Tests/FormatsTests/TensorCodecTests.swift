import Foundation
import Graph
import Testing
@testable import Formats

/// One element type stored through its typed field, and the packed bytes the IR must hold.
struct TypedCase: CustomStringConvertible, Sendable {
    let type: ElementType
    let dims: [Int64]
    let expected: [UInt8]
    let fill: @Sendable (inout Onnx_TensorProto) -> Void

    var description: String { "\(type)" }
}

private func le<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
    values.flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } }
}

let typedCases: [TypedCase] = [
    TypedCase(type: .float32, dims: [3], expected: le([Float(1.5), -2, 0.25].map(\.bitPattern))) { $0.floatData = [1.5, -2, 0.25] },
    TypedCase(type: .complex64, dims: [2], expected: le([Float(1), 2, 3, 4].map(\.bitPattern))) { $0.floatData = [1, 2, 3, 4] },
    TypedCase(type: .float64, dims: [2], expected: le([1.25, -1e300].map(\.bitPattern))) { $0.doubleData = [1.25, -1e300] },
    TypedCase(type: .complex128, dims: [1], expected: le([0.5, -0.5].map(\.bitPattern))) { $0.doubleData = [0.5, -0.5] },
    TypedCase(type: .int64, dims: [3], expected: le([Int64(-1), 5, .max])) { $0.int64Data = [-1, 5, .max] },
    TypedCase(type: .uint64, dims: [2], expected: le([UInt64.max, 7])) { $0.uint64Data = [.max, 7] },
    TypedCase(type: .uint32, dims: [2], expected: le([UInt32.max, 1])) { $0.uint64Data = [UInt64(UInt32.max), 1] },
    TypedCase(type: .int32, dims: [3], expected: le([Int32(-1), 2, .min])) { $0.int32Data = [-1, 2, .min] },
    TypedCase(type: .int16, dims: [3], expected: le([Int16(-2), 300, 7])) { $0.int32Data = [-2, 300, 7] },
    TypedCase(type: .uint16, dims: [2], expected: le([UInt16(65535), 1])) { $0.int32Data = [65535, 1] },
    TypedCase(type: .float16, dims: [3], expected: le([UInt16(0x3C00), 0xC000, 0x7BFF])) { $0.int32Data = [0x3C00, 0xC000, 0x7BFF] },
    TypedCase(type: .bfloat16, dims: [2], expected: le([UInt16(0x3F80), 0xBF80])) { $0.int32Data = [0x3F80, 0xBF80] },
    TypedCase(type: .int8, dims: [3], expected: [0xFF, 0x7F, 0x80]) { $0.int32Data = [-1, 127, -128] },
    TypedCase(type: .uint8, dims: [3], expected: [255, 0, 1]) { $0.int32Data = [255, 0, 1] },
    TypedCase(type: .bool, dims: [3], expected: [1, 0, 1]) { $0.int32Data = [1, 0, 1] },
    TypedCase(type: .float8e4m3fn, dims: [2], expected: [0x38, 0xFE]) { $0.int32Data = [0x38, 0xFE] },
    TypedCase(type: .float8e4m3fnuz, dims: [2], expected: [0x40, 0x80]) { $0.int32Data = [0x40, 0x80] },
    TypedCase(type: .float8e5m2, dims: [2], expected: [0x3C, 0x7B]) { $0.int32Data = [0x3C, 0x7B] },
    TypedCase(type: .float8e5m2fnuz, dims: [1], expected: [0x40]) { $0.int32Data = [0x40] },
    TypedCase(type: .float8e8m0, dims: [2], expected: [0x7F, 0xFF]) { $0.int32Data = [0x7F, 0xFF] },
    // 4-bit: two elements per int32 entry (as onnx.helper.make_tensor writes [1, -2, 3] → [225, 3]).
    TypedCase(type: .int4, dims: [3], expected: [225, 3]) { $0.int32Data = [225, 3] },
    TypedCase(type: .uint4, dims: [3], expected: [0x21, 0x03]) { $0.int32Data = [0x21, 0x03] },
    TypedCase(type: .float4e2m1, dims: [2, 2], expected: [0x21, 0x43]) { $0.int32Data = [0x21, 0x43] },
    // 2-bit: four elements per entry ([0, 1, 2, 3, 1] → [228, 1]).
    TypedCase(type: .uint2, dims: [5], expected: [228, 1]) { $0.int32Data = [228, 1] },
    TypedCase(type: .int2, dims: [4], expected: [0x1B]) { $0.int32Data = [0x1B] },
    // 6-bit: one element per entry, packed into a bit stream ([1, 2, 3, 63, 5] → onnx's _pack_6bit).
    TypedCase(type: .float6e2m3, dims: [5], expected: [129, 48, 252, 5]) { $0.int32Data = [1, 2, 3, 63, 5] },
    TypedCase(type: .float6e3m2, dims: [1], expected: [0x3F]) { $0.int32Data = [0x7F] },
]

@Suite("ONNX tensor data")
struct TensorCodecTests {
    let reader = ONNXReader(source: "tensors.onnx", baseDirectory: nil)

    @Test("every element type has a typed-field case")
    func coverage() {
        let covered = Set(typedCases.map(\.type)).union([.string, .undefined])
        #expect(covered == Set(ElementType.allCases))
    }

    @Test("typed fields decode to packed little-endian bytes", arguments: typedCases)
    func typedField(_ c: TypedCase) throws {
        var proto = ProtoBuilder.tensor("t", Int32(c.type.rawValue), c.dims)
        c.fill(&proto)
        let tensor = try reader.tensor(proto, "test")
        #expect(tensor.elementType == c.type)
        #expect(tensor.shape == c.dims.map { Int($0) })
        #expect(tensor.bytes == Data(c.expected))
        #expect(tensor.carried.isEmpty)
        try tensor.validate()

        // Written back as raw_data, and read back the same.
        let written = try ONNXWriter(source: "t", externalMinimumBytes: nil, externalLocation: "").tensor(tensor, "test")
        #expect(written.hasRawData && written.rawData == Data(c.expected))
        #expect(try reader.tensor(written, "test") == tensor)
    }

    @Test("raw_data decodes to the same bytes for every type", arguments: typedCases)
    func rawData(_ c: TypedCase) throws {
        var proto = ProtoBuilder.tensor("t", Int32(c.type.rawValue), c.dims)
        proto.rawData = Data(c.expected)
        let tensor = try reader.tensor(proto, "test")
        #expect(tensor.bytes == Data(c.expected))
        #expect(tensor.carried.isEmpty)
    }

    @Test("raw_data of the wrong length is an error naming the tensor, sizes and shape", arguments: typedCases)
    func rawDataLength(_ c: TypedCase) throws {
        var proto = ProtoBuilder.tensor("t", Int32(c.type.rawValue), c.dims)
        proto.rawData = Data(c.expected + [0])
        let message = formatError { () throws(FormatError) in _ = try reader.tensor(proto, "test") }
        #expect(message == "tensors.onnx: tensor 't': raw_data has \(c.expected.count + 1) bytes, shape \(c.dims) of \(c.type) needs \(c.expected.count)")
    }

    @Test("typed fields with the wrong count are an error")
    func typedFieldCount() {
        var proto = ProtoBuilder.tensor("conv1.weight", 1, [4, 4])
        proto.floatData = Array(repeating: 1, count: 15)
        #expect(formatError { () throws(FormatError) in _ = try reader.tensor(proto, "test") }
            == "tensors.onnx: tensor 'conv1.weight': float_data has 15 values, shape [4, 4] of float32 needs 16")
        var empty = ProtoBuilder.tensor("w", 7, [2])
        empty.int32Data = [1, 2]  // the wrong field for int64
        let message = formatError { () throws(FormatError) in _ = try reader.tensor(empty, "test") }
        #expect(message?.contains("no raw_data, no int64_data") == true, "\(message ?? "")")
    }

    @Test("strings come from string_data")
    func strings() throws {
        var proto = ProtoBuilder.tensor("s", 8, [3])
        proto.stringData = [Data("a".utf8), Data(), Data([0xC3, 0x28])]
        let tensor = try reader.tensor(proto, "test")
        #expect(tensor.storage == .strings([Data("a".utf8), Data(), Data([0xC3, 0x28])]))
        proto.stringData.removeLast()
        #expect(formatError { () throws(FormatError) in _ = try reader.tensor(proto, "test") }
            == "tensors.onnx: tensor 's': string_data has 2 strings, shape [3] needs 3")
    }

    @Test("bad dims and data types are errors, not traps")
    func badShapes() {
        var negative = ProtoBuilder.tensor("n", 1, [2, -1])
        negative.rawData = Data(count: 8)
        #expect(formatError { () throws(FormatError) in _ = try reader.tensor(negative, "test") }?.contains("negative dimension") == true)
        let huge = ProtoBuilder.tensor("h", 1, [Int64.max, Int64.max, 0])
        #expect(formatError { () throws(FormatError) in _ = try reader.tensor(huge, "test") }?.contains("more elements than can be addressed") == true)
        let wide = ProtoBuilder.tensor("wide", 15, [Int64(Int.max / 64)])
        #expect(formatError { () throws(FormatError) in _ = try reader.tensor(wide, "test") }?.contains("need more bytes") == true)
        let unknown = ProtoBuilder.tensor("u", 99, [1])
        #expect(formatError { () throws(FormatError) in _ = try reader.tensor(unknown, "test") } == "tensors.onnx: tensor 'u': unknown data_type 99")
        let undefined = ProtoBuilder.tensor("", 0, [1])
        #expect(formatError { () throws(FormatError) in _ = try reader.tensor(undefined, "node 'c' (Constant)") }
            == "tensors.onnx: tensor in node 'c' (Constant): data_type is UNDEFINED")
    }

    @Test("raw_data takes precedence; a stray typed field is carried, not lost")
    func strayTypedField() throws {
        var proto = ProtoBuilder.tensor("t", 1, [1])
        proto.rawData = Fixtures.floats([2])
        proto.int64Data = [9]
        let tensor = try reader.tensor(proto, "test")
        #expect(tensor.bytes == Fixtures.floats([2]))
        #expect(!tensor.carried.isEmpty)
        let written = try ONNXWriter(source: "t", externalMinimumBytes: nil, externalLocation: "").tensor(tensor, "test")
        #expect(written.int64Data == [9])
        #expect(written.rawData == Fixtures.floats([2]))
    }

    @Test("loading a model does not copy raw_data again after protobuf decoding")
    func noCopy() throws {
        let weights = Fixtures.floats((0..<4096).map(Float.init))
        var proto = ProtoBuilder.tensor("w", 1, [4096])
        proto.rawData = weights
        let tensor = try reader.tensor(proto, "test")
        let source = proto.rawData.withUnsafeBytes { $0.baseAddress }
        let stored = tensor.bytes?.withUnsafeBytes { $0.baseAddress }
        #expect(source == stored)
    }
}
