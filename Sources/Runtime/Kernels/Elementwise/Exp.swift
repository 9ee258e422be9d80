/// Exp: eˣ.
struct ExpOp: RealUnaryOp {
    @inline(__always) func apply<A: RealArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value { A.exp(x) }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { RealMapKernel(ExpOp()).specialized() }
}
