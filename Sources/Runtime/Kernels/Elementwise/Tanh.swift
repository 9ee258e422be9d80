/// Tanh: the hyperbolic tangent.
struct TanhOp: RealUnaryOp {
    @inline(__always) func apply<A: RealArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value { A.tanh(x) }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { RealMapKernel(TanhOp()).specialized() }
}
