/// HardSigmoid: max(0, min(1, alpha·x + beta)), alpha 0.2 and beta 0.5 by default.
struct HardSigmoidOp: RealUnaryOp {
    let alpha: Float
    let beta: Float

    @inline(__always) func apply<A: RealArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value {
        A.maximum(0, A.minimum(1, A.Value(alpha) * x + A.Value(beta)))
    }

    /// `apply` on eight float32 lanes, exactly (the same operations; a NaN stays NaN).
    @inline(__always) func apply(_ x: SIMD8<Float>) -> SIMD8<Float> { Self.unitClamp(alpha * x + beta) }

    /// maximum(0, minimum(1, t)) lane by lane, as the scalar `maximum`/`minimum` pick.
    @inline(__always) static func unitClamp(_ t: SIMD8<Float>) -> SIMD8<Float> {
        let upper = t.replacing(with: 1, where: t .> 1)
        return upper.replacing(with: 0, where: upper .< 0)
    }

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        RealMapKernel(HardSigmoidOp(alpha: context.node.float("alpha") ?? 0.2, beta: context.node.float("beta") ?? 0.5)).specialized()
    }
}
