import Graph

/// Reshape: the same elements under a new shape. A 0 copies the input's dim (unless `allowzero`,
/// opset 14), a -1 takes what is left. The shape is an attribute before opset 5, an input after.
struct ReshapeKernel: Kernel {
    let shapeAttribute: [Int64]?
    let allowZero: Bool

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        let node = context.node
        let attribute = node.input(1) == nil ? node.ints("shape") : nil
        if attribute == nil && node.input(1) == nil { throw context.invalid("Reshape needs a shape input") }
        return ReshapeKernel(shapeAttribute: attribute, allowZero: node.int("allowzero", default: 0) != 0)
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let node = context.node
        let x = try TensorSupport.input(inputs, 0, node, "data")
        let target = try shapeAttribute ?? TensorSupport.ints(TensorSupport.input(inputs, 1, node, "shape"), node, "shape")
        let shape = try Self.resolve(target, input: x.shape, allowZero: allowZero, node)
        return [TensorSupport.copy(x, shape: shape, context)]
    }

    /// The output shape `target` describes for an input of shape `input`.
    static func resolve(_ target: [Int64], input: [Int], allowZero: Bool, _ node: Node) throws(RuntimeError) -> [Int] {
        var shape: [Int] = []
        var inferred: Int?
        for (i, t) in target.enumerated() {
            switch t {
            case -1:
                guard inferred == nil else { throw TensorSupport.fail(node, "shape \(target) has more than one -1") }
                inferred = i
                shape.append(1)
            case 0 where !allowZero:
                guard i < input.count else {
                    throw TensorSupport.fail(node, "shape \(target) copies dim \(i) but the input \(input) has rank \(input.count)")
                }
                shape.append(input[i])
            case ..<0:
                throw TensorSupport.fail(node, "shape \(target) has an invalid dim \(t)")
            default:
                guard t < 1 << 48 else { throw TensorSupport.fail(node, "shape \(target) is too large") }
                shape.append(Int(t))
            }
        }
        let count = input.reduce(1, *)
        guard let rest = TensorSupport.product(shape) else { throw TensorSupport.fail(node, "shape \(target) is too large") }
        if let inferred {
            guard rest != 0, count % rest == 0 else {
                throw TensorSupport.fail(node, "cannot reshape \(input) (\(count) elements) to \(target)")
            }
            shape[inferred] = count / rest
        }
        try TensorSupport.checkShape(shape, node)
        guard shape.reduce(1, *) == count else {
            throw TensorSupport.fail(node, "cannot reshape \(input) (\(count) elements) to \(shape) (\(shape.reduce(1, *)) elements)")
        }
        return shape
    }
}
