/// Selu: gamma·x for x > 0, gamma·alpha·(eˣ − 1) otherwise, with the defaults of the paper.
struct SeluOp: RealUnaryOp {
    let alpha: Float
    let gamma: Float

    @inline(__always) func apply<A: RealArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value {
        A.Value(gamma) * (x > 0 ? x : A.Value(alpha) * A.expm1(x))
    }

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        RealMapKernel(SeluOp(alpha: context.node.float("alpha") ?? 1.67326319217681884765625,
                             gamma: context.node.float("gamma") ?? 1.05070102214813232421875)).specialized()
    }
}
