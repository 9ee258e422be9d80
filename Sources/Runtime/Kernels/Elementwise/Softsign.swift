/// Softsign: x / (1 + |x|).
struct SoftsignOp: RealUnaryOp {
    @inline(__always) func apply<A: RealArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value {
        x / (1 + Swift.abs(x))
    }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { RealMapKernel(SoftsignOp()).specialized() }
}
