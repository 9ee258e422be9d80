/// Mish: x · tanh(softplus(x)).
struct MishOp: RealUnaryOp {
    @inline(__always) func apply<A: RealArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value {
        x * A.tanh(SoftplusOp().apply(x, A.self))
    }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { RealMapKernel(MishOp()).specialized() }
}
