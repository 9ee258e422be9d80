/// Add: a + b with numpy broadcasting (integers wrap).
struct AddOp: NumericBinaryOp {
    @inline(__always) func apply<A: ElementArithmetic>(_ a: A.Value, _ b: A.Value, _ arithmetic: A.Type) -> A.Value {
        A.add(a, b)
    }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { BroadcastKernel(AddOp()).specialized() }
}
