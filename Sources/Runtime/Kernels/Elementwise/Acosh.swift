/// Acosh: the inverse hyperbolic cosine (NaN below 1).
struct AcoshOp: RealUnaryOp {
    @inline(__always) func apply<A: RealArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value { A.acosh(x) }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { RealMapKernel(AcoshOp()).specialized() }
}
