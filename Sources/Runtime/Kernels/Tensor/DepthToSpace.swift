import Graph

/// DepthToSpace: moves channel blocks into b×b spatial blocks. As a strided copy: the input viewed
/// as [N, b, b, C/b², H, W] (DCR) or [N, C/b², b, b, H, W] (CRD) read as [N, C/b², H, b, W, b].
struct DepthToSpaceKernel: Kernel {
    let block: Int
    let columnRowDepth: Bool

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        guard let block = context.node.int("blocksize"), block > 0, block < 1 << 20 else {
            throw context.invalid("blocksize must be a positive integer")
        }
        let mode = context.node.string("mode") ?? "DCR"
        guard mode == "DCR" || mode == "CRD" else { throw context.invalid("unknown DepthToSpace mode '\(mode)'") }
        return DepthToSpaceKernel(block: Int(block), columnRowDepth: mode == "CRD")
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let node = context.node
        let x = try TensorSupport.input(inputs, 0, node, "input")
        guard x.rank == 4 else { throw context.failure("input must be 4-D (N, C, H, W), found \(x.shape)") }
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let b = block
        guard c % (b * b) == 0 else { throw context.failure("channels of \(x.shape) are not divisible by blocksize² = \(b * b)") }
        let depth = c / (b * b)
        let view = columnRowDepth ? [n, depth, b, b, h, w] : [n, b, b, depth, h, w]
        let perm = columnRowDepth ? [0, 1, 4, 2, 5, 3] : [0, 3, 4, 1, 5, 2]
        let viewStrides = TensorSupport.strides(view)
        let width = try TensorSupport.width(x.elementType, node)
        let out = context.output(0, x.elementType, [n, depth, h * b, w * b])
        TensorSupport.copyStrided(from: x.buffer.pointer, strides: perm.map { viewStrides[$0] }, to: out.buffer.pointer,
                                  shape: perm.map { view[$0] }, width: width, threads: context.threads)
        return [out]
    }
}
