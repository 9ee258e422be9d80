import Graph

/// GatherElements: `out[i] = data[i with its axis coordinate replaced by indices[i]]`; the output
/// has the indices' shape. Every index is bounds-checked.
struct GatherElementsKernel: Kernel {
    let axis: Int64

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        GatherElementsKernel(axis: context.node.int("axis", default: 0))
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let node = context.node
        let data = try TensorSupport.input(inputs, 0, node, "data")
        let indices = try TensorSupport.input(inputs, 1, node, "indices")
        guard data.rank > 0, data.rank == indices.rank else {
            throw context.failure("data \(data.shape) and indices \(indices.shape) must have the same rank ≥ 1")
        }
        let axis = try TensorSupport.axis(self.axis, rank: data.rank, node)
        for k in 0..<data.rank where k != axis && indices.shape[k] > data.shape[k] {
            throw context.failure("indices \(indices.shape) exceed data \(data.shape) on axis \(k)")
        }
        let size = data.shape[axis]
        let values = try TensorSupport.ints(indices, node, "indices")
        let width = try TensorSupport.width(data.elementType, node)
        let out = context.output(0, data.elementType, indices.shape)
        let strides = TensorSupport.strides(data.shape)
        let rank = data.rank
        var index = Array(repeating: 0, count: rank)
        var base = 0
        for (position, raw) in values.enumerated() {
            guard raw >= -Int64(size) && raw < Int64(size) else {
                throw context.failure("index \(raw) is out of range for axis \(axis) of data \(data.shape)")
            }
            let i = Int(raw < 0 ? raw + Int64(size) : raw)
            (out.buffer.pointer + position * width).copyMemory(from: data.buffer.pointer + (base + i * strides[axis]) * width, byteCount: width)
            // Advance the multi-index over the indices' shape; `base` skips the gathered axis.
            var k = rank - 1
            while k >= 0 {
                index[k] += 1
                if k != axis { base += strides[k] }
                if index[k] < indices.shape[k] { break }
                if k != axis { base -= strides[k] * index[k] }
                index[k] = 0
                k -= 1
            }
        }
        return [out]
    }
}
