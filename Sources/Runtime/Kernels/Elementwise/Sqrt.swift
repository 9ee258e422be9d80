/// Sqrt: the square root (NaN below zero).
struct SqrtOp: RealUnaryOp {
    @inline(__always) func apply<A: RealArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value { x.squareRoot() }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { RealMapKernel(SqrtOp()).specialized() }
}
