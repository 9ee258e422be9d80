/// Xor: logical a ⊕ b with numpy broadcasting.
struct XorOp: LogicalOp {
    @inline(__always) func apply(_ a: Bool, _ b: Bool) -> Bool { a != b }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { LogicalKernel(XorOp()).specialized() }
}
