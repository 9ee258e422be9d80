/// Greater: a > b with numpy broadcasting.
struct GreaterOp: ComparisonOp {
    @inline(__always) func apply<T: Comparable>(_ a: T, _ b: T) -> Bool { a > b }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { ComparisonKernel(GreaterOp()).specialized() }
}
