import Graph

// Element conversion for Cast and CastLike (and the mixed-type paths of Pow): every numeric
// element type the runtime stores, including the packed sub-byte integers and the float8 and
// float4 formats. Values pass through Int64 when both sides are integers (so wide integers stay
// exact and narrowing wraps), else through Double, which holds every float32 exactly.

/// How a cast treats values a float8 type cannot hold, and how it rounds to float8e8m0.
struct CastOptions: Sendable {
    /// Out-of-range values become the largest finite value instead of infinity or NaN (float8 only).
    var saturate = true
    var rounding = Float8E8M0.Rounding.up

    /// The `saturate` and `round_mode` attributes of a Cast or CastLike node.
    init(_ context: KernelBuildContext) throws {
        saturate = (context.node.int("saturate") ?? 1) != 0
        if let mode = context.node.string("round_mode") {
            guard let rounding = Float8E8M0.Rounding(rawValue: mode) else {
                throw context.invalid("round_mode must be \"up\", \"down\" or \"nearest\", not \"\(mode)\"")
            }
            self.rounding = rounding
        }
    }

    init() {}
}

enum ElementCast {
    /// Elements converted per block; a multiple of 4 so that packed 2- and 4-bit outputs are
    /// written by whole bytes, one block per thread at a time.
    private static let block = 4096

    /// Whether `type` can be read and written by the casts.
    static func supports(_ type: ElementType) -> Bool {
        isIntegral(type) || type == .float32 || type == .float64 || type == .float8e8m0 || SmallFloatFormat.of(type) != nil
    }

    /// Integers of any width and bool: converted among themselves through Int64.
    private static func isIntegral(_ type: ElementType) -> Bool {
        type.isInteger || type == .bool
    }

    /// `x` converted to `type`, in a new array.
    static func converted(_ x: NDArray, to type: ElementType, options: CastOptions = CastOptions(), threads: Int) -> NDArray {
        if x.elementType == type { return x }
        let out = NDArray(type, shape: x.shape)
        convert(x, into: out, options: options, threads: threads)
        return out
    }

    /// Converts every element of `x` into `out`, which has the same element count. Both types
    /// must be `supports`ed.
    static func convert(_ x: NDArray, into out: NDArray, options: CastOptions, threads: Int) {
        let count = x.count
        if x.elementType == out.elementType {
            out.buffer.pointer.copyMemory(from: x.buffer.pointer, byteCount: x.byteCount)
            return
        }
        // float32 ↔ float16/bfloat16, the common casts of half-precision models, directly.
        if x.elementType == .float32 && out.elementType.computesInFloat32 {
            narrowFromFloat32(x, into: out, threads: threads)
            return
        }
        if x.elementType.computesInFloat32 && out.elementType == .float32 {
            widenToFloat32(x, into: out, threads: threads)
            return
        }
        // Packed outputs are assembled by OR-ing fields into zeroed bytes (padding bits stay 0).
        if (out.elementType.bitWidth ?? 8) < 8 {
            out.buffer.pointer.initializeMemory(as: UInt8.self, repeating: 0, count: out.byteCount)
        }
        let blocks = (count + block - 1) / block
        let viaIntegers = isIntegral(x.elementType) && isIntegral(out.elementType)
        Parallel.chunks(blocks, threads: threads, grain: 4) { range in
            if viaIntegers {
                withUnsafeTemporaryAllocation(of: Int64.self, capacity: block) { buffer in
                    for b in range {
                        let start = b * block, n = min(block, count - start)
                        readIntegers(x, start, n, buffer.baseAddress!)
                        writeIntegers(buffer.baseAddress!, out, start, n)
                    }
                }
            } else {
                withUnsafeTemporaryAllocation(of: Double.self, capacity: block) { buffer in
                    for b in range {
                        let start = b * block, n = min(block, count - start)
                        readReals(x, start, n, buffer.baseAddress!)
                        writeReals(buffer.baseAddress!, out, start, n, options)
                    }
                }
            }
        }
    }

    // MARK: Packed fields

    /// Field i of a packed array of `bits`-wide fields (low bits first), unsigned.
    @inline(__always) private static func field(_ bytes: UnsafePointer<UInt8>, _ i: Int, bits: Int) -> UInt8 {
        let perByte = 8 / bits
        return (bytes[i / perByte] >> UInt8((i % perByte) * bits)) & UInt8((1 << bits) - 1)
    }

    /// Sets field i (of a zeroed packed array) to the low `bits` of `value`.
    @inline(__always) private static func setField(_ bytes: UnsafeMutablePointer<UInt8>, _ i: Int, bits: Int, _ value: UInt8) {
        let perByte = 8 / bits
        bytes[i / perByte] |= (value & UInt8((1 << bits) - 1)) << UInt8((i % perByte) * bits)
    }

    /// A signed field value from its unsigned bits.
    @inline(__always) private static func signExtended(_ value: UInt8, bits: Int) -> Int64 {
        let v = Int64(value)
        return v >= 1 << (bits - 1) ? v - (1 << bits) : v
    }

    // MARK: Through Int64

    private static func readIntegers(_ x: NDArray, _ start: Int, _ n: Int, _ to: UnsafeMutablePointer<Int64>) {
        func read<T: FixedWidthInteger>(_: T.Type) {
            let p = x.pointer(as: T.self) + start
            for i in 0..<n { to[i] = Int64(truncatingIfNeeded: p[i]) }
        }
        let bytes = x.pointer(as: UInt8.self)
        switch x.elementType {
        case .bool: for i in 0..<n { to[i] = bytes[start + i] != 0 ? 1 : 0 }
        case .int8: read(Int8.self)
        case .int16: read(Int16.self)
        case .int32: read(Int32.self)
        case .int64: read(Int64.self)
        case .uint8: read(UInt8.self)
        case .uint16: read(UInt16.self)
        case .uint32: read(UInt32.self)
        case .uint64: read(UInt64.self)
        case .uint4: for i in 0..<n { to[i] = Int64(field(bytes, start + i, bits: 4)) }
        case .int4: for i in 0..<n { to[i] = signExtended(field(bytes, start + i, bits: 4), bits: 4) }
        case .uint2: for i in 0..<n { to[i] = Int64(field(bytes, start + i, bits: 2)) }
        case .int2: for i in 0..<n { to[i] = signExtended(field(bytes, start + i, bits: 2), bits: 2) }
        default: for i in 0..<n { to[i] = 0 }
        }
    }

    /// Integers narrow by keeping their low bits (ONNX: "discard higher bits and reinterpret").
    private static func writeIntegers(_ from: UnsafePointer<Int64>, _ out: NDArray, _ start: Int, _ n: Int) {
        func write<T: FixedWidthInteger>(_: T.Type) {
            let p = out.pointer(as: T.self) + start
            for i in 0..<n { p[i] = T(truncatingIfNeeded: from[i]) }
        }
        let bytes = out.pointer(as: UInt8.self)
        switch out.elementType {
        case .bool: for i in 0..<n { bytes[start + i] = from[i] != 0 ? 1 : 0 }
        case .int8: write(Int8.self)
        case .int16: write(Int16.self)
        case .int32: write(Int32.self)
        case .int64: write(Int64.self)
        case .uint8: write(UInt8.self)
        case .uint16: write(UInt16.self)
        case .uint32: write(UInt32.self)
        case .uint64: write(UInt64.self)
        case .uint4, .int4: for i in 0..<n { setField(bytes, start + i, bits: 4, UInt8(truncatingIfNeeded: from[i])) }
        case .uint2, .int2: for i in 0..<n { setField(bytes, start + i, bits: 2, UInt8(truncatingIfNeeded: from[i])) }
        default: break
        }
    }

    // MARK: Through Double

    private static func readReals(_ x: NDArray, _ start: Int, _ n: Int, _ to: UnsafeMutablePointer<Double>) {
        func read<T: BinaryInteger>(_: T.Type) {
            let p = x.pointer(as: T.self) + start
            for i in 0..<n { to[i] = Double(p[i]) }
        }
        let bytes = x.pointer(as: UInt8.self)
        switch x.elementType {
        case .float32:
            let p = x.pointer(as: Float.self) + start
            for i in 0..<n { to[i] = Double(p[i]) }
        case .float64:
            (to).update(from: x.pointer(as: Double.self) + start, count: n)
        case .float16:
            let p = x.pointer(as: UInt16.self) + start
            for i in 0..<n { to[i] = Double(halfToFloat(p[i])) }
        case .bfloat16:
            let p = x.pointer(as: UInt16.self) + start
            for i in 0..<n { to[i] = Double(bfloat16ToFloat(p[i])) }
        case .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz:
            let format = SmallFloatFormat.of(x.elementType)!
            for i in 0..<n { to[i] = format.decode(UInt32(bytes[start + i])) }
        case .float8e8m0:
            for i in 0..<n { to[i] = Float8E8M0.decode(bytes[start + i]) }
        case .float4e2m1:
            for i in 0..<n { to[i] = SmallFloatFormat.float4e2m1.decode(UInt32(field(bytes, start + i, bits: 4))) }
        case .bool: for i in 0..<n { to[i] = bytes[start + i] != 0 ? 1 : 0 }
        case .int8: read(Int8.self)
        case .int16: read(Int16.self)
        case .int32: read(Int32.self)
        case .int64: read(Int64.self)
        case .uint8: read(UInt8.self)
        case .uint16: read(UInt16.self)
        case .uint32: read(UInt32.self)
        case .uint64: read(UInt64.self)
        case .uint4: for i in 0..<n { to[i] = Double(field(bytes, start + i, bits: 4)) }
        case .int4: for i in 0..<n { to[i] = Double(signExtended(field(bytes, start + i, bits: 4), bits: 4)) }
        case .uint2: for i in 0..<n { to[i] = Double(field(bytes, start + i, bits: 2)) }
        case .int2: for i in 0..<n { to[i] = Double(signExtended(field(bytes, start + i, bits: 2), bits: 2)) }
        default: for i in 0..<n { to[i] = 0 }
        }
    }

    /// A float as an integer: truncated toward zero, clamped to Int64 (NaN as 0) — ONNX leaves
    /// out-of-range values undefined — then narrowed by keeping the low bits, as integers narrow.
    @inline(__always) private static func truncated(_ d: Double) -> Int64 {
        IntegerArithmetic<Int64>.fromDouble(d)
    }

    private static func writeReals(_ from: UnsafePointer<Double>, _ out: NDArray, _ start: Int, _ n: Int, _ options: CastOptions) {
        func write<T: FixedWidthInteger>(_: T.Type) {
            let p = out.pointer(as: T.self) + start
            for i in 0..<n { p[i] = T(truncatingIfNeeded: truncated(from[i])) }
        }
        let bytes = out.pointer(as: UInt8.self)
        switch out.elementType {
        case .float32:
            let p = out.pointer(as: Float.self) + start
            for i in 0..<n { p[i] = Float(from[i]) }
        case .float64:
            (out.pointer(as: Double.self) + start).update(from: from, count: n)
        case .float16, .bfloat16:
            // Plain IEEE conversions: out-of-range values become infinity (saturate is float8's).
            let format = SmallFloatFormat.of(out.elementType)!
            let p = out.pointer(as: UInt16.self) + start
            for i in 0..<n { p[i] = UInt16(truncatingIfNeeded: format.encode(from[i], saturate: false)) }
        case .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz:
            let format = SmallFloatFormat.of(out.elementType)!
            for i in 0..<n { bytes[start + i] = UInt8(truncatingIfNeeded: format.encode(from[i], saturate: options.saturate)) }
        case .float8e8m0:
            for i in 0..<n {
                bytes[start + i] = Float8E8M0.encode(Float(from[i]), saturate: options.saturate, rounding: options.rounding)
            }
        case .float4e2m1:
            for i in 0..<n {
                setField(bytes, start + i, bits: 4, UInt8(truncatingIfNeeded: SmallFloatFormat.float4e2m1.encode(from[i], saturate: true)))
            }
        case .bool: for i in 0..<n { bytes[start + i] = from[i] != 0 ? 1 : 0 }
        case .int8: write(Int8.self)
        case .int16: write(Int16.self)
        case .int32: write(Int32.self)
        case .int64: write(Int64.self)
        case .uint8: write(UInt8.self)
        case .uint16: write(UInt16.self)
        case .uint32: write(UInt32.self)
        case .uint64:
            // Beyond Int64 the value is still representable: convert it directly.
            let p = out.pointer(as: UInt64.self) + start
            for i in 0..<n { p[i] = from[i] >= 0x1p63 ? IntegerArithmetic<UInt64>.fromDouble(from[i]) : UInt64(truncatingIfNeeded: truncated(from[i])) }
        case .uint4, .int4: for i in 0..<n { setField(bytes, start + i, bits: 4, UInt8(truncatingIfNeeded: truncated(from[i]))) }
        case .uint2, .int2: for i in 0..<n { setField(bytes, start + i, bits: 2, UInt8(truncatingIfNeeded: truncated(from[i]))) }
        default: break
        }
    }
}
