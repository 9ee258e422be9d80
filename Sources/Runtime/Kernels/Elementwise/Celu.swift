/// Celu: max(0, x) + min(0, alpha·(e^(x/alpha) − 1)), alpha 1 by default.
struct CeluOp: RealUnaryOp {
    let alpha: Float

    @inline(__always) func apply<A: RealArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value {
        let a = A.Value(alpha)
        return A.maximum(0, x) + A.minimum(0, a * A.expm1(x / a))
    }

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        RealMapKernel(CeluOp(alpha: context.node.float("alpha") ?? 1)).specialized()
    }
}
