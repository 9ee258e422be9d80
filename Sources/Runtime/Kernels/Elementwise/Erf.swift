/// Erf: the error function.
struct ErfOp: RealUnaryOp {
    @inline(__always) func apply<A: RealArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value { A.erf(x) }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { RealMapKernel(ErfOp()).specialized() }
}
