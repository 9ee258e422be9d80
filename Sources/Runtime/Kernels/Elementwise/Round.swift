/// Round: to the nearest integer, halves to even (numpy's and ONNX's rule).
struct RoundOp: RealUnaryOp {
    @inline(__always) func apply<A: RealArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value {
        x.rounded(.toNearestOrEven)
    }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { RealMapKernel(RoundOp()).specialized() }
}
