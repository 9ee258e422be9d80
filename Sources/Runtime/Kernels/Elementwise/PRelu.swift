/// PRelu: x for x ≥ 0, slope·x below; the slope broadcasts to x's shape (unidirectionally).
struct PReluOp: NumericBinaryOp {
    @inline(__always) func apply<A: ElementArithmetic>(_ x: A.Value, _ slope: A.Value, _ arithmetic: A.Type) -> A.Value {
        x < A.zero ? A.multiply(slope, x) : x
    }

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        BroadcastKernel(PReluOp(), unidirectional: true).specialized()
    }
}
