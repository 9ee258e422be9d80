/// Max: the elementwise maximum of all inputs, broadcast together (NaN wins, as in numpy).
struct MaxOp: NumericBinaryOp {
    @inline(__always) func apply<A: ElementArithmetic>(_ a: A.Value, _ b: A.Value, _ arithmetic: A.Type) -> A.Value {
        A.maximum(a, b)
    }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { VariadicKernel(MaxOp()).specialized() }
}
