/// Mean: the elementwise mean of all inputs, broadcast together (their sum over their count).
enum MeanOp {
    static func make(_ context: KernelBuildContext) throws -> any Kernel { VariadicKernel(SumOp(), mean: true).specialized() }
}
