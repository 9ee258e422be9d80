import Graph

// Shared by QuantizeLinear and DequantizeLinear: how scales and zero points map onto elements,
// and reading/writing every quantized element type (8/16-bit integers, packed int4/uint4 and
// int2/uint2 with the lowest bits first, the float8 variants and float4e2m1).

/// A floating-point format of at most 8 bits: decoded through a table of every code, encoded by
/// rounding to the nearest code (ties to even) under ONNX's saturation rules.
struct MinifloatFormat: Sendable {
    /// Which codes are not finite numbers.
    enum Specials: Sendable {
        /// Infinities and NaNs at the largest exponent, as in IEEE (float8e5m2).
        case ieee
        /// Only S.1111.111 is NaN; no infinities (float8e4m3fn).
        case allOnesNaN
        /// Only the negative-zero code is NaN; no infinities, no −0 (the "fnuz" types).
        case negativeZeroNaN
        /// Every code is finite (float4e2m1).
        case none
    }

    let exponentBits: Int
    let mantissaBits: Int
    let specials: Specials
    /// The value of each code.
    let values: [Float]
    /// The largest finite positive code.
    let maxCode: Int
    var signBit: Int { 1 << (exponentBits + mantissaBits) }

    init(exponentBits: Int, mantissaBits: Int, bias: Int, specials: Specials) {
        self.exponentBits = exponentBits
        self.mantissaBits = mantissaBits
        self.specials = specials
        let sign = 1 << (exponentBits + mantissaBits)
        let allExponent = (1 << exponentBits) - 1, allMantissa = (1 << mantissaBits) - 1
        values = (0..<(2 * sign)).map { code in
            let exponent = (code >> mantissaBits) & allExponent, mantissa = code & allMantissa
            switch specials {
            case .ieee where exponent == allExponent: return mantissa == 0 ? (code & sign != 0 ? -.infinity : .infinity) : .nan
            case .allOnesNaN where exponent == allExponent && mantissa == allMantissa: return .nan
            case .negativeZeroNaN where code == sign: return .nan
            default: break
            }
            let magnitude = exponent == 0
                ? Float(mantissa) * Float(sign: .plus, exponent: 1 - bias - mantissaBits, significand: 1)
                : (1 + Float(mantissa) / Float(1 << mantissaBits)) * Float(sign: .plus, exponent: exponent - bias, significand: 1)
            return code & sign != 0 ? -magnitude : magnitude
        }
        switch specials {
        case .ieee: maxCode = (allExponent << mantissaBits) - 1
        case .allOnesNaN: maxCode = sign - 2
        case .negativeZeroNaN, .none: maxCode = sign - 1
        }
    }

    static let float8e4m3fn = MinifloatFormat(exponentBits: 4, mantissaBits: 3, bias: 7, specials: .allOnesNaN)
    static let float8e4m3fnuz = MinifloatFormat(exponentBits: 4, mantissaBits: 3, bias: 8, specials: .negativeZeroNaN)
    static let float8e5m2 = MinifloatFormat(exponentBits: 5, mantissaBits: 2, bias: 15, specials: .ieee)
    static let float8e5m2fnuz = MinifloatFormat(exponentBits: 5, mantissaBits: 2, bias: 16, specials: .negativeZeroNaN)
    static let float4e2m1 = MinifloatFormat(exponentBits: 2, mantissaBits: 1, bias: 1, specials: .none)

    /// The format of `type`, when it is one of these.
    static func of(_ type: ElementType) -> MinifloatFormat? {
        switch type {
        case .float8e4m3fn: float8e4m3fn
        case .float8e4m3fnuz: float8e4m3fnuz
        case .float8e5m2: float8e5m2
        case .float8e5m2fnuz: float8e5m2fnuz
        case .float4e2m1: float4e2m1
        default: nil
        }
    }

    /// The code nearest `x` (ties to the even code). Beyond the largest finite value: with
    /// `saturate` (and always for float4e2m1, which has nothing else) the largest value of that
    /// sign; without, infinity where the format has it, else NaN.
    func encode(_ x: Float, saturate: Bool) -> UInt8 {
        let sign = signBit
        if x.isNaN {
            switch specials {
            case .ieee: return UInt8(((1 << exponentBits) - 1) << mantissaBits | 1 << (mantissaBits - 1))
            case .allOnesNaN: return UInt8(sign - 1)
            case .negativeZeroNaN: return UInt8(sign)
            // float4e2m1 has no NaN; ml_dtypes (the ONNX reference) gives −0.
            case .none: return UInt8(sign)
            }
        }
        let magnitude = Double(Swift.abs(x))
        let largest = Double(values[maxCode])
        var code: Int
        if magnitude > largest {
            // Round against the next value the format would have if its exponent range went on.
            let halfway = largest + (largest - Double(values[maxCode - 1])) / 2
            if saturate || specials == .none || magnitude < halfway || (magnitude == halfway && maxCode % 2 == 0) {
                code = maxCode
            } else {
                switch specials {
                case .ieee: code = ((1 << exponentBits) - 1) << mantissaBits
                case .allOnesNaN: code = sign - 1
                default: return UInt8(sign)
                }
            }
        } else {
            // Largest code whose value is at most the magnitude; positive codes are increasing.
            var low = 0, high = maxCode
            while low < high {
                let mid = (low + high + 1) / 2
                if Double(values[mid]) <= magnitude { low = mid } else { high = mid - 1 }
            }
            code = low
            if low < maxCode, Double(values[low]) != magnitude {
                let below = magnitude - Double(values[low]), above = Double(values[low + 1]) - magnitude
                if above < below || (above == below && low % 2 == 1) { code = low + 1 }
            }
        }
        if x.sign == .minus {
            if specials == .negativeZeroNaN && code == 0 { return 0 }
            code |= sign
        }
        return UInt8(code)
    }
}

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
            let format = MinifloatFormat.of(array.elementType)
            let bytes = array.pointer(as: UInt8.self)
            return (0..<n).map { i in
                let raw = (bytes[i * bits / 8] >> UInt8(i * bits % 8)) & mask
                if let format { return format.values[Int(raw)] }
                // Sign-extend from `bits` bits.
                return signed ? Float(Int8(bitPattern: raw << UInt8(8 - bits)) >> Int8(8 - bits)) : Float(raw)
            }
        default:
            guard let format = MinifloatFormat.of(array.elementType) else { return nil }
            return map(UInt8.self) { format.values[Int($0)] }
        }
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
