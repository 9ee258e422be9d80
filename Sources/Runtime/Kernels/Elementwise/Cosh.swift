/// Cosh: the hyperbolic cosine.
struct CoshOp: RealUnaryOp {
    @inline(__always) func apply<A: RealArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value { A.cosh(x) }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { RealMapKernel(CoshOp()).specialized() }
}
