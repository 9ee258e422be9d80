/// Relu: max(0, x), for floats and signed integers. The bound comes first so that a NaN stays NaN
/// and x is kept whenever it is not below 0 (−0 stays −0): exactly what a vector max instruction
/// computes, so the lane-wise form compiles to one.
struct ReluOp: NumericUnaryOp {
    @inline(__always) func apply<A: ElementArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value {
        A.maximum(A.zero, x)
    }

    /// `apply` on eight float32 lanes, exactly: 0 only where x < 0 (NaN and −0 stay). Replacing
    /// with 0 is a compare and an and-not, vectorized in any caller.
    @inline(__always) static func apply(_ x: SIMD8<Float>) -> SIMD8<Float> { x.replacing(with: 0, where: x .< 0) }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { NumericMapKernel(ReluOp()).specialized() }
}
