import Foundation
import Graph

/// QuantizeLinear: y = saturate(round(x / scale) + zero_point), rounding half to even, per tensor,
/// per axis or per block (see QuantizationLayout). The output type is the zero point's, else
/// `output_dtype`, else uint8. For float8 outputs x / scale is rounded to the nearest float8
/// (`saturate` clamps overflow to the largest value); float4e2m1 adds its zero point first and
/// always saturates. Sub-byte outputs are packed two or four per byte.
struct QuantizeLinear: Kernel {
    let axis: Int64
    let blockSize: Int64
    let saturate: Bool
    let outputType: ElementType?
    /// The type the division is done in (`precision`, opset 23+).
    let precision: ElementType?

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        let node = context.node
        func type(_ name: String) throws -> ElementType? {
            let raw = node.int(name, default: 0)
            guard raw != 0 else { return nil }
            guard let type = ElementType(rawValue: Int(raw)) else { throw context.invalid("\(name) \(raw) is not an element type") }
            return type
        }
        return QuantizeLinear(axis: node.int("axis", default: 1), blockSize: node.int("block_size", default: 0),
                              saturate: node.int("saturate", default: 1) != 0,
                              outputType: try type("output_dtype"), precision: try type("precision"))
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let x = try NormSupport.required(inputs, 0, context)
        let scale = try NormSupport.required(inputs, 1, context)
        let zeroPoint = inputs.count > 2 ? inputs[2] : nil
        let target = zeroPoint?.elementType ?? outputType ?? .uint8
        if let outputType, outputType != target {
            throw context.failure("output_dtype \(outputType) differs from the zero point's type \(target)")
        }
        let range = QuantizedElements.integerRange(target)
        let format = QuantizedElements.minifloat(target)
        guard (range != nil && target != .int32) || format != nil else {
            throw context.failure("cannot quantize to \(target)")
        }
        guard x.elementType.isFloatingPoint || x.elementType == .int32, scale.elementType.isFloatingPoint,
              let xs = QuantizedElements.floats(x), let scales = QuantizedElements.floats(scale) else {
            throw context.failure("cannot quantize \(x.elementType) with a \(scale.elementType) scale")
        }
        let layout = try QuantizationLayout(x: x.shape, scale: scale.shape, axis: axis, blockSize: blockSize, context)
        var zeros = [Float](repeating: 0, count: scales.count)
        if let zeroPoint {
            guard zeroPoint.count == scale.count, let values = QuantizedElements.floats(zeroPoint) else {
                throw context.failure("zero point of shape \(zeroPoint.shape) does not match scale of shape \(scale.shape)")
            }
            guard format == nil || target == .float4e2m1 || values.allSatisfy({ $0 == 0 }) else {
                throw context.failure("the zero point of a \(target) quantization must be 0")
            }
            zeros = values
        }
        let divide = division(x.elementType, scale.elementType)
        let saturate = saturate
        var codes = [Int64](repeating: 0, count: x.count)
        codes.withUnsafeMutableBufferPointer { codes in
            layout.forEach(threads: context.threads) { i, p in
                let q = divide(xs[i], scales[p])
                if let range {
                    // Clamp in Double so that huge quotients cannot overflow the conversion. NaN
                    // goes to the bottom of the range, as numpy's cast to int32 then clip does.
                    let rounded = q.isNaN ? -1e15 : Swift.max(-1e15, Swift.min(1e15, Double(q).rounded(.toNearestOrEven)))
                    codes[i] = Swift.min(Swift.max(Int64(rounded) + Int64(zeros[p]), range.lowerBound), range.upperBound)
                } else if let format {
                    codes[i] = Int64(format.encode(Double(target == .float4e2m1 ? q + zeros[p] : q), saturate: saturate))
                }
            }
        }
        let y = context.output(0, target, x.shape)
        QuantizedElements.store(codes, into: y)
        return [y]
    }

    /// x / scale as the ONNX reference computes it: in `precision` when given, else in the type
    /// numpy promotes the two to (half types stay half; int32 with float32 goes to float64).
    private func division(_ x: ElementType, _ scale: ElementType) -> @Sendable (Float, Float) -> Float {
        let type = precision ?? (x == scale ? x : (x == .float64 || scale == .float64 || x == .int32 ? .float64 : .float32))
        switch type {
        case .float64: return { Float(Double($0) / Double($1)) }
        case .float16: return { a, b in
            let h = { HalfStorage.load(HalfStorage.store($0)) }
            return h(h(a) / h(b))
        }
        case .bfloat16: return { a, b in
            let h = { BFloat16Storage.load(BFloat16Storage.store($0)) }
            return h(h(a) / h(b))
        }
        default: return { $0 / $1 }
        }
    }
}
