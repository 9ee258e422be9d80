import Graph

/// ConstantOfShape: a tensor of the given shape filled with the one-element `value` attribute
/// (float32 zero by default).
struct ConstantOfShapeKernel: Kernel {
    let value: NDArray

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        guard let tensor = context.node.tensor("value") else {
            return ConstantOfShapeKernel(value: NDArray(shape: [], floats: [0]))
        }
        let value = try NDArray(tensor)
        guard value.count == 1 else { throw context.invalid("value must hold one element, found \(value.count)") }
        _ = try TensorSupport.width(value.elementType, context.node)
        return ConstantOfShapeKernel(value: value)
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let node = context.node
        let dims = try TensorSupport.ints(TensorSupport.input(inputs, 0, node, "input"), node, "input")
        guard dims.allSatisfy({ $0 >= 0 && $0 < 1 << 48 }) else { throw context.failure("shape \(dims) has an invalid dim") }
        let shape = dims.map { Int($0) }
        try TensorSupport.checkShape(shape, node)
        let out = context.output(0, value.elementType, shape)
        let width = try TensorSupport.width(value.elementType, node)
        let count = out.count
        let chunk = max(1, (1 << 16) / width)
        Parallel.chunks((count + chunk - 1) / chunk, threads: context.threads) { range in
            let start = range.lowerBound * chunk, end = min(count, range.upperBound * chunk)
            TensorSupport.fill(out.buffer.pointer + start * width, count: end - start, element: value.buffer.pointer, width: width)
        }
        return [out]
    }
}
