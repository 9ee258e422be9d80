import Graph

/// SpaceToDepth: moves b×b spatial blocks into channels. As a strided copy: the input viewed as
/// [N, C, H/b, b, W/b, b] read as [N, b, b, C, H/b, W/b].
struct SpaceToDepthKernel: Kernel {
    let block: Int

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        guard let block = context.node.int("blocksize"), block > 0, block < 1 << 20 else {
            throw context.invalid("blocksize must be a positive integer")
        }
        return SpaceToDepthKernel(block: Int(block))
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let node = context.node
        let x = try TensorSupport.input(inputs, 0, node, "input")
        guard x.rank == 4 else { throw context.failure("input must be 4-D (N, C, H, W), found \(x.shape)") }
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let b = block
        guard h % b == 0, w % b == 0 else { throw context.failure("spatial dims of \(x.shape) are not divisible by blocksize \(b)") }
        let view = [n, c, h / b, b, w / b, b]
        let perm = [0, 3, 5, 1, 2, 4]
        let viewStrides = TensorSupport.strides(view)
        let width = try TensorSupport.width(x.elementType, node)
        let out = context.output(0, x.elementType, [n, c * b * b, h / b, w / b])
        TensorSupport.copyStrided(from: x.buffer.pointer, strides: perm.map { viewStrides[$0] }, to: out.buffer.pointer,
                                  shape: perm.map { view[$0] }, width: width, threads: context.threads)
        return [out]
    }
}
