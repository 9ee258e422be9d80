/// Mul: a · b with numpy broadcasting (integers wrap).
struct MulOp: NumericBinaryOp {
    @inline(__always) func apply<A: ElementArithmetic>(_ a: A.Value, _ b: A.Value, _ arithmetic: A.Type) -> A.Value {
        A.multiply(a, b)
    }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { BroadcastKernel(MulOp()).specialized() }
}
