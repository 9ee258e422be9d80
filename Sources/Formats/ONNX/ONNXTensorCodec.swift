import Foundation
import Graph

/// Converts ONNX tensor data — `raw_data`, the typed fields, or external data — into the IR's
/// packed little-endian bytes, following the rules in onnx.proto and `onnx.numpy_helper.to_array`.
enum ONNXTensorCodec {
    /// Which typed field holds elements of `type` when `raw_data` is not used.
    enum TypedField: String {
        case floatData = "float_data"
        case int32Data = "int32_data"
        case stringData = "string_data"
        case int64Data = "int64_data"
        case doubleData = "double_data"
        case uint64Data = "uint64_data"
    }

    static func typedField(for type: ElementType) -> TypedField? {
        switch type {
        case .undefined: nil
        case .float32, .complex64: .floatData
        case .float64, .complex128: .doubleData
        case .int64: .int64Data
        case .uint32, .uint64: .uint64Data
        case .string: .stringData
        case .int32, .int16, .int8, .uint16, .uint8, .bool, .float16, .bfloat16, .float8e4m3fn, .float8e4m3fnuz,
             .float8e5m2, .float8e5m2fnuz, .float8e8m0, .uint4, .int4, .float4e2m1, .uint2, .int2,
             .float6e2m3, .float6e3m2: .int32Data
        }
    }

    /// Number of entries of the typed field that hold `count` elements of `type`.
    static func typedEntryCount(for type: ElementType, elements count: Int) -> Int {
        switch type {
        case .complex64, .complex128: count * 2  // cannot overflow: byte counts were checked first
        case .uint4, .int4, .float4e2m1: (count + 1) / 2
        case .uint2, .int2: (count + 3) / 4
        default: count
        }
    }

    /// Number of entries the tensor's typed field for `field` holds.
    static func entryCount(_ t: Onnx_TensorProto, _ field: TypedField) -> Int {
        switch field {
        case .floatData: t.floatData.count
        case .int32Data: t.int32Data.count
        case .stringData: t.stringData.count
        case .int64Data: t.int64Data.count
        case .doubleData: t.doubleData.count
        case .uint64Data: t.uint64Data.count
        }
    }

    /// The packed little-endian bytes of the typed field; counts must have been checked.
    static func bytesFromTypedField(_ t: Onnx_TensorProto, type: ElementType, elements: Int) -> Data {
        switch type {
        case .float32, .complex64: return littleEndianBytes(t.floatData.map(\.bitPattern))
        case .float64, .complex128: return littleEndianBytes(t.doubleData.map(\.bitPattern))
        case .int64: return littleEndianBytes(t.int64Data)
        case .uint64: return littleEndianBytes(t.uint64Data)
        case .uint32: return narrowed(t.uint64Data, to: UInt32.self)
        case .int32: return littleEndianBytes(t.int32Data)
        case .int16, .uint16, .float16, .bfloat16: return narrowed(t.int32Data, to: UInt16.self)
        case .float6e2m3, .float6e3m2: return packSixBit(t.int32Data, elements: elements)
        // 8-bit types hold one element per entry, 4- and 2-bit types one packed byte per entry.
        default: return narrowed(t.int32Data, to: UInt8.self)
        }
    }

    /// Writes values as little-endian bytes without going element by element on little-endian hosts.
    static func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> Data {
        #if _endian(little)
        return values.withUnsafeBytes { Data($0) }
        #else
        return values.map(\.littleEndian).withUnsafeBytes { Data($0) }
        #endif
    }

    /// Truncates each value to `T` and writes it little-endian.
    static func narrowed<Source: BinaryInteger, T: FixedWidthInteger>(_ values: [Source], to: T.Type) -> Data {
        let width = MemoryLayout<T>.size
        var out = Data(count: values.count * width)
        out.withUnsafeMutableBytes { raw in
            for (i, v) in values.enumerated() {
                raw.storeBytes(of: T(truncatingIfNeeded: v).littleEndian, toByteOffset: i * width, as: T.self)
            }
        }
        return out
    }

    /// Packs 6-bit values (the low 6 bits of each entry) into an LSB-first bit stream.
    static func packSixBit(_ values: [Int32], elements: Int) -> Data {
        var out = Data(count: (elements * 6 + 7) / 8)
        out.withUnsafeMutableBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            for (i, v) in values.prefix(elements).enumerated() {
                let bits = UInt16(UInt32(bitPattern: v) & 0x3F) << UInt16((i * 6) % 8)
                let at = (i * 6) / 8
                bytes[at] |= UInt8(truncatingIfNeeded: bits)
                if at + 1 < bytes.count { bytes[at + 1] |= UInt8(truncatingIfNeeded: bits >> 8) }
            }
        }
        return out
    }

    /// Number of elements of `dims`, or nil if a dim is negative or the product overflows.
    static func elementCount(_ dims: [Int]) -> Int? {
        var count = 1
        for d in dims {
            guard d >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else { return nil }
            count = product
        }
        return count
    }

    /// Bytes `count` elements of `type` occupy packed, or nil if that overflows or `type` has no width.
    static func byteCount(_ type: ElementType, elements count: Int) -> Int? {
        guard let bits = type.bitWidth else { return nil }
        let (total, overflow) = count.multipliedReportingOverflow(by: bits)
        guard !overflow, total <= Int.max - 7 else { return nil }
        return (total + 7) / 8
    }
}
