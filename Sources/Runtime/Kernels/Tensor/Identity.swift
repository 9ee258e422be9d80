import Graph

/// Identity: a copy of the input (never the input itself: the arena may reuse its memory).
struct IdentityKernel: Kernel {
    static func make(_ context: KernelBuildContext) throws -> any Kernel { IdentityKernel() }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let x = try TensorSupport.input(inputs, 0, context.node, "input")
        return [TensorSupport.copy(x, shape: x.shape, context)]
    }
}
