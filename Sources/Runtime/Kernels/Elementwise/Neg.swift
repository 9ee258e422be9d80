/// Neg: −x (signed integers wrap at their minimum).
struct NegOp: NumericUnaryOp {
    @inline(__always) func apply<A: ElementArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value { A.negate(x) }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { NumericMapKernel(NegOp()).specialized() }
}
