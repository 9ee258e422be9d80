import Graph

/// Tile: repeats the input `repeats[k]` times along each axis. The output viewed as
/// [r₀, d₀, r₁, d₁, …] reads the input with zero strides on the repeat axes: one strided copy.
struct TileKernel: Kernel {
    static func make(_ context: KernelBuildContext) throws -> any Kernel { TileKernel() }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let node = context.node
        let x = try TensorSupport.input(inputs, 0, node, "input")
        let repeats = try TensorSupport.ints(TensorSupport.input(inputs, 1, node, "repeats"), node, "repeats")
        guard repeats.count == x.rank else {
            throw context.failure("repeats has \(repeats.count) values for input \(x.shape) of rank \(x.rank)")
        }
        guard repeats.allSatisfy({ $0 >= 0 && $0 < 1 << 40 }) else { throw context.failure("repeats \(repeats) must be non-negative") }
        let shape = try zip(x.shape, repeats).map { d, r throws(RuntimeError) -> Int in
            let (size, overflow) = d.multipliedReportingOverflow(by: Int(r))
            guard !overflow else { throw context.failure("repeats \(repeats) make the output too large") }
            return size
        }
        try TensorSupport.checkShape(shape, node)
        let width = try TensorSupport.width(x.elementType, node)
        let out = context.output(0, x.elementType, shape)
        let inputStrides = TensorSupport.strides(x.shape)
        var viewShape: [Int] = [], viewStrides: [Int] = []
        for k in 0..<x.rank {
            viewShape += [Int(repeats[k]), x.shape[k]]
            viewStrides += [0, inputStrides[k]]
        }
        TensorSupport.copyStrided(from: x.buffer.pointer, strides: viewStrides, to: out.buffer.pointer,
                                  shape: viewShape, width: width, threads: context.threads)
        return [out]
    }
}
