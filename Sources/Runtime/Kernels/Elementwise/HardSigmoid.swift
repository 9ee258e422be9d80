/// HardSigmoid: max(0, min(1, alpha·x + beta)), alpha 0.2 and beta 0.5 by default.
struct HardSigmoidOp: RealUnaryOp {
    let alpha: Float
    let beta: Float

    @inline(__always) func apply<A: RealArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value {
        A.maximum(0, A.minimum(1, A.Value(alpha) * x + A.Value(beta)))
    }

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        RealMapKernel(HardSigmoidOp(alpha: context.node.float("alpha") ?? 0.2, beta: context.node.float("beta") ?? 0.5)).specialized()
    }
}
