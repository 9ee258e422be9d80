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
}
