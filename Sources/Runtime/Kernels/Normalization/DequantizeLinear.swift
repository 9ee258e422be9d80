import Graph

/// DequantizeLinear: y = (x − zero_point) · scale, per tensor, per axis or per block (see
/// QuantizationLayout), for 8/16/32-bit and packed 4/2-bit integers, float8 and float4e2m1 x
/// (whose zero point must be 0, and is ignored for float4e2m1 as in the ONNX reference). The
/// output has the scale's type, or `output_dtype`.
struct DequantizeLinear: Kernel {
    let axis: Int64
    let blockSize: Int64
    let outputType: ElementType?

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        let node = context.node
        let raw = node.int("output_dtype", default: 0)
        guard raw == 0 || ElementType(rawValue: Int(raw))?.isFloatingPoint == true else {
            throw context.invalid("output_dtype \(raw) is not a floating-point element type")
        }
        return DequantizeLinear(axis: node.int("axis", default: 1), blockSize: node.int("block_size", default: 0),
                                outputType: raw == 0 ? nil : ElementType(rawValue: Int(raw)))
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let x = try NormSupport.required(inputs, 0, context)
        let scale = try NormSupport.required(inputs, 1, context)
        let zeroPoint = inputs.count > 2 ? inputs[2] : nil
        if let y = try int8ToFloat(x, scale, zeroPoint, context) { return [y] }
        let isMinifloat = QuantizedElements.minifloat(x.elementType) != nil
        guard QuantizedElements.integerRange(x.elementType) != nil || isMinifloat, let xs = QuantizedElements.floats(x) else {
            throw context.failure("cannot dequantize \(x.elementType)")
        }
        guard scale.elementType.isFloatingPoint, let scales = QuantizedElements.floats(scale) else {
            throw context.failure("scale must be floating point, got \(scale.elementType)")
        }
        let layout = try QuantizationLayout(x: x.shape, scale: scale.shape, axis: axis, blockSize: blockSize, context)
        var zeros = [Float](repeating: 0, count: scales.count)
        if let zeroPoint {
            guard zeroPoint.count == scale.count, let values = QuantizedElements.floats(zeroPoint) else {
                throw context.failure("zero point of shape \(zeroPoint.shape) does not match scale of shape \(scale.shape)")
            }
            if isMinifloat {
                guard x.elementType == .float4e2m1 || values.allSatisfy({ $0 == 0 }) else {
                    throw context.failure("the zero point of \(x.elementType) must be 0")
                }
            } else {
                guard zeroPoint.elementType == x.elementType else {
                    throw context.failure("zero point type \(zeroPoint.elementType) differs from x's \(x.elementType)")
                }
                zeros = values
            }
        }
        var values = [Float](repeating: 0, count: x.count)
        values.withUnsafeMutableBufferPointer { values in
            layout.forEach(threads: context.threads) { i, p in values[i] = (xs[i] - zeros[p]) * scales[p] }
        }
        let y = context.output(0, outputType ?? scale.elementType, x.shape)
        guard NormSupport.store(values, into: y) else { throw context.failure("cannot write \(y.elementType) output") }
        return [y]
    }

    /// int8/uint8 to float32, per tensor or per axis: the stored-weight case (`--int8-weights`),
    /// one pass with no intermediate arrays. Nil for every other case.
    private func int8ToFloat(_ x: NDArray, _ scale: NDArray, _ zeroPoint: NDArray?, _ context: KernelContext) throws -> NDArray? {
        guard x.elementType == .int8 || x.elementType == .uint8, scale.elementType == .float32, blockSize == 0,
              (outputType ?? .float32) == .float32, zeroPoint.map({ $0.elementType == x.elementType && $0.count == scale.count }) ?? true
        else { return nil }
        let rank = Int64(x.rank)
        let perAxis = scale.count > 1 || scale.rank == 1
        guard !perAxis || (axis >= -rank && axis < rank) else { return nil }
        let a = perAxis ? Int(axis < 0 ? axis + rank : axis) : 0
        let channels = perAxis ? x.shape[a] : 1
        guard scale.count == channels, scale.rank <= 1 else { return nil }
        let inner = perAxis ? x.shape[(a + 1)...].reduce(1, *) : x.count
        let outer = perAxis ? x.shape[..<a].reduce(1, *) : 1
        let y = context.output(0, .float32, x.shape)
        let out = y.pointer(as: Float.self), scales = scale.pointer(as: Float.self)
        let signed = x.elementType == .int8
        let source = x.buffer.pointer
        // Rows of one channel each, split across the threads (a large model's weights are memory-bound
        // work: one thread wrote a U-Net's 7.7 MB in 1 ms).
        Parallel.chunks(outer * channels, threads: context.threads, grain: max(1, (1 << 16) / max(inner, 1))) { rows in
            for row in rows {
                let c = row % channels
                let s = scales[c]
                let zero: Float = zeroPoint.map { z in signed ? Float(z.pointer(as: Int8.self)[c]) : Float(z.pointer(as: UInt8.self)[c]) } ?? 0
                let start = row * inner
                if signed {
                    Self.dequantize(source.assumingMemoryBound(to: Int8.self) + start, out + start, count: inner, zero: zero, scale: s)
                } else {
                    Self.dequantize(source.assumingMemoryBound(to: UInt8.self) + start, out + start, count: inner, zero: zero, scale: s)
                }
            }
        }
        return y
    }

    /// out[i] = (Float(q[i]) − zero) · scale, eight elements a vector: the same operations in the
    /// same order as the scalar tail, so the same bits. (Written as a loop over elements, this
    /// did not vectorize: dequantizing a U-Net's int8 weights took 1.2 ms of its 1.5 ms load.)
    @inline(__always)
    private static func dequantize<Q: FixedWidthInteger & SIMDScalar>(
        _ q: UnsafePointer<Q>, _ out: UnsafeMutablePointer<Float>, count: Int, zero: Float, scale: Float
    ) {
        var i = 0
        while i + 8 <= count {
            let stored = UnsafeRawPointer(q + i).loadUnaligned(as: SIMD8<Q>.self)
            let values = (SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: stored)) - zero) * scale
            UnsafeMutableRawPointer(out + i).storeBytes(of: values, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            out[i] = (Float(q[i]) - zero) * scale
            i += 1
        }
    }
}
