/// Ceil: the smallest integer not below x.
struct CeilOp: RealUnaryOp {
    @inline(__always) func apply<A: RealArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value { x.rounded(.up) }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { RealMapKernel(CeilOp()).specialized() }
}
