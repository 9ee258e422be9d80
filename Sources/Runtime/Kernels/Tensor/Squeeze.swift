import Graph

/// Squeeze: removes the given size-1 axes, or every size-1 axis when none are given. Axes are an
/// attribute before opset 13, an optional input from 13.
struct SqueezeKernel: Kernel {
    let axesAttribute: [Int64]?

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        SqueezeKernel(axesAttribute: context.node.input(1) == nil ? context.node.ints("axes") : nil)
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let node = context.node
        let x = try TensorSupport.input(inputs, 0, node, "data")
        var axes = axesAttribute
        if axes == nil, inputs.count > 1, let given = inputs[1] { axes = try TensorSupport.ints(given, node, "axes") }
        var remove = Set<Int>()
        if let axes {
            for a in axes {
                let axis = try TensorSupport.axis(a, rank: x.rank, node, name: "axes")
                guard x.shape[axis] == 1 else {
                    throw context.failure("cannot squeeze axis \(axis) of \(x.shape): its size is \(x.shape[axis]), not 1")
                }
                remove.insert(axis)
            }
        } else {
            remove = Set(x.shape.indices.filter { x.shape[$0] == 1 })
        }
        let shape = x.shape.indices.filter { !remove.contains($0) }.map { x.shape[$0] }
        return [TensorSupport.copy(x, shape: shape, context)]
    }
}
