/// Asin: the arcsine (NaN outside [−1, 1]).
struct AsinOp: RealUnaryOp {
    @inline(__always) func apply<A: RealArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value { A.asin(x) }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { RealMapKernel(AsinOp()).specialized() }
}
