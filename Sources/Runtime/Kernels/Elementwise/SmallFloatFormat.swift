import Graph

/// A binary floating-point format narrower than float32 (float16, bfloat16, the float8 and float4
/// types), described by its field widths and by how it spends its special encodings. One encoder
/// and one decoder serve them all, so every cast rounds the same way: to nearest, ties to even.
struct SmallFloatFormat: Sendable {
    /// What the format does with its largest exponent and with the sign bit of zero.
    enum Specials: Sendable {
        /// IEEE 754: the all-ones exponent holds ±infinity and NaNs.
        case ieee
        /// No infinity; only S.1111.111 is NaN (float8e4m3fn).
        case finite
        /// No infinity and no negative zero; the negative-zero pattern is the only NaN (the "fnuz" types).
        case unsignedZero
        /// No infinity and no NaN (float4e2m1).
        case none
    }

    let exponentBits: Int
    let mantissaBits: Int
    let bias: Int
    let specials: Specials

    static let float16 = SmallFloatFormat(exponentBits: 5, mantissaBits: 10, bias: 15, specials: .ieee)
    static let bfloat16 = SmallFloatFormat(exponentBits: 8, mantissaBits: 7, bias: 127, specials: .ieee)
    static let float8e4m3fn = SmallFloatFormat(exponentBits: 4, mantissaBits: 3, bias: 7, specials: .finite)
    static let float8e4m3fnuz = SmallFloatFormat(exponentBits: 4, mantissaBits: 3, bias: 8, specials: .unsignedZero)
    static let float8e5m2 = SmallFloatFormat(exponentBits: 5, mantissaBits: 2, bias: 15, specials: .ieee)
    static let float8e5m2fnuz = SmallFloatFormat(exponentBits: 5, mantissaBits: 2, bias: 16, specials: .unsignedZero)
    static let float4e2m1 = SmallFloatFormat(exponentBits: 2, mantissaBits: 1, bias: 1, specials: .none)

    /// The format of an element type, when it is one of these.
    static func of(_ type: ElementType) -> SmallFloatFormat? {
        switch type {
        case .float16: .float16
        case .bfloat16: .bfloat16
        case .float8e4m3fn: .float8e4m3fn
        case .float8e4m3fnuz: .float8e4m3fnuz
        case .float8e5m2: .float8e5m2
        case .float8e5m2fnuz: .float8e5m2fnuz
        case .float4e2m1: .float4e2m1
        default: nil
        }
    }

    private var signBit: UInt32 { 1 << UInt32(exponentBits + mantissaBits) }
    private var exponentMask: UInt32 { (1 << UInt32(exponentBits)) - 1 }
    private var mantissaMask: UInt32 { (1 << UInt32(mantissaBits)) - 1 }
    /// The exponent of the smallest normal number (subnormals share it).
    private var minimumExponent: Int { 1 - bias }

    /// The bits of the largest finite value.
    private var maximumBits: UInt32 {
        switch specials {
        case .ieee: ((exponentMask - 1) << UInt32(mantissaBits)) | mantissaMask
        case .finite: (exponentMask << UInt32(mantissaBits)) | (mantissaMask - 1)
        case .unsignedZero, .none: (exponentMask << UInt32(mantissaBits)) | mantissaMask
        }
    }

    /// The largest finite value.
    var maximum: Double { decodeMagnitude(maximumBits) }

    /// The NaN pattern with the given sign. float4e2m1 has none: its NaN is the negative-zero
    /// pattern, as in ml_dtypes (which produced the ONNX test data).
    private func nan(negative: Bool) -> UInt32 {
        switch specials {
        case .ieee: (negative ? signBit : 0) | (exponentMask << UInt32(mantissaBits)) | (1 << UInt32(mantissaBits - 1))
        case .finite: (negative ? signBit : 0) | (exponentMask << UInt32(mantissaBits)) | mantissaMask
        case .unsignedZero, .none: signBit
        }
    }

    /// What a value beyond the largest finite one becomes: the largest finite value when
    /// saturating (always for float4e2m1, which has nothing else), else infinity or NaN.
    private func overflow(negative: Bool, saturate: Bool) -> UInt32 {
        let sign = negative ? signBit : 0
        if saturate || specials == .none { return sign | maximumBits }
        if specials == .ieee { return sign | (exponentMask << UInt32(mantissaBits)) }
        return nan(negative: negative)
    }

    /// The bits of `x` rounded to this format, ties to even. Double holds every float32 and every
    /// narrower value exactly, so one rounding step gives the correctly rounded result.
    func encode(_ x: Double, saturate: Bool) -> UInt32 {
        let negative = x.sign == .minus
        if x.isNaN { return nan(negative: negative) }
        if x.isInfinite { return overflow(negative: negative, saturate: saturate) }
        let magnitude = Swift.abs(x)
        let exponent = magnitude == 0 ? minimumExponent : Swift.max(Int(magnitude.exponent), minimumExponent)
        // A multiple of the spacing of representable values at this exponent.
        let quantum = Double(sign: .plus, exponent: exponent - mantissaBits, significand: 1)
        let rounded = (magnitude / quantum).rounded(.toNearestOrEven) * quantum
        if rounded > maximum { return overflow(negative: negative, saturate: saturate) }
        let sign: UInt32 = negative && specials != .unsignedZero ? signBit : 0
        if rounded == 0 { return sign }
        let e = Int(rounded.exponent)
        if e < minimumExponent {
            let scale = Double(sign: .plus, exponent: minimumExponent - mantissaBits, significand: 1)
            return sign | UInt32(rounded / scale)
        }
        let fraction = (rounded.significand - 1) * Double(1 << mantissaBits)
        return sign | UInt32(e + bias) << UInt32(mantissaBits) | UInt32(fraction)
    }

    /// The value of `bits` in this format.
    func decode(_ bits: UInt32) -> Double {
        let negative = bits & signBit != 0
        let field = (bits >> UInt32(mantissaBits)) & exponentMask
        let mantissa = bits & mantissaMask
        switch specials {
        case .ieee where field == exponentMask:
            if mantissa != 0 { return .nan }
            return negative ? -.infinity : .infinity
        case .finite where field == exponentMask && mantissa == mantissaMask:
            return .nan
        case .unsignedZero where bits == signBit:
            return .nan
        default:
            let magnitude = decodeMagnitude(bits)
            return negative ? -magnitude : magnitude
        }
    }

    private func decodeMagnitude(_ bits: UInt32) -> Double {
        let field = Int((bits >> UInt32(mantissaBits)) & exponentMask)
        let mantissa = Double(bits & mantissaMask)
        let unit = Double(1 << mantissaBits)
        if field == 0 {
            return mantissa / unit * Double(sign: .plus, exponent: minimumExponent, significand: 1)
        }
        return (1 + mantissa / unit) * Double(sign: .plus, exponent: field - bias, significand: 1)
    }
}

extension SmallFloatFormat {
    /// float16 bits of a float32, rounded to nearest even: `float16.encode` by bit arithmetic,
    /// for the hot paths (half-precision kernels and float32 → float16 casts).
    @inline(__always) static func float16Bits(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16(truncatingIfNeeded: (bits >> 16) & 0x8000)
        let exponent = Int((bits >> 23) & 0xFF)
        let mantissa = bits & 0x7F_FFFF
        if exponent == 0xFF { return sign | 0x7C00 | (mantissa != 0 ? 0x200 : 0) }
        let e = exponent - 112
        if e >= 31 { return sign | 0x7C00 }
        // Normal halves keep 10 of 23 mantissa bits; subnormals shift the implicit 1 in too.
        let full = e > 0 ? mantissa : mantissa | 0x80_0000
        let shift = e > 0 ? 13 : 14 - e
        if shift > 24 { return sign }
        var half = (e > 0 ? UInt32(e) << 10 : 0) | (full >> UInt32(shift))
        let rest = full & ((1 << UInt32(shift)) - 1)
        let halfway: UInt32 = 1 << UInt32(shift - 1)
        // A carry out of the mantissa moves to the next exponent, which is the right result.
        if rest > halfway || (rest == halfway && half & 1 == 1) { half += 1 }
        return sign | UInt16(truncatingIfNeeded: half)
    }

    /// bfloat16 bits of a float32 (its upper half), rounded to nearest even; NaN stays quiet NaN.
    @inline(__always) static func bfloat16Bits(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x40 }
        return UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
    }
}

/// float8e8m0: a bare power of two, 2^(bits − 127), with 0xFF as NaN (the scale type of the MX
/// formats). Encoding follows onnx.numpy_helper.to_float8e8m0, which the ONNX tests use.
enum Float8E8M0 {
    /// How values between two powers of two are rounded.
    enum Rounding: String, Sendable {
        /// Away from zero (the default, and CUDA's behaviour).
        case up
        /// Toward zero.
        case down
        /// To the nearer power, ties up.
        case nearest
    }

    static func decode(_ bits: UInt8) -> Double {
        bits == 0xFF ? .nan : Double(sign: .plus, exponent: Int(bits) - 127, significand: 1)
    }

    /// The biased exponent of `x` (taken as float32), rounded as asked. Negative inputs are
    /// undefined in ONNX; their magnitude is used.
    static func encode(_ x: Float, saturate: Bool, rounding: Rounding) -> UInt8 {
        let bits = x.bitPattern
        var exponent = (bits >> 23) & 0xFF
        if exponent == 0xFF {
            // NaN stays NaN; infinity saturates to the largest power when asked to.
            return x.isInfinite && saturate ? 0xFE : 0xFF
        }
        let roundUp: Bool
        switch rounding {
        case .up:
            roundUp = bits & 0x7F_FFFF != 0
        case .down:
            roundUp = false
        case .nearest:
            let guardBit = bits & 0x40_0000 != 0
            let roundBit = bits & 0x20_0000 != 0
            let sticky = bits & 0x1F_FFFF != 0
            roundUp = guardBit && (roundBit || sticky || exponent > 0)
        }
        if roundUp && !(saturate && exponent == 0xFE) { exponent += 1 }
        return UInt8(truncatingIfNeeded: exponent)
    }
}
