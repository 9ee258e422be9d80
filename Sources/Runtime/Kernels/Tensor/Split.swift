import Graph

/// Split: cuts the input along `axis` into the node's outputs. Sizes come from the `split`
/// attribute (before opset 13) or input (from 13), else `num_outputs` chunks of ceil(d/n) with a
/// smaller last one (opset 18), else equal parts.
struct SplitKernel: Kernel {
    let axis: Int64
    let splitAttribute: [Int64]?
    let numOutputs: Int64?
    let outputCount: Int

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        let node = context.node
        return SplitKernel(axis: node.int("axis", default: 0), splitAttribute: node.input(1) == nil ? node.ints("split") : nil,
                           numOutputs: node.int("num_outputs"), outputCount: node.outputs.count)
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let node = context.node
        let x = try TensorSupport.input(inputs, 0, node, "input")
        guard x.rank > 0 else { throw context.failure("cannot split a scalar") }
        let axis = try TensorSupport.axis(self.axis, rank: x.rank, node)
        let d = x.shape[axis]
        let n = outputCount
        var sizes: [Int]
        if let given = try splitAttribute ?? (inputs.count > 1 ? inputs[1].map { try TensorSupport.ints($0, node, "split") } : nil) {
            guard given.count == n else { throw context.failure("split \(given) has \(given.count) sizes for \(n) outputs") }
            guard given.allSatisfy({ $0 >= 0 && $0 <= Int64(d) }), given.reduce(0, +) == Int64(d) else {
                throw context.failure("split \(given) does not add up to axis \(axis) of \(x.shape) (size \(d))")
            }
            sizes = given.map { Int($0) }
        } else if let numOutputs {
            guard numOutputs == Int64(n), n > 0 else { throw context.failure("num_outputs is \(numOutputs) but the node has \(n) outputs") }
            let chunk = (d + n - 1) / n
            let last = d - chunk * (n - 1)
            guard last >= 0 else { throw context.failure("cannot split axis \(axis) of size \(d) into \(n) chunks of \(chunk)") }
            sizes = Array(repeating: chunk, count: n - 1) + [last]
        } else {
            guard n > 0, d % n == 0 else { throw context.failure("axis \(axis) of \(x.shape) does not split evenly into \(n) outputs") }
            sizes = Array(repeating: d / n, count: n)
        }
        let width = try TensorSupport.width(x.elementType, node)
        let outer = x.shape[..<axis].reduce(1, *)
        let inner = x.shape[(axis + 1)...].reduce(1, *) * width
        let rowBytes = d * inner
        var outputs: [NDArray] = []
        var start = 0
        for (k, size) in sizes.enumerated() {
            var shape = x.shape
            shape[axis] = size
            let out = context.output(k, x.elementType, shape)
            let bytes = size * inner
            let source = x.buffer.pointer + start * inner
            if outer == 1 {
                TensorSupport.copyBytes(from: source, to: out.buffer.pointer, count: bytes, threads: context.threads)
            } else if bytes > 0 {
                Parallel.chunks(outer, threads: context.threads, grain: max(1, (1 << 15) / bytes)) { range in
                    for o in range { (out.buffer.pointer + o * bytes).copyMemory(from: source + o * rowBytes, byteCount: bytes) }
                }
            }
            outputs.append(out)
            start += size
        }
        return outputs
    }
}
