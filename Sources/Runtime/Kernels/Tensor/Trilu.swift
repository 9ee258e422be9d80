import Graph

/// Trilu: keeps the upper (default) or lower triangle of the last two axes, shifted by the
/// diagonal offset k (input 1), and zeroes the rest.
struct TriluKernel: Kernel {
    let upper: Bool

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        TriluKernel(upper: context.node.int("upper", default: 1) != 0)
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let node = context.node
        let x = try TensorSupport.input(inputs, 0, node, "input")
        guard x.rank >= 2 else { throw context.failure("input must have rank ≥ 2, found \(x.shape)") }
        var k: Int64 = 0
        if inputs.count > 1, let given = inputs[1] {
            guard given.count == 1, let value = try TensorSupport.ints(given, node, "k").first else { throw context.failure("k must be a scalar") }
            k = value
        }
        let width = try TensorSupport.width(x.elementType, node)
        let out = TensorSupport.copy(x, shape: x.shape, context)
        let rows = x.shape[x.rank - 2], columns = x.shape[x.rank - 1]
        let matrices = x.count / max(1, rows * columns)
        let diagonal = Int(max(min(k, Int64(columns) + 1), -Int64(rows) - 1))
        for m in 0..<matrices {
            for i in 0..<rows {
                let row = out.buffer.pointer + ((m * rows + i) * columns) * width
                // Upper keeps j ≥ i + k, lower keeps j ≤ i + k: zero the complementary run.
                let cut = i + diagonal
                let (from, to) = upper ? (0, min(max(cut, 0), columns)) : (min(max(cut + 1, 0), columns), columns)
                if to > from { (row + from * width).initializeMemory(as: UInt8.self, repeating: 0, count: (to - from) * width) }
            }
        }
        return [out]
    }
}
