import Graph

/// Transpose: permutes axes (reversed by default). A strided copy; batched 2-D transposes such as
/// NCHW ↔ NHWC go through the tiled path of `TensorSupport.copyStrided`.
struct TransposeKernel: Kernel {
    let perm: [Int]?

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        TransposeKernel(perm: context.node.ints("perm")?.map { Int(clamping: $0) })
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let node = context.node
        let x = try TensorSupport.input(inputs, 0, node, "data")
        let perm = self.perm ?? Array((0..<x.rank).reversed())
        guard perm.sorted() == Array(0..<x.rank) else {
            throw context.failure("perm \(perm) is not a permutation of the \(x.rank) axes of \(x.shape)")
        }
        let width = try TensorSupport.width(x.elementType, node)
        let inputStrides = TensorSupport.strides(x.shape)
        let shape = perm.map { x.shape[$0] }
        let out = context.output(0, x.elementType, shape)
        TensorSupport.copyStrided(from: x.buffer.pointer, strides: perm.map { inputStrides[$0] }, to: out.buffer.pointer,
                                  shape: shape, width: width, threads: context.threads)
        return [out]
    }
}
