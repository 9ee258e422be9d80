/// Relu: max(x, 0), for floats and signed integers.
struct ReluOp: NumericUnaryOp {
    @inline(__always) func apply<A: ElementArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value {
        A.maximum(x, A.zero)
    }

    /// `apply` on eight float32 lanes, exactly: a NaN stays NaN and −0 becomes 0, as `maximum` gives.
    @inline(__always) static func apply(_ x: SIMD8<Float>) -> SIMD8<Float> { x.replacing(with: 0, where: x .<= 0) }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { NumericMapKernel(ReluOp()).specialized() }
}
