/// Shrink: x + bias below −lambd, x − bias above lambd, 0 between (lambd 0.5, bias 0 by
/// default); integers are compared with the float thresholds, as the reference does.
struct ShrinkOp: NumericUnaryOp {
    let lambd: Double
    let bias: Double

    @inline(__always) func apply<A: ElementArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value {
        let v = A.double(x)
        if v < -lambd { return A.fromDouble(v + bias) }
        if v > lambd { return A.fromDouble(v - bias) }
        return A.zero
    }

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        NumericMapKernel(ShrinkOp(lambd: Double(context.node.float("lambd") ?? 0.5),
                                  bias: Double(context.node.float("bias") ?? 0))).specialized()
    }
}
