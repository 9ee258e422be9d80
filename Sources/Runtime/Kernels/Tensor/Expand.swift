import Graph

/// Expand: broadcasts the input to a shape (numpy rules, in both directions). A strided copy with
/// zero strides on the broadcast axes.
struct ExpandKernel: Kernel {
    static func make(_ context: KernelBuildContext) throws -> any Kernel { ExpandKernel() }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let node = context.node
        let x = try TensorSupport.input(inputs, 0, node, "input")
        let target = try TensorSupport.ints(TensorSupport.input(inputs, 1, node, "shape"), node, "shape")
        guard target.allSatisfy({ $0 >= 0 && $0 < 1 << 48 }) else { throw context.failure("shape \(target) has an invalid dim") }
        let rank = max(x.rank, target.count)
        let inputDims = Array(repeating: 1, count: rank - x.rank) + x.shape
        let targetDims = Array(repeating: 1, count: rank - target.count) + target.map { Int($0) }
        let inputStrides = Array(repeating: 0, count: rank - x.rank) + TensorSupport.strides(x.shape)
        var shape: [Int] = [], strides: [Int] = []
        for k in 0..<rank {
            let a = inputDims[k], b = targetDims[k]
            guard a == b || a == 1 || b == 1 else {
                throw context.failure("cannot expand \(x.shape) to \(target): dim \(a) vs \(b)")
            }
            shape.append(a == 1 ? b : a)
            strides.append(a == 1 ? 0 : inputStrides[k])
        }
        try TensorSupport.checkShape(shape, node)
        let width = try TensorSupport.width(x.elementType, node)
        let out = context.output(0, x.elementType, shape)
        TensorSupport.copyStrided(from: x.buffer.pointer, strides: strides, to: out.buffer.pointer,
                                  shape: shape, width: width, threads: context.threads)
        return [out]
    }
}
