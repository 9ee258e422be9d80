/// Abs: |x| (signed integers wrap at their minimum).
struct AbsOp: NumericUnaryOp {
    @inline(__always) func apply<A: ElementArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value { A.magnitude(x) }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { NumericMapKernel(AbsOp()).specialized() }
}
