/// Cos: the cosine.
struct CosOp: RealUnaryOp {
    @inline(__always) func apply<A: RealArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value { A.cos(x) }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { RealMapKernel(CosOp()).specialized() }
}
