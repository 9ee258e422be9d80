/// LeakyRelu: x for x ≥ 0, alpha·x below (alpha defaults to 0.01).
struct LeakyReluOp: RealUnaryOp {
    let alpha: Float

    @inline(__always) func apply<A: RealArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value {
        x < 0 ? A.Value(alpha) * x : x
    }

    /// `apply` on eight float32 lanes, exactly.
    @inline(__always) func apply(_ x: SIMD8<Float>) -> SIMD8<Float> { x.replacing(with: alpha * x, where: x .< 0) }

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        RealMapKernel(LeakyReluOp(alpha: context.node.float("alpha") ?? 0.01)).specialized()
    }
}
