/// Tan: the tangent.
struct TanOp: RealUnaryOp {
    @inline(__always) func apply<A: RealArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value { A.tan(x) }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { RealMapKernel(TanOp()).specialized() }
}
