import Foundation
import Graph
import Testing

/// `value` in hexadecimal, for messages.
private func hex<T: BinaryInteger>(_ value: T) -> String { "0x" + String(value, radix: 16, uppercase: true) }

/// The shared conversions between Float and the narrow float formats (Sources/Graph/SmallFloats.swift).
/// Expected values of the rounding cases were computed with numpy (float16), ml_dtypes (bfloat16,
/// float8, float4) and onnx.numpy_helper (saturating float8 casts, float8e8m0), which produced
/// the ONNX backend test data; the tests themselves need no Python.
@Suite struct SmallFloatsTests {
    /// Collects failures so that an exhaustive loop reports a few examples instead of thousands of
    /// expectations.
    struct Failures {
        var count = 0
        var examples: [String] = []
        mutating func check(_ condition: Bool, _ message: @autoclosure () -> String) {
            guard !condition else { return }
            count += 1
            if examples.count < 8 { examples.append(message()) }
        }
        var summary: String { "\(count) failures, e.g. \(examples.joined(separator: "; "))" }
    }

    // MARK: float16

    /// Every half bit pattern: its value against the definition of binary16, and back unchanged
    /// (NaNs come back as the quiet NaN of the same sign).
    @Test func everyHalfRoundTripsThroughFloat() {
        var failures = Failures()
        for h in 0...UInt16.max {
            let f = halfToFloat(h)
            let negative = h & 0x8000 != 0
            let exponent = Int(h >> 10) & 0x1F, mantissa = Int(h & 0x3FF)
            if exponent == 31 && mantissa != 0 {
                // NaN: payload and sign kept, as exactly as float32 can.
                failures.check(f.isNaN && f.sign == (negative ? .minus : .plus) && f.bitPattern & 0x7F_FFFF == UInt32(mantissa) << 13,
                               "\(hex(h)) → \(hex(f.bitPattern))")
                failures.check(floatToHalf(f) == (h & 0x8000) | 0x7E00, "NaN \(hex(h)) came back as \(hex(floatToHalf(f)))")
                continue
            }
            let magnitude = exponent == 31 ? Double.infinity
                : exponent == 0 ? Double(mantissa) * 0x1p-24
                : (1 + Double(mantissa) / 1024) * Double(sign: .plus, exponent: exponent - 15, significand: 1)
            failures.check(Double(f) == (negative ? -magnitude : magnitude) && f.sign == (negative ? .minus : .plus),
                           "\(hex(h)) decoded as \(f)")
            failures.check(floatToHalf(f) == h, "\(hex(h)) came back as \(hex(floatToHalf(f)))")
        }
        #expect(failures.count == 0, "\(failures.summary)")
    }

    /// Float32 → float16 rounding, against numpy's `astype(np.float16)`.
    @Test func floatToHalfRoundsLikeNumpy() {
        let cases: [(Float, UInt16)] = [
            (0x1.002p+0, 0x3C00),            // 1 + 2^-11, a tie: to even (down)
            (0x1.006p+0, 0x3C02),            // 1 + 3·2^-11, a tie: to even (up)
            (0x1.002002p+0, 0x3C01),         // just above the tie
            (65504, 0x7BFF),                 // the largest half
            (0x1.ffdffap+15, 0x7BFF),        // 65519.99
            (65520, 0x7C00),                 // half a step past the largest: infinity
            (0x1p-24, 0x0001),               // the smallest subnormal
            (0x1p-25, 0x0000),               // a tie between 0 and the smallest subnormal: to 0
            (0x1.8p-24, 0x0002),             // a tie between 1 and 2 subnormal steps: to 2
            (0x1.000002p-25, 0x0001),        // just above the tie
            (0x1.ffcp-15, 0x0400),           // a tie between the largest subnormal and the smallest normal
            (0.1, 0x2E66),
            (-0.0, 0x8000),
            (.infinity, 0x7C00),
            (-.infinity, 0xFC00),
            (.nan, 0x7E00),
            (-.nan, 0xFE00),
            (1e-8, 0x0000),
            (-0x1p-24, 0x8001),
            (0x1.555556p-2, 0x3555),         // 0.33333334
            (-0x1.34a456p+10, 0xE4D3),       // -1234.5678
            (.greatestFiniteMagnitude, 0x7C00),
        ]
        for (x, expected) in cases {
            #expect(floatToHalf(x) == expected, "\(x): \(hex(floatToHalf(x))), expected \(hex(expected))")
        }
        // Signalling and payload-carrying NaNs stay NaN (quiet, sign kept), never infinity.
        for bits: UInt32 in [0x7F80_0001, 0x7FBF_FFFF, 0xFFA0_0000, 0x7FC0_0001] {
            #expect(floatToHalf(Float(bitPattern: bits)) == UInt16(truncatingIfNeeded: bits >> 16) & 0x8000 | 0x7E00)
        }
    }

    /// Float32 values around every rounding boundary of float16 (each tie and its neighbours),
    /// plus a sweep of bit patterns over the whole float32 range: the fast bit arithmetic against
    /// the general encoder and, where the platform has it, Swift's own Float16.
    @Test func floatToHalfAgreesWithTheGeneralEncoderAndFloat16() {
        var samples: [Float] = []
        for h in UInt16(0)..<0x7C00 {
            // The tie between h and the next half up, and the floats either side of it.
            let low = Double(halfToFloat(h)), high = h == 0x7BFF ? 65536 : Double(halfToFloat(h + 1))
            let tie = Float((low + high) / 2)
            samples += [tie, tie.nextDown, tie.nextUp, -tie, -tie.nextDown, -tie.nextUp]
        }
        var bits: UInt32 = 0
        while bits < 0xFFFF_F000 {
            samples.append(Float(bitPattern: bits))
            bits += 4093
        }
        var failures = Failures()
        for x in samples {
            let fast = floatToHalf(x)
            let general = UInt16(SmallFloatFormat.float16.encode(Double(x), saturate: false))
            failures.check(fast == general, "\(x): fast \(hex(fast)), general \(hex(general))")
            #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
            if !x.isNaN {
                failures.check(fast == Float16(x).bitPattern, "\(x): \(hex(fast)), Float16 \(hex(Float16(x).bitPattern))")
            }
            #endif
        }
        #expect(failures.count == 0, "\(failures.summary)")
        #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
        for h in 0...UInt16.max where !halfToFloat(h).isNaN {
            failures.check(halfToFloat(h) == Float(Float16(bitPattern: h)), "\(hex(h))")
        }
        #expect(failures.count == 0, "\(failures.summary)")
        #endif
    }

    // MARK: bfloat16

    /// Every bfloat16 bit pattern is the upper half of a float32, and comes back unchanged (NaNs
    /// come back quiet, with their sign and payload).
    @Test func everyBFloat16RoundTripsThroughFloat() {
        var failures = Failures()
        for b in 0...UInt16.max {
            let f = bfloat16ToFloat(b)
            failures.check(f.bitPattern == UInt32(b) << 16, "\(hex(b)) → \(hex(f.bitPattern))")
            let expected = f.isNaN ? b | 0x40 : b
            failures.check(floatToBFloat16(f) == expected, "\(hex(b)) came back as \(hex(floatToBFloat16(f)))")
            failures.check(Float(SmallFloatFormat.bfloat16.decode(UInt32(b))).bitPattern == f.bitPattern || f.isNaN,
                           "general decoder differs at \(hex(b))")
        }
        #expect(failures.count == 0, "\(failures.summary)")
    }

    /// Float32 → bfloat16 rounding, against ml_dtypes' `astype(bfloat16)`.
    @Test func floatToBFloat16RoundsLikeMLDtypes() {
        let cases: [(Float, UInt16)] = [
            (0x1.01p+0, 0x3F80),              // 1 + 2^-8, a tie: to even (down)
            (0x1.03p+0, 0x3F82),              // 1 + 3·2^-8, a tie: to even (up)
            (0x1.010002p+0, 0x3F81),          // just above the tie
            (.greatestFiniteMagnitude, 0x7F80),  // rounds past the largest bfloat16: infinity
            (0x1.fdeb88p+127, 0x7F7F),        // 3.389e38
            (-0.0, 0x8000),
            (.infinity, 0x7F80),
            (.nan, 0x7FC0),
            (0.1, 0x3DCD),
            (-0x1.16c2p-133, 0x8001),         // -1e-40, a float32 subnormal
            (0x1p-149, 0x0000),               // the smallest float32 subnormal
        ]
        for (x, expected) in cases {
            #expect(floatToBFloat16(x) == expected, "\(x): \(hex(floatToBFloat16(x))), expected \(hex(expected))")
        }
        // NaN stays NaN, quiet, its sign and upper payload kept: a payload only in the low 16
        // bits must not turn it into infinity.
        #expect(floatToBFloat16(Float(bitPattern: 0x7F80_0001)) == 0x7FC0)
        #expect(floatToBFloat16(Float(bitPattern: 0xFFA0_0000)) == 0xFFE0)
        // The general encoder rounds the same way.
        var bits: UInt32 = 0
        var failures = Failures()
        while bits < 0xFFFF_F000 {
            let x = Float(bitPattern: bits)
            if !x.isNaN {
                let general = UInt16(SmallFloatFormat.bfloat16.encode(Double(x), saturate: false))
                failures.check(floatToBFloat16(x) == general, "\(x): \(hex(floatToBFloat16(x))), general \(hex(general))")
            }
            bits += 4093
        }
        #expect(failures.count == 0, "\(failures.summary)")
    }

    // MARK: float8 and float4

    static let narrow: [(String, ElementType, SmallFloatFormat)] = [
        ("float8e4m3fn", .float8e4m3fn, .float8e4m3fn), ("float8e4m3fnuz", .float8e4m3fnuz, .float8e4m3fnuz),
        ("float8e5m2", .float8e5m2, .float8e5m2), ("float8e5m2fnuz", .float8e5m2fnuz, .float8e5m2fnuz),
        ("float4e2m1", .float4e2m1, .float4e2m1),
    ]

    @Test func formatsOfElementTypes() {
        for (name, type, format) in Self.narrow {
            #expect(SmallFloatFormat.of(type) == format, "\(name)")
        }
        #expect(SmallFloatFormat.of(.float16) == .float16 && SmallFloatFormat.of(.bfloat16) == .bfloat16)
        #expect(SmallFloatFormat.of(.float32) == nil && SmallFloatFormat.of(.float8e8m0) == nil && SmallFloatFormat.of(.int8) == nil)
        #expect(SmallFloatFormat.float8e4m3fn.bitWidth == 8 && SmallFloatFormat.float4e2m1.bitWidth == 4 && SmallFloatFormat.float16.bitWidth == 16)
    }

    /// Every code of every float8 type (and float4e2m1): its value, which codes are NaN and
    /// infinity, and that every number encodes back to its own code with and without saturation.
    @Test func everyNarrowCodeRoundTrips() {
        // (NaN codes, infinity codes, largest value, smallest subnormal) per format, from the ONNX spec.
        let facts: [String: (nans: Set<UInt32>, infinities: Set<UInt32>, maximum: Double, tiny: Double)] = [
            "float8e4m3fn": ([0x7F, 0xFF], [], 448, 0x1p-9),
            "float8e4m3fnuz": ([0x80], [], 240, 0x1p-10),
            "float8e5m2": ([0x7D, 0x7E, 0x7F, 0xFD, 0xFE, 0xFF], [0x7C, 0xFC], 57344, 0x1p-16),
            "float8e5m2fnuz": ([0x80], [], 57344, 0x1p-17),
            "float4e2m1": ([], [], 6, 0.5),
        ]
        for (name, _, format) in Self.narrow {
            let fact = facts[name]!
            #expect(format.maximum == fact.maximum, "\(name)")
            #expect(format.decode(1) == fact.tiny, "\(name)")
            let codes = UInt32(1) << UInt32(format.bitWidth)
            var failures = Failures()
            var previous = -Double.infinity
            for code in 0..<codes {
                let value = format.decode(code)
                if fact.nans.contains(code) {
                    failures.check(value.isNaN, "\(name) \(hex(code)) should be NaN, is \(value)")
                    continue
                }
                failures.check(!value.isNaN, "\(name) \(hex(code)) is NaN")
                if fact.infinities.contains(code) {
                    failures.check(value.isInfinite, "\(name) \(hex(code)) should be infinite")
                    failures.check(format.encode(value, saturate: false) == code, "\(name) \(value) unsaturated")
                    failures.check(format.encode(value, saturate: true) == (code & 0x80) | 0x7B, "\(name) \(value) saturated")
                    continue
                }
                failures.check(value.isFinite && abs(value) <= fact.maximum, "\(name) \(hex(code)) = \(value)")
                failures.check((value.sign == .minus) == (code >= codes / 2), "\(name) \(hex(code)) has the wrong sign")
                for saturate in [false, true] {
                    let back = format.encode(value, saturate: saturate)
                    failures.check(back == code, "\(name) \(hex(code)) = \(value) encodes to \(hex(back)) (saturate \(saturate))")
                    // float32 inputs, as the kernels give them, too.
                    failures.check(format.encode(Double(Float(value)), saturate: saturate) == code, "\(name) \(hex(code)) via Float")
                }
                // Positive codes increase in value.
                if code < codes / 2 {
                    failures.check(value > previous || (value == 0 && code == 0), "\(name) \(hex(code)) is not increasing")
                    previous = value
                }
            }
            #expect(failures.count == 0, "\(failures.summary)")
        }
    }

    /// Rounding, ties, subnormals, overflow with and without saturation, zeros and NaNs: against
    /// onnx.numpy_helper.saturate_cast (saturate) and ml_dtypes' astype (no saturation).
    @Test func narrowRoundingMatchesTheONNXReference() {
        let inputs: [Float] = [
            0, -0.0, 1, -1.5, 0.1, -0x1.333334p-2, 0x1.1p+0, 0x1.3p+0, 3.5, 13, 240, 0x1.efccccp+7, 248, 256,
            448, 0x1.cfe666p+8, 464, 480, 1e6, -1e6, 57344, 61439, 61440, 0x1p-9, 0x1p-10, 0x1.8p-10, 0x1p-17,
            0x1p-18, 0x1.8p-16, -0x1p-20, .infinity, -.infinity, .nan, -.nan, 6, 7, 5, 0.25, 0.75, -2.5,
        ]
        let expected: [String: (saturated: [UInt32], unsaturated: [UInt32])] = [
            "float8e4m3fn": (
                [0x00, 0x80, 0x38, 0xBC, 0x1D, 0xAA, 0x38, 0x3A, 0x46, 0x55, 0x77, 0x77, 0x78, 0x78, 0x7E, 0x7E, 0x7E, 0x7E, 0x7E, 0xFE,
                 0x7E, 0x7E, 0x7E, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x80, 0x7E, 0xFE, 0x7F, 0xFF, 0x4C, 0x4E, 0x4A, 0x28, 0x34, 0xC2],
                [0x00, 0x80, 0x38, 0xBC, 0x1D, 0xAA, 0x38, 0x3A, 0x46, 0x55, 0x77, 0x77, 0x78, 0x78, 0x7E, 0x7E, 0x7E, 0x7F, 0x7F, 0xFF,
                 0x7F, 0x7F, 0x7F, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x80, 0x7F, 0xFF, 0x7F, 0xFF, 0x4C, 0x4E, 0x4A, 0x28, 0x34, 0xC2]),
            "float8e4m3fnuz": (
                [0x00, 0x00, 0x40, 0xC4, 0x25, 0xB2, 0x40, 0x42, 0x4E, 0x5D, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0xFF,
                 0x7F, 0x7F, 0x7F, 0x02, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x7F, 0xFF, 0x80, 0x80, 0x54, 0x56, 0x52, 0x30, 0x3C, 0xCA],
                [0x00, 0x00, 0x40, 0xC4, 0x25, 0xB2, 0x40, 0x42, 0x4E, 0x5D, 0x7F, 0x7F, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                 0x80, 0x80, 0x80, 0x02, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x80, 0x80, 0x80, 0x80, 0x54, 0x56, 0x52, 0x30, 0x3C, 0xCA]),
            "float8e5m2": (
                [0x00, 0x80, 0x3C, 0xBE, 0x2E, 0xB5, 0x3C, 0x3D, 0x43, 0x4A, 0x5C, 0x5C, 0x5C, 0x5C, 0x5F, 0x5F, 0x5F, 0x60, 0x7B, 0xFB,
                 0x7B, 0x7B, 0x7B, 0x18, 0x14, 0x16, 0x00, 0x00, 0x02, 0x80, 0x7B, 0xFB, 0x7E, 0xFE, 0x46, 0x47, 0x45, 0x34, 0x3A, 0xC1],
                [0x00, 0x80, 0x3C, 0xBE, 0x2E, 0xB5, 0x3C, 0x3D, 0x43, 0x4A, 0x5C, 0x5C, 0x5C, 0x5C, 0x5F, 0x5F, 0x5F, 0x60, 0x7C, 0xFC,
                 0x7B, 0x7B, 0x7C, 0x18, 0x14, 0x16, 0x00, 0x00, 0x02, 0x80, 0x7C, 0xFC, 0x7E, 0xFE, 0x46, 0x47, 0x45, 0x34, 0x3A, 0xC1]),
            "float8e5m2fnuz": (
                [0x00, 0x00, 0x40, 0xC2, 0x32, 0xB9, 0x40, 0x41, 0x47, 0x4E, 0x60, 0x60, 0x60, 0x60, 0x63, 0x63, 0x63, 0x64, 0x7F, 0xFF,
                 0x7F, 0x7F, 0x7F, 0x1C, 0x18, 0x1A, 0x01, 0x00, 0x03, 0x00, 0x7F, 0xFF, 0x80, 0x80, 0x4A, 0x4B, 0x49, 0x38, 0x3E, 0xC5],
                [0x00, 0x00, 0x40, 0xC2, 0x32, 0xB9, 0x40, 0x41, 0x47, 0x4E, 0x60, 0x60, 0x60, 0x60, 0x63, 0x63, 0x63, 0x64, 0x80, 0x80,
                 0x7F, 0x7F, 0x80, 0x1C, 0x18, 0x1A, 0x01, 0x00, 0x03, 0x00, 0x80, 0x80, 0x80, 0x80, 0x4A, 0x4B, 0x49, 0x38, 0x3E, 0xC5]),
            // float4e2m1 has no infinity or NaN: it always saturates. (ml_dtypes gives 0x0 for −NaN;
            // Pare, like ml_dtypes for +NaN, gives the negative-zero pattern 0x8 for every NaN.)
            "float4e2m1": (
                [0x0, 0x8, 0x2, 0xB, 0x0, 0x9, 0x2, 0x2, 0x6, 0x7, 0x7, 0x7, 0x7, 0x7, 0x7, 0x7, 0x7, 0x7, 0x7, 0xF,
                 0x7, 0x7, 0x7, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x8, 0x7, 0xF, 0x8, 0x8, 0x7, 0x7, 0x6, 0x0, 0x2, 0xC],
                [0x0, 0x8, 0x2, 0xB, 0x0, 0x9, 0x2, 0x2, 0x6, 0x7, 0x7, 0x7, 0x7, 0x7, 0x7, 0x7, 0x7, 0x7, 0x7, 0xF,
                 0x7, 0x7, 0x7, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x8, 0x7, 0xF, 0x8, 0x8, 0x7, 0x7, 0x6, 0x0, 0x2, 0xC]),
        ]
        for (name, _, format) in Self.narrow {
            let want = expected[name]!
            let saturated = inputs.map { format.encode(Double($0), saturate: true) }
            let unsaturated = inputs.map { format.encode(Double($0), saturate: false) }
            for i in inputs.indices {
                #expect(saturated[i] == want.saturated[i], "\(name) saturate \(inputs[i]): \(hex(saturated[i])), expected \(hex(want.saturated[i]))")
                #expect(unsaturated[i] == want.unsaturated[i], "\(name) \(inputs[i]): \(hex(unsaturated[i])), expected \(hex(want.unsaturated[i]))")
            }
        }
    }

    /// Negative numbers keep their sign in the fnuz types (only zero loses it), also when they
    /// are tiny or saturate.
    @Test func fnuzKeepsTheSignOfNegativeNumbers() {
        #expect(SmallFloatFormat.float8e4m3fnuz.encode(-1.5, saturate: true) == 0xC4)
        #expect(SmallFloatFormat.float8e4m3fnuz.encode(-0x1p-10, saturate: false) == 0x81)
        #expect(SmallFloatFormat.float8e5m2fnuz.encode(-0x1p-17, saturate: true) == 0x81)
        #expect(SmallFloatFormat.float8e5m2fnuz.encode(-0x1p-19, saturate: true) == 0x00)
        #expect(SmallFloatFormat.float8e4m3fnuz.encode(-1000, saturate: true) == 0xFF)
    }

    // MARK: float8e8m0

    /// Every float8e8m0 code is a power of two (0xFF NaN) and encodes back to itself, except that
    /// rounding up takes 2^-127 (a float32 subnormal with a fraction) to 2^-126, as the ONNX
    /// reference does.
    @Test func everyE8M0CodeRoundTrips() {
        var failures = Failures()
        for code in 0...UInt8.max {
            let value = Float8E8M0.decode(code)
            if code == 0xFF {
                failures.check(value.isNaN, "0xFF should be NaN")
                continue
            }
            failures.check(value == Double(sign: .plus, exponent: Int(code) - 127, significand: 1), "\(hex(code)) = \(value)")
            for rounding in [Float8E8M0.Rounding.up, .down, .nearest] {
                for saturate in [false, true] {
                    let back = Float8E8M0.encode(Float(value), saturate: saturate, rounding: rounding)
                    let expected: UInt8 = code == 0 && rounding == .up ? 1 : code
                    failures.check(back == expected, "\(hex(code)) → \(hex(back)) (\(rounding), saturate \(saturate))")
                }
            }
        }
        #expect(failures.count == 0, "\(failures.summary)")
    }

    /// Rounding modes and saturation of float8e8m0, against onnx.numpy_helper.to_float8e8m0 —
    /// except infinity under saturation, which the ONNX Cast specification (and Pare) takes to
    /// E8M0_MAX (0xFE) where that helper gives NaN.
    @Test func e8m0RoundingMatchesTheONNXReference() {
        let inputs: [Float] = [3, 0x1.733334p+1, 0x1.666666p+0, 1.5, 0.75, 0, -4, 0x1.16c2p-133, .infinity, .nan,
                               .greatestFiniteMagnitude, 0x1p127, 0x1p-127, 0x1p-126, 0x1.8p-127, 0x1.4p-127, 0x1.8p-128]
        let expected: [(Float8E8M0.Rounding, Bool, [UInt8])] = [
            (.up, true, [0x81, 0x81, 0x80, 0x80, 0x7F, 0x00, 0x81, 0x01, 0xFE, 0xFF, 0xFE, 0xFE, 0x01, 0x01, 0x01, 0x01, 0x01]),
            (.up, false, [0x81, 0x81, 0x80, 0x80, 0x7F, 0x00, 0x81, 0x01, 0xFF, 0xFF, 0xFF, 0xFE, 0x01, 0x01, 0x01, 0x01, 0x01]),
            (.down, true, [0x80, 0x80, 0x7F, 0x7F, 0x7E, 0x00, 0x81, 0x00, 0xFE, 0xFF, 0xFE, 0xFE, 0x00, 0x01, 0x00, 0x00, 0x00]),
            (.down, false, [0x80, 0x80, 0x7F, 0x7F, 0x7E, 0x00, 0x81, 0x00, 0xFF, 0xFF, 0xFE, 0xFE, 0x00, 0x01, 0x00, 0x00, 0x00]),
            (.nearest, true, [0x81, 0x80, 0x7F, 0x80, 0x7F, 0x00, 0x81, 0x00, 0xFE, 0xFF, 0xFE, 0xFE, 0x00, 0x01, 0x01, 0x01, 0x00]),
            (.nearest, false, [0x81, 0x80, 0x7F, 0x80, 0x7F, 0x00, 0x81, 0x00, 0xFF, 0xFF, 0xFF, 0xFE, 0x00, 0x01, 0x01, 0x01, 0x00]),
        ]
        for (rounding, saturate, codes) in expected {
            for (x, code) in zip(inputs, codes) {
                let got = Float8E8M0.encode(x, saturate: saturate, rounding: rounding)
                #expect(got == code, "\(x) (\(rounding), saturate \(saturate)): \(hex(got)), expected \(hex(code))")
            }
        }
        #expect(Float8E8M0.Rounding(rawValue: "nearest") == .nearest && Float8E8M0.Rounding(rawValue: "sideways") == nil)
    }
}
