/// Min: the elementwise minimum of all inputs, broadcast together (NaN wins, as in numpy).
struct MinOp: NumericBinaryOp {
    @inline(__always) func apply<A: ElementArithmetic>(_ a: A.Value, _ b: A.Value, _ arithmetic: A.Type) -> A.Value {
        A.minimum(a, b)
    }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { VariadicKernel(MinOp()).specialized() }
}
