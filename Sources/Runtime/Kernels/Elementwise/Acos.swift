/// Acos: the arccosine (NaN outside [−1, 1]).
struct AcosOp: RealUnaryOp {
    @inline(__always) func apply<A: RealArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value { A.acos(x) }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { RealMapKernel(AcosOp()).specialized() }
}
