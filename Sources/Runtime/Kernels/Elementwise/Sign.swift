/// Sign: −1, 0 or 1 by the sign of x (NaN stays NaN).
struct SignOp: NumericUnaryOp {
    @inline(__always) func apply<A: ElementArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value {
        if x > A.zero { return A.one }
        if x < A.zero { return A.negate(A.one) }
        return x
    }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { NumericMapKernel(SignOp()).specialized() }
}
