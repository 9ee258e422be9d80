/// ThresholdedRelu: x where x > alpha, else 0 (alpha 1 by default).
struct ThresholdedReluOp: RealUnaryOp {
    let alpha: Float

    @inline(__always) func apply<A: RealArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value {
        x > A.Value(alpha) ? x : 0
    }

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        RealMapKernel(ThresholdedReluOp(alpha: context.node.float("alpha") ?? 1)).specialized()
    }
}
