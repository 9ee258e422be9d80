import Graph

/// Clip: min(hi, max(lo, x)) — so hi wins when lo > hi, as the spec says. The bounds are
/// optional scalar inputs from opset 11 on, float attributes `min`/`max` before; integer
/// tensors are clipped in their own type. Bounds come first in `maximum`/`minimum`: x is
/// replaced only when strictly outside them (a NaN x stays NaN, a NaN bound gives NaN), which is
/// what vector max/min instructions compute, so the loops compile to them.
struct ClipKernel: Kernel {
    /// The attribute bounds of opsets before 11.
    let lowerAttribute: Float?
    let upperAttribute: Float?

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        if context.opsetVersion < 11 {
            return ClipKernel(lowerAttribute: context.node.float("min"), upperAttribute: context.node.float("max"))
        }
        return ClipKernel(lowerAttribute: nil, upperAttribute: nil)
    }

    /// minimum(upper, maximum(lower, x)) on eight float32 lanes, exactly as the scalar loop for
    /// non-NaN bounds (a NaN x stays NaN; an infinite bound changes nothing).
    @inline(__always) static func clamp(_ x: SIMD8<Float>, lower: Float, upper: Float) -> SIMD8<Float> {
        x.eachLane { clamp($0, lower: lower, upper: upper) }
    }

    /// `clamp` on one value.
    @inline(__always) static func clamp(_ value: Float, lower: Float, upper: Float) -> Float {
        let raised = value < lower ? lower : value
        return raised > upper ? upper : raised
    }

    private struct Clamp: ArithmeticVisitor {
        let x: NDArray, lower: NDArray?, upper: NDArray?, lowerAttribute: Float?, upperAttribute: Float?
        let out: NDArray, threads: Int

        func visit<A: ElementArithmetic>(_ arithmetic: A.Type) {
            let lo = lower.map { $0.pointer(as: A.Value.self)[0] } ?? lowerAttribute.map { A.fromDouble(Double($0)) }
            let hi = upper.map { $0.pointer(as: A.Value.self)[0] } ?? upperAttribute.map { A.fromDouble(Double($0)) }
            let source = x.pointer(as: A.Value.self), target = out.pointer(as: A.Value.self)
            // One loop per combination of bounds, with no optional left inside it.
            Parallel.chunks(x.count, threads: threads, grain: elementwiseGrain) { range in
                switch (lo, hi) {
                case let (lo?, hi?): for i in range { target[i] = A.minimum(hi, A.maximum(lo, source[i])) }
                case let (lo?, nil): for i in range { target[i] = A.maximum(lo, source[i]) }
                case let (nil, hi?): for i in range { target[i] = A.minimum(hi, source[i]) }
                case (nil, nil): for i in range { target[i] = source[i] }
                }
            }
        }
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let x = try requiredInput(inputs, 0, context)
        var operands = [x]
        var bounds: [NDArray?] = []
        for i in 1...2 {
            guard i < inputs.count, let bound = inputs[i] else {
                bounds.append(nil)
                continue
            }
            guard bound.count == 1 else { throw context.failure("Clip bound \(i) must be a scalar, has shape \(bound.shape)") }
            try requireSameType(x, bound, context)
            bounds.append(bound)
            operands.append(bound)
        }
        let out = try computeBridgingHalves(operands, outputType: x.elementType, shape: x.shape, context) { wide, out in
            // Present bounds follow x in `wide`.
            let lower = bounds[0] != nil ? wide[1] : nil
            let upper = bounds[1] != nil ? wide[bounds[0] != nil ? 2 : 1] : nil
            let clamp = Clamp(x: wide[0], lower: lower, upper: upper, lowerAttribute: lowerAttribute,
                              upperAttribute: upperAttribute, out: out, threads: context.threads)
            guard try wide[0].elementType.visitArithmetic(clamp) != nil else {
                throw context.failure("Clip does not support \(x.elementType) inputs")
            }
        }
        return [out]
    }
}
