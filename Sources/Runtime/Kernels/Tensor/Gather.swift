import Graph

/// Gather: picks slices of `data` along `axis` by index (negative counts from the end). Every
/// index is checked before any copy; one out of range fails the node.
struct GatherKernel: Kernel {
    let axis: Int64

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        GatherKernel(axis: context.node.int("axis", default: 0))
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let node = context.node
        let data = try TensorSupport.input(inputs, 0, node, "data")
        let indices = try TensorSupport.input(inputs, 1, node, "indices")
        guard data.rank > 0 else { throw context.failure("data must have rank ≥ 1, found a scalar") }
        let axis = try TensorSupport.axis(self.axis, rank: data.rank, node)
        let size = data.shape[axis]
        let picked = try TensorSupport.ints(indices, node, "indices").map { i throws(RuntimeError) -> Int in
            guard i >= -Int64(size) && i < Int64(size) else {
                throw context.failure("index \(i) is out of range for axis \(axis) of data \(data.shape)")
            }
            return Int(i < 0 ? i + Int64(size) : i)
        }
        let width = try TensorSupport.width(data.elementType, node)
        let shape = Array(data.shape[..<axis]) + indices.shape + Array(data.shape[(axis + 1)...])
        let out = context.output(0, data.elementType, shape)
        let outer = data.shape[..<axis].reduce(1, *)
        let block = data.shape[(axis + 1)...].reduce(1, *) * width
        let k = picked.count
        guard block > 0, k > 0 else { return [out] }
        let source = data.buffer.pointer, target = out.buffer.pointer
        picked.withUnsafeBufferPointer { picked in
            Parallel.chunks(outer * k, threads: context.threads, grain: max(1, (1 << 15) / block)) { range in
                for job in range {
                    let o = job / k, i = picked[job % k]
                    (target + job * block).copyMemory(from: source + (o * size + i) * block, byteCount: block)
                }
            }
        }
        return [out]
    }
}
