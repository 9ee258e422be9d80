/// Atanh: the inverse hyperbolic tangent (NaN outside [−1, 1]).
struct AtanhOp: RealUnaryOp {
    @inline(__always) func apply<A: RealArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value { A.atanh(x) }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { RealMapKernel(AtanhOp()).specialized() }
}
