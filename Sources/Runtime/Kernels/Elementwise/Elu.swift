/// Elu: x for x > 0, alpha·(eˣ − 1) otherwise (alpha defaults to 1).
struct EluOp: RealUnaryOp {
    let alpha: Float

    @inline(__always) func apply<A: RealArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value {
        x > 0 ? x : A.Value(alpha) * A.expm1(x)
    }

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        RealMapKernel(EluOp(alpha: context.node.float("alpha") ?? 1)).specialized()
    }
}
