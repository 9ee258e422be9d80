/// Sin: the sine.
struct SinOp: RealUnaryOp {
    @inline(__always) func apply<A: RealArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value { A.sin(x) }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { RealMapKernel(SinOp()).specialized() }
}
