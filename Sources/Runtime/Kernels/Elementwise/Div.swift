/// Div: a / b with numpy broadcasting; integer division truncates toward zero like C (the ONNX
/// tests' expectation), and an integer division by zero gives 0 rather than trapping.
struct DivOp: NumericBinaryOp {
    @inline(__always) func apply<A: ElementArithmetic>(_ a: A.Value, _ b: A.Value, _ arithmetic: A.Type) -> A.Value {
        A.divide(a, b)
    }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { BroadcastKernel(DivOp()).specialized() }
}
