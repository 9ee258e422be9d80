import Graph

/// Concat: joins inputs along `axis` (default 1 before opset 4). Each output row along the outer
/// axes is the inputs' rows back to back, so the copy is one memcpy per input per outer index.
struct ConcatKernel: Kernel {
    let axis: Int64

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        guard let axis = context.int("axis") ?? (context.opsetVersion < 4 ? 1 : nil) else {
            throw context.invalid("Concat needs an axis attribute")
        }
        return ConcatKernel(axis: axis)
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let node = context.node
        let parts = inputs.compactMap { $0 }
        guard let first = parts.first else { throw context.failure("Concat needs at least one input") }
        guard first.rank > 0 else { throw context.failure("cannot concatenate scalars") }
        let axis = try TensorSupport.axis(self.axis, rank: first.rank, node)
        var shape = first.shape
        shape[axis] = 0
        for part in parts {
            guard part.elementType == first.elementType else {
                throw context.failure("inputs have different element types: \(first.elementType) and \(part.elementType)")
            }
            guard part.rank == first.rank,
                  part.shape.indices.allSatisfy({ $0 == axis || part.shape[$0] == first.shape[$0] }) else {
                throw context.failure("input shapes \(parts.map(\.shape)) differ off axis \(axis)")
            }
            shape[axis] += part.shape[axis]
        }
        let width = try TensorSupport.width(first.elementType, node)
        let out = context.output(0, first.elementType, shape)
        let outer = shape[..<axis].reduce(1, *)
        let inner = shape[(axis + 1)...].reduce(1, *) * width
        let rowBytes = parts.map { $0.shape[axis] * inner }
        let outRow = rowBytes.reduce(0, +)
        guard outRow > 0 else { return [out] }
        if outer == 1 {
            var offset = 0
            for (part, bytes) in zip(parts, rowBytes) {
                TensorSupport.copyBytes(from: part.buffer.pointer, to: out.buffer.pointer + offset, count: bytes, threads: context.threads)
                offset += bytes
            }
            return [out]
        }
        // Unsafe buffers in the parallel loop: shared arrays would cost atomic refcounts per thread.
        let sources = parts.map { UnsafeRawPointer($0.buffer.pointer) }
        let target = out.buffer.pointer
        sources.withUnsafeBufferPointer { sources in
            rowBytes.withUnsafeBufferPointer { rowBytes in
                Parallel.chunks(outer, threads: context.threads, grain: max(1, (1 << 15) / outRow)) { range in
                    for o in range {
                        var row = target + o * outRow
                        for k in 0..<sources.count {
                            row.copyMemory(from: sources[k] + o * rowBytes[k], byteCount: rowBytes[k])
                            row += rowBytes[k]
                        }
                    }
                }
            }
        }
        return [out]
    }
}
