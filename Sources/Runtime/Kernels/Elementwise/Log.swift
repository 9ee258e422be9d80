/// Log: the natural logarithm (−∞ at 0, NaN below).
struct LogOp: RealUnaryOp {
    @inline(__always) func apply<A: RealArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value { A.log(x) }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { RealMapKernel(LogOp()).specialized() }
}
