/// Atan: the arctangent.
struct AtanOp: RealUnaryOp {
    @inline(__always) func apply<A: RealArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value { A.atan(x) }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { RealMapKernel(AtanOp()).specialized() }
}
