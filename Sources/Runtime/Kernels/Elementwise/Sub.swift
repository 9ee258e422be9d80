/// Sub: a − b with numpy broadcasting (integers wrap).
struct SubOp: NumericBinaryOp {
    @inline(__always) func apply<A: ElementArithmetic>(_ a: A.Value, _ b: A.Value, _ arithmetic: A.Type) -> A.Value {
        A.subtract(a, b)
    }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { BroadcastKernel(SubOp()).specialized() }
}
