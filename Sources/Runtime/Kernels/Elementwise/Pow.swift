import Graph

/// Pow: base^exponent with numpy broadcasting; the result has the base's type. Mixed types follow
/// numpy as the ONNX tests do: a float base takes the exponent converted to its type, integer
/// powers are exact (wrapping) in int64, and an integer base with a float exponent is computed in
/// float64 and truncated.
struct PowOp: NumericBinaryOp {
    @inline(__always) func apply<A: ElementArithmetic>(_ a: A.Value, _ b: A.Value, _ arithmetic: A.Type) -> A.Value {
        A.power(a, b)
    }
}

struct PowKernel: Kernel {
    static func make(_ context: KernelBuildContext) throws -> any Kernel { PowKernel() }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let base = try requiredInput(inputs, 0, context), exponent = try requiredInput(inputs, 1, context)
        let layout = try binaryLayout(base, exponent, context)
        let type = base.elementType, threads = context.threads
        guard ElementCast.supports(exponent.elementType), exponent.elementType.isFloatingPoint || exponent.elementType.isInteger else {
            throw context.failure("Pow does not support \(exponent.elementType) exponents")
        }
        if type == .float32 || type == .float64 || type.computesInFloat32 {
            let computeType: ElementType = type.computesInFloat32 ? .float32 : type
            let e = ElementCast.converted(exponent, to: computeType, threads: threads)
            let out = try computeBridgingHalves([base, e], outputType: type, shape: layout.shape, context) { inputs, out in
                _ = try applyBinary(PowOp(), inputs[0], inputs[1], layout, into: out, threads: threads)
            }
            return [out]
        }
        guard type.isInteger, type.bitWidth ?? 0 >= 8 else { throw context.failure("Pow does not support \(type) bases") }
        // Integer bases: int64 arithmetic for integer exponents, float64 for float ones.
        let computeType: ElementType = exponent.elementType.isInteger ? .int64 : .float64
        let b = ElementCast.converted(base, to: computeType, threads: threads)
        let e = ElementCast.converted(exponent, to: computeType, threads: threads)
        if computeType == type {
            let out = context.output(0, type, layout.shape)
            _ = try applyBinary(PowOp(), b, e, layout, into: out, threads: threads)
            return [out]
        }
        let values = NDArray(computeType, shape: layout.shape)
        _ = try applyBinary(PowOp(), b, e, layout, into: values, threads: threads)
        let out = context.output(0, type, layout.shape)
        ElementCast.convert(values, into: out, options: CastOptions(), threads: threads)
        return [out]
    }
}
