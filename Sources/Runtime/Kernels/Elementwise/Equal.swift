/// Equal: a == b with numpy broadcasting, for numbers and bools (strings are not run-time tensors).
struct EqualOp: ComparisonOp {
    @inline(__always) func apply<T: Comparable>(_ a: T, _ b: T) -> Bool { a == b }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { ComparisonKernel(EqualOp()).specialized() }
}
