import Graph

/// Unsqueeze: inserts size-1 axes at the given output positions. Axes are an attribute before
/// opset 13, an input from 13.
struct UnsqueezeKernel: Kernel {
    let axesAttribute: [Int64]?

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        let attribute = context.node.input(1) == nil ? context.node.ints("axes") : nil
        if attribute == nil && context.node.input(1) == nil { throw context.invalid("Unsqueeze needs axes") }
        return UnsqueezeKernel(axesAttribute: attribute)
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let node = context.node
        let x = try TensorSupport.input(inputs, 0, node, "data")
        let axes = try axesAttribute ?? TensorSupport.ints(TensorSupport.input(inputs, 1, node, "axes"), node, "axes")
        let rank = x.rank + axes.count
        var inserted = Set<Int>()
        for a in axes {
            guard inserted.insert(try TensorSupport.axis(a, rank: rank, node, name: "axes")).inserted else {
                throw context.failure("axes \(axes) repeat an axis")
            }
        }
        var rest = x.shape.makeIterator()
        let shape = (0..<rank).map { inserted.contains($0) ? 1 : rest.next()! }
        return [TensorSupport.copy(x, shape: shape, context)]
    }
}
