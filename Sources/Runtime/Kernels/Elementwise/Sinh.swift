/// Sinh: the hyperbolic sine.
struct SinhOp: RealUnaryOp {
    @inline(__always) func apply<A: RealArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value { A.sinh(x) }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { RealMapKernel(SinhOp()).specialized() }
}
