/// Asinh: the inverse hyperbolic sine.
struct AsinhOp: RealUnaryOp {
    @inline(__always) func apply<A: RealArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value { A.asinh(x) }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { RealMapKernel(AsinhOp()).specialized() }
}
