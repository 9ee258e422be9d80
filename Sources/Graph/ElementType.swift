/// The element type of a tensor.
///
/// Raw values follow the ONNX `TensorProto.DataType` numbering, which is also what most tools print;
/// codecs still map them explicitly so that the IR does not depend on any file format.
public enum ElementType: Int, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case undefined = 0
    case float32 = 1
    case uint8 = 2
    case int8 = 3
    case uint16 = 4
    case int16 = 5
    case int32 = 6
    case int64 = 7
    case string = 8
    case bool = 9
    case float16 = 10
    case float64 = 11
    case uint32 = 12
    case uint64 = 13
    case complex64 = 14
    case complex128 = 15
    case bfloat16 = 16
    case float8e4m3fn = 17
    case float8e4m3fnuz = 18
    case float8e5m2 = 19
    case float8e5m2fnuz = 20
    case uint4 = 21
    case int4 = 22
    case float4e2m1 = 23
    case float8e8m0 = 24
    case uint2 = 25
    case int2 = 26
    case float6e2m3 = 27
    case float6e3m2 = 28

    /// Storage bits per element in a packed little-endian buffer; nil for strings and undefined.
    public var bitWidth: Int? {
        switch self {
        case .undefined, .string: nil
        case .bool, .uint8, .int8, .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz, .float8e8m0: 8
        case .uint16, .int16, .float16, .bfloat16: 16
        case .int32, .uint32, .float32: 32
        case .int64, .uint64, .float64, .complex64: 64
        case .complex128: 128
        case .uint4, .int4, .float4e2m1: 4
        case .uint2, .int2: 2
        case .float6e2m3, .float6e3m2: 6
        }
    }

    /// Bytes needed to store `count` elements packed (sub-byte types round up to whole bytes).
    public func byteCount(forElements count: Int) -> Int? {
        guard let bits = bitWidth else { return nil }
        return (count * bits + 7) / 8
    }

    /// True for types whose values are real numbers stored as floating point (of any width).
    public var isFloatingPoint: Bool {
        switch self {
        case .float32, .float16, .float64, .bfloat16, .float8e4m3fn, .float8e4m3fnuz, .float8e5m2,
             .float8e5m2fnuz, .float8e8m0, .float4e2m1, .float6e2m3, .float6e3m2: true
        default: false
        }
    }

    /// True for signed and unsigned integer types (bool excluded).
    public var isInteger: Bool {
        switch self {
        case .uint8, .int8, .uint16, .int16, .int32, .int64, .uint32, .uint64, .uint4, .int4, .uint2, .int2: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .undefined: "undefined"
        case .float32: "float32"
        case .uint8: "uint8"
        case .int8: "int8"
        case .uint16: "uint16"
        case .int16: "int16"
        case .int32: "int32"
        case .int64: "int64"
        case .string: "string"
        case .bool: "bool"
        case .float16: "float16"
        case .float64: "float64"
        case .uint32: "uint32"
        case .uint64: "uint64"
        case .complex64: "complex64"
        case .complex128: "complex128"
        case .bfloat16: "bfloat16"
        case .float8e4m3fn: "float8e4m3fn"
        case .float8e4m3fnuz: "float8e4m3fnuz"
        case .float8e5m2: "float8e5m2"
        case .float8e5m2fnuz: "float8e5m2fnuz"
        case .uint4: "uint4"
        case .int4: "int4"
        case .float4e2m1: "float4e2m1"
        case .float8e8m0: "float8e8m0"
        case .uint2: "uint2"
        case .int2: "int2"
        case .float6e2m3: "float6e2m3"
        case .float6e3m2: "float6e3m2"
        }
    }
}
