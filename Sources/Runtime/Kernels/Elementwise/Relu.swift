/// Relu: max(x, 0), for floats and signed integers.
struct ReluOp: NumericUnaryOp {
    @inline(__always) func apply<A: ElementArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value {
        A.maximum(x, A.zero)
    }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { NumericMapKernel(ReluOp()).specialized() }
}
