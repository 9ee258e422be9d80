/// Softplus: ln(1 + eˣ), as max(x, 0) + ln(1 + e^−|x|) so large |x| neither overflows nor loses digits.
struct SoftplusOp: RealUnaryOp {
    @inline(__always) func apply<A: RealArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value {
        A.maximum(x, 0) + A.log1p(A.exp(-Swift.abs(x)))
    }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { RealMapKernel(SoftplusOp()).specialized() }
}
