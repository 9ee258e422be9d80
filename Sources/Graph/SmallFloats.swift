// Conversions between Float and the floating-point formats narrower than float32 that ONNX
// tensors use: IEEE half precision (float16), bfloat16, the float8 types (e4m3fn, e4m3fnuz, e5m2,
// e5m2fnuz, e8m0) and float4e2m1. This is the only implementation in Pare: the IR, the runtime's
// kernels and the passes all call these, so every component rounds the same way.
//
// float16 and bfloat16 have dedicated bit-arithmetic functions for the hot loops (Cast of large
// tensors, half-precision kernels computing through float32); `SmallFloatFormat` is the general
// codec every narrow format shares, and `Float8E8M0` the power-of-two scale type of the MX formats.

// MARK: float16

/// IEEE 754 half precision to single precision, exact for every input (NaN payloads, signalling
/// ones included, are kept as they are).
@inlinable @inline(__always)
public func halfToFloat(_ h: UInt16) -> Float {
    let bits = UInt32(h)
    let sign = (bits & 0x8000) << 16
    // Exponent and mantissa moved to their float32 positions.
    let shifted = (bits & 0x7FFF) << 13
    let exponent = shifted & 0x0F80_0000
    // Normal: rebias the exponent by 127 − 15.
    let normal = shifted &+ 0x3800_0000
    // Infinity and NaN: the all-ones exponent, mantissa (payload) as it is.
    let special = shifted | 0x7F80_0000
    // Zero and subnormal, mantissa · 2^-24: computed exactly as (2^-14 + mantissa · 2^-24) − 2^-14.
    let subnormal = (Float(bitPattern: shifted | 0x3880_0000) - 0x1p-14).bitPattern
    // Selects rather than branches, so loops over arrays vectorize.
    let magnitude = exponent == 0x0F80_0000 ? special : exponent == 0 ? subnormal : normal
    return Float(bitPattern: sign | magnitude)
}

/// Single precision to IEEE 754 half precision bits, rounded to nearest, ties to even. Values
/// from 65520 up (beyond the largest half, 65504, by half a step or more) become infinity; values
/// below the smallest subnormal round to zero; signs are kept, zeros and infinities included.
/// NaN becomes the quiet NaN 0x7E00 with the input's sign (payloads are not carried).
@inlinable @inline(__always)
public func floatToHalf(_ value: Float) -> UInt16 {
    let bits = value.bitPattern
    let sign = UInt16(truncatingIfNeeded: (bits >> 16) & 0x8000)
    let magnitude = bits & 0x7FFF_FFFF
    // Normal halves: rebias the exponent (−(127 − 15) << 23, wrapping) and round the 13 dropped
    // mantissa bits to nearest even by adding 0xFFF plus the lowest kept bit; a carry out of the
    // mantissa moves to the next exponent, up to infinity, which is the right result.
    let normal = (magnitude &+ 0xC800_0FFF &+ ((magnitude >> 13) & 1)) >> 13
    // Below 2^-14 (subnormal halves and zero): adding 0.5 puts the bits worth 2^-24 at the bottom
    // of the float32 mantissa, where the float addition itself rounds to nearest even.
    let subnormal = (Float(bitPattern: magnitude) + 0.5).bitPattern &- 0x3F00_0000
    // From 65536 (the first float32 whose exponent overflows half) up: infinity, or NaN.
    let overflow: UInt32 = magnitude > 0x7F80_0000 ? 0x7E00 : 0x7C00
    // Selects rather than branches, so loops over arrays vectorize.
    let half = magnitude >= 0x4780_0000 ? overflow : magnitude < 0x3880_0000 ? subnormal : normal
    return sign | UInt16(truncatingIfNeeded: half)
}

// MARK: bfloat16

/// bfloat16 (the upper 16 bits of a float32) to single precision, exact for every input.
@inlinable @inline(__always)
public func bfloat16ToFloat(_ b: UInt16) -> Float {
    Float(bitPattern: UInt32(b) << 16)
}

/// Single precision to bfloat16 bits, rounded to nearest, ties to even (values that round past
/// the largest bfloat16 become infinity). NaN stays NaN: its sign and upper payload bits are kept
/// and it is made quiet, so a payload that lived only in the dropped bits cannot turn it into
/// infinity.
@inlinable @inline(__always)
public func floatToBFloat16(_ value: Float) -> UInt16 {
    let bits = value.bitPattern
    if value.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x40 }
    return UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
}

// MARK: Any narrow format

/// A binary floating-point format narrower than float32 (float16, bfloat16, the float8 types with
/// a mantissa, and float4e2m1), described by its field widths and by how it spends its special
/// encodings. One encoder and one decoder serve them all, so every conversion rounds the same way:
/// to nearest, ties to even, with the overflow rules of the ONNX `Cast` operator (`saturate`).
///
/// Encodings are returned in the low bits of a `UInt32` (sign bit at `bitWidth − 1`).
/// float8e8m0, a bare exponent, is `Float8E8M0`.
public struct SmallFloatFormat: Sendable, Hashable {
    /// What the format does with its largest exponent and with the sign bit of zero.
    public enum Specials: Sendable, Hashable {
        /// IEEE 754: the all-ones exponent holds ±infinity and NaNs (float16, bfloat16, float8e5m2).
        case ieee
        /// No infinity; only S.1111.111 is NaN (float8e4m3fn).
        case finite
        /// No infinity and no negative zero; the negative-zero pattern is the only NaN (the "fnuz" types).
        case unsignedZero
        /// No infinity and no NaN (float4e2m1).
        case none
    }

    public let exponentBits: Int
    public let mantissaBits: Int
    public let bias: Int
    public let specials: Specials

    public init(exponentBits: Int, mantissaBits: Int, bias: Int, specials: Specials) {
        self.exponentBits = exponentBits
        self.mantissaBits = mantissaBits
        self.bias = bias
        self.specials = specials
    }

    public static let float16 = SmallFloatFormat(exponentBits: 5, mantissaBits: 10, bias: 15, specials: .ieee)
    public static let bfloat16 = SmallFloatFormat(exponentBits: 8, mantissaBits: 7, bias: 127, specials: .ieee)
    public static let float8e4m3fn = SmallFloatFormat(exponentBits: 4, mantissaBits: 3, bias: 7, specials: .finite)
    public static let float8e4m3fnuz = SmallFloatFormat(exponentBits: 4, mantissaBits: 3, bias: 8, specials: .unsignedZero)
    public static let float8e5m2 = SmallFloatFormat(exponentBits: 5, mantissaBits: 2, bias: 15, specials: .ieee)
    public static let float8e5m2fnuz = SmallFloatFormat(exponentBits: 5, mantissaBits: 2, bias: 16, specials: .unsignedZero)
    public static let float4e2m1 = SmallFloatFormat(exponentBits: 2, mantissaBits: 1, bias: 1, specials: .none)

    /// The format of an element type, when it is one of these (not float8e8m0: see `Float8E8M0`).
    public static func of(_ type: ElementType) -> SmallFloatFormat? {
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

    /// Bits per value: sign, exponent and mantissa.
    public var bitWidth: Int { 1 + exponentBits + mantissaBits }

    @usableFromInline var signBit: UInt32 { 1 << UInt32(exponentBits + mantissaBits) }
    @usableFromInline var exponentMask: UInt32 { (1 << UInt32(exponentBits)) - 1 }
    @usableFromInline var mantissaMask: UInt32 { (1 << UInt32(mantissaBits)) - 1 }
    /// The exponent of the smallest normal number (subnormals share it).
    @usableFromInline var minimumExponent: Int { 1 - bias }

    /// The bits of the largest finite value.
    @usableFromInline var maximumBits: UInt32 {
        switch specials {
        case .ieee: ((exponentMask - 1) << UInt32(mantissaBits)) | mantissaMask
        case .finite: (exponentMask << UInt32(mantissaBits)) | (mantissaMask - 1)
        case .unsignedZero, .none: (exponentMask << UInt32(mantissaBits)) | mantissaMask
        }
    }

    /// The largest finite value.
    @inlinable public var maximum: Double { decodeMagnitude(maximumBits) }

    /// The NaN pattern with the given sign. float4e2m1 has none: its NaN is the negative-zero
    /// pattern, as in ml_dtypes (which produced the ONNX test data).
    @usableFromInline func nan(negative: Bool) -> UInt32 {
        switch specials {
        case .ieee: (negative ? signBit : 0) | (exponentMask << UInt32(mantissaBits)) | (1 << UInt32(mantissaBits - 1))
        case .finite: (negative ? signBit : 0) | (exponentMask << UInt32(mantissaBits)) | mantissaMask
        case .unsignedZero, .none: signBit
        }
    }

    /// What a value beyond the largest finite one becomes: the largest finite value when
    /// saturating (always for float4e2m1, which has nothing else), else infinity or NaN.
    @usableFromInline func overflow(negative: Bool, saturate: Bool) -> UInt32 {
        let sign = negative ? signBit : 0
        if saturate || specials == .none { return sign | maximumBits }
        if specials == .ieee { return sign | (exponentMask << UInt32(mantissaBits)) }
        return nan(negative: negative)
    }

    /// The bits of `x` rounded to this format, to nearest with ties to even. Double holds every
    /// float32 and every narrower value exactly, so one rounding step gives the correctly rounded
    /// result for float32 and float64 inputs alike.
    ///
    /// Beyond the largest finite value (after rounding), and for ±infinity: the largest finite
    /// value of that sign when `saturate` is set (and always for float4e2m1, which has nothing
    /// else); otherwise ±infinity where the format has it (IEEE formats), else NaN. NaN gives the
    /// format's NaN (with the input's sign where the format has signed NaNs); float4e2m1, which has
    /// no NaN, gives its negative-zero pattern, as ml_dtypes does. The "fnuz" formats have no
    /// negative zero: negative values that round to zero give +0.
    @inlinable
    public func encode(_ x: Double, saturate: Bool) -> UInt32 {
        let negative = x.sign == .minus
        if x.isNaN { return nan(negative: negative) }
        if x.isInfinite { return overflow(negative: negative, saturate: saturate) }
        let magnitude = Swift.abs(x)
        let exponent = magnitude == 0 ? minimumExponent : Swift.max(Int(magnitude.exponent), minimumExponent)
        // A multiple of the spacing of representable values at this exponent.
        let quantum = Double(sign: .plus, exponent: exponent - mantissaBits, significand: 1)
        let rounded = (magnitude / quantum).rounded(.toNearestOrEven) * quantum
        if rounded > maximum { return overflow(negative: negative, saturate: saturate) }
        if rounded == 0 { return negative && specials != .unsignedZero ? signBit : 0 }
        let sign: UInt32 = negative ? signBit : 0
        let e = Int(rounded.exponent)
        if e < minimumExponent {
            let scale = Double(sign: .plus, exponent: minimumExponent - mantissaBits, significand: 1)
            return sign | UInt32(rounded / scale)
        }
        let fraction = (rounded.significand - 1) * Double(1 << mantissaBits)
        return sign | UInt32(e + bias) << UInt32(mantissaBits) | UInt32(fraction)
    }

    /// The value of `bits` (in the low `bitWidth` bits) in this format, exactly.
    @inlinable
    public func decode(_ bits: UInt32) -> Double {
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

    @usableFromInline func decodeMagnitude(_ bits: UInt32) -> Double {
        let field = Int((bits >> UInt32(mantissaBits)) & exponentMask)
        let mantissa = Double(bits & mantissaMask)
        let unit = Double(1 << mantissaBits)
        if field == 0 {
            return mantissa / unit * Double(sign: .plus, exponent: minimumExponent, significand: 1)
        }
        return (1 + mantissa / unit) * Double(sign: .plus, exponent: field - bias, significand: 1)
    }
}

// MARK: float8e8m0

/// float8e8m0: a bare power of two, 2^(bits − 127), with 0xFF as NaN (the scale type of the MX
/// formats). Encoding follows onnx.numpy_helper.to_float8e8m0, which the ONNX tests use.
public enum Float8E8M0 {
    /// How values between two powers of two are rounded (the `round_mode` attribute of Cast).
    public enum Rounding: String, Sendable {
        /// Away from zero (the default, and CUDA's behaviour).
        case up
        /// Toward zero.
        case down
        /// To the nearer power, ties up.
        case nearest
    }

    /// The value of `bits`: 2^(bits − 127), or NaN for 0xFF.
    @inlinable
    public static func decode(_ bits: UInt8) -> Double {
        bits == 0xFF ? .nan : Double(sign: .plus, exponent: Int(bits) - 127, significand: 1)
    }

    /// The biased exponent of `x` (taken as float32), rounded as asked. NaN gives 0xFF; infinity
    /// gives 0xFE (the largest power) when saturating, else 0xFF; with `saturate`, rounding up
    /// never goes past 0xFE. Negative inputs are undefined in ONNX; their magnitude is used.
    @inlinable
    public static func encode(_ x: Float, saturate: Bool, rounding: Rounding) -> UInt8 {
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
