import Graph

/// Flatten: a 2-D copy, [d₀·…·d_{axis-1}, d_axis·…·d_{n-1}].
struct FlattenKernel: Kernel {
    let axis: Int64

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        FlattenKernel(axis: context.node.int("axis", default: 1))
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let x = try TensorSupport.input(inputs, 0, context.node, "input")
        let rank = Int64(x.rank)
        guard axis >= -rank && axis <= rank else {
            throw context.failure("axis \(axis) is out of range for rank \(rank)")
        }
        let split = Int(axis < 0 ? axis + rank : axis)
        let shape = [x.shape[..<split].reduce(1, *), x.shape[split...].reduce(1, *)]
        return [TensorSupport.copy(x, shape: shape, context)]
    }
}
