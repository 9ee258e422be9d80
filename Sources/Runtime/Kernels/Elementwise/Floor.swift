/// Floor: the largest integer not above x.
struct FloorOp: RealUnaryOp {
    @inline(__always) func apply<A: RealArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value { x.rounded(.down) }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { RealMapKernel(FloorOp()).specialized() }
}
