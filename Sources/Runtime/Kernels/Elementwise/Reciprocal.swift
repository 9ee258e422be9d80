/// Reciprocal: 1 / x.
struct ReciprocalOp: RealUnaryOp {
    @inline(__always) func apply<A: RealArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value { 1 / x }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { RealMapKernel(ReciprocalOp()).specialized() }
}
