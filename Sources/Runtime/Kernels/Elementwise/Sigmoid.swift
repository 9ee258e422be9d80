/// Sigmoid: 1 / (1 + e⁻ˣ), written so that neither branch overflows.
struct SigmoidOp: RealUnaryOp {
    @inline(__always) func apply<A: RealArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value {
        if x >= 0 { return 1 / (1 + A.exp(-x)) }
        let e = A.exp(x)
        return e / (1 + e)
    }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { RealMapKernel(SigmoidOp()).specialized() }
}
