/// HardSwish: x · max(0, min(1, x/6 + 0.5)).
struct HardSwishOp: RealUnaryOp {
    @inline(__always) func apply<A: RealArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value {
        x * A.maximum(0, A.minimum(1, x / 6 + 0.5))
    }

    /// `apply` on eight float32 lanes, exactly.
    @inline(__always) static func apply(_ x: SIMD8<Float>) -> SIMD8<Float> { x * HardSigmoidOp.unitClamp(x / 6 + 0.5) }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { RealMapKernel(HardSwishOp()).specialized() }
}
