import Graph

// Shared by QuantizeLinear and DequantizeLinear: how scales and zero points map onto elements,
// and reading/writing every quantized element type (8/16-bit integers, packed int4/uint4 and
// int2/uint2 with the lowest bits first, the float8 variants and float4e2m1, whose codecs are
// Graph's SmallFloatFormat).

/// Reading and writing the element types quantization uses.
enum QuantizedElements {
    /// The range of an integer quantized type.
    static func integerRange(_ type: ElementType) -> ClosedRange<Int64>? {
        switch type {
        case .uint8: 0...255
        case .int8: -128...127
        case .uint16: 0...65535
        case .int16: -32768...32767
        case .int32: Int64(Int32.min)...Int64(Int32.max)
        case .uint4: 0...15
        case .int4: -8...7
        case .uint2: 0...3
        case .int2: -2...1
        default: nil
        }
    }

    /// The format of a float8 or float4e2m1 `type` (the minifloats quantization reads and
    /// writes, through Graph's SmallFloatFormat); nil for other types.
    static func minifloat(_ type: ElementType) -> SmallFloatFormat? {
        SmallFloatFormat.of(type).flatMap { $0.bitWidth <= 8 ? $0 : nil }
    }

    /// Every element as Float: floating types, integers, bool, packed 4- and 2-bit integers,
    /// float8 and float4; nil for other types.
    static func floats(_ array: NDArray) -> [Float]? {
        let n = array.count
        func map<T>(_: T.Type, _ f: (T) -> Float) -> [Float] {
            UnsafeBufferPointer(start: array.pointer(as: T.self), count: n).map(f)
        }
        switch array.elementType {
        case .float32: return map(Float.self) { $0 }
        case .float64: return map(Double.self) { Float($0) }
        case .float16: return map(UInt16.self, HalfStorage.load)
        case .bfloat16: return map(UInt16.self, BFloat16Storage.load)
        case .int8: return map(Int8.self) { Float($0) }
        case .uint8, .bool: return map(UInt8.self) { Float($0) }
        case .int16: return map(Int16.self) { Float($0) }
        case .uint16: return map(UInt16.self) { Float($0) }
        case .int32: return map(Int32.self) { Float($0) }
        case .uint32: return map(UInt32.self) { Float($0) }
        case .int64: return map(Int64.self) { Float($0) }
        case .uint64: return map(UInt64.self) { Float($0) }
        case .uint4, .int4, .uint2, .int2, .float4e2m1:
            let bits = array.elementType.bitWidth!, mask = UInt8((1 << bits) - 1)
            let signed = array.elementType == .int4 || array.elementType == .int2
            let values = minifloat(array.elementType).map(decodingTable)
            let bytes = array.pointer(as: UInt8.self)
            return (0..<n).map { i in
                let raw = (bytes[i * bits / 8] >> UInt8(i * bits % 8)) & mask
                if let values { return values[Int(raw)] }
                // Sign-extend from `bits` bits.
                return signed ? Float(Int8(bitPattern: raw << UInt8(8 - bits)) >> Int8(8 - bits)) : Float(raw)
            }
        default:
            guard let values = minifloat(array.elementType).map(decodingTable) else { return nil }
            return map(UInt8.self) { values[Int($0)] }
        }
    }

    /// The value of every code of a minifloat format, indexed by code.
    private static func decodingTable(_ format: SmallFloatFormat) -> [Float] {
        (0..<(UInt32(1) << UInt32(format.bitWidth))).map { Float(format.decode($0)) }
    }

    /// Writes `codes` (values already in the type's range, or minifloat codes) into `array`,
    /// packing sub-byte types lowest bits first with the unused bits of the last byte zero.
    static func store(_ codes: [Int64], into array: NDArray) {
        let n = min(codes.count, array.count)
        switch array.elementType.bitWidth ?? 8 {
        case 32:
            let out = array.pointer(as: Int32.self)
            for i in 0..<n { out[i] = Int32(truncatingIfNeeded: codes[i]) }
        case 16:
            let out = array.pointer(as: UInt16.self)
            for i in 0..<n { out[i] = UInt16(truncatingIfNeeded: codes[i]) }
        case 8:
            let out = array.pointer(as: UInt8.self)
            for i in 0..<n { out[i] = UInt8(truncatingIfNeeded: codes[i]) }
        case let bits:
            let out = array.pointer(as: UInt8.self), mask = Int64((1 << bits) - 1)
            for b in 0..<array.byteCount { out[b] = 0 }
            for i in 0..<n { out[i * bits / 8] |= UInt8((codes[i] & mask) << Int64(i * bits % 8)) }
        }
    }
}

/// How the scale and zero point of QuantizeLinear/DequantizeLinear map onto x: one pair for the
/// whole tensor (a scalar or one-element scale), one per index of `axis` (a 1-D scale), or one per
/// block of `block_size` elements along `axis` (a scale shaped like x but with ⌈dim / block⌉ there).
struct QuantizationLayout {
    private enum Mode { case perTensor, perAxis, blocked(Int) }
    private let mode: Mode
    private let count: Int
    private let axisSize: Int
    private let inner: Int
    private let blocks: Int

    init(x: [Int], scale: [Int], axis: Int64, blockSize: Int64, _ context: KernelContext) throws {
        count = x.reduce(1, *)
        let scaleCount = scale.reduce(1, *)
        if scaleCount == 1 {
            (mode, axisSize, inner, blocks) = (.perTensor, 1, 1, 1)
            return
        }
        guard let resolved = NormSupport.axis(axis, rank: x.count) else {
            throw context.failure("axis \(axis) is out of range for input of shape \(x)")
        }
        (axisSize, inner) = (x[resolved], x[(resolved + 1)...].reduce(1, *))
        if blockSize <= 0 {
            guard scale.count == 1, scale[0] == axisSize else {
                throw context.failure("scale of shape \(scale) does not give one value per index of axis \(resolved) of x \(x)")
            }
            (mode, blocks) = (.perAxis, axisSize)
        } else {
            let size = Int(min(blockSize, Int64(Int32.max)))
            var expected = x
            expected[resolved] = x[resolved] == 0 ? 0 : (x[resolved] - 1) / size + 1
            guard scale == expected else {
                throw context.failure("scale of shape \(scale) does not fit blocks of \(size) along axis \(resolved) of x \(x) (expected \(expected))")
            }
            (mode, blocks) = (.blocked(size), expected[resolved])
        }
    }

    /// Calls `body(i, p)` for every element `i` of x with the index `p` of its scale and zero
    /// point, over parallel chunks.
    func forEach(threads: Int, _ body: (Int, Int) -> Void) {
        switch mode {
        case .perTensor:
            Parallel.chunks(count, threads: threads, grain: 16_384) { range in
                for i in range { body(i, 0) }
            }
        case .perAxis, .blocked:
            let rows = inner == 0 ? 0 : count / inner
            Parallel.chunks(rows, threads: threads, grain: NormSupport.grain(workPerItem: inner)) { range in
                for row in range {
                    let a = row % axisSize, start = row * inner
                    switch mode {
                    case .blocked(let size):
                        let first = ((row / axisSize) * blocks + a / size) * inner
                        for r in 0..<inner { body(start + r, first + r) }
                    default:
                        for r in 0..<inner { body(start + r, a) }
                    }
                }
            }
        }
    }
}
