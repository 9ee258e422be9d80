import Graph

/// AveragePool: the mean of each window (1-D to 3-D, pads or auto_pad, ceil_mode, dilations).
/// The divisor counts the taps inside the input, or with count_include_pad also those on the
/// padding (but never those ceil_mode adds past it).
struct AveragePoolKernel: Kernel {
    let opsetVersion: Int64
    let includePadding: Bool
    /// The output shape and windows of the last input shapes.
    let shapes = ShapeMemo<(shape: [Int], windows: PoolWindows)>()

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        AveragePoolKernel(opsetVersion: context.opsetVersion, includePadding: context.node.int("count_include_pad", default: 0) != 0)
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        guard let x = inputs.first ?? nil else { throw context.failure("AveragePool needs input X") }
        let (shape, windows) = try shapes.value(for: inputs) {
            let shape = try schemaOutputShape(inputs, context, opsetVersion: opsetVersion)
            return (shape, try PoolWindows(node: context.node, x: x, outputShape: shape, context: context))
        }
        let y = context.output(0, x.elementType, shape)
        let planes = shape[0] * shape[1]
        let includePadding = includePadding
        func pool<T: BinaryFloatingPoint>(_ source: UnsafePointer<T>, _ target: UnsafeMutablePointer<T>) {
            let g = windows.geometry
            // Divisors per axis; an output's divisor is their product.
            let counts = (0..<3).map { axis in
                includePadding ? windows.paddedCounts[axis] : windows.taps[axis].map(\.count)
            }
            windows.reduceRows(SumReduction<T>.self, source, target, planes: planes, threads: context.threads) { od, oh, row in
                let outer = counts[0][od] * counts[1][oh]
                for ow in 0..<g.output[2] {
                    let count = outer * counts[2][ow]
                    row[ow] = count > 0 ? row[ow] / T(count) : 0
                }
            }
        }
        try runFloatPool(x, y, context, float: pool, double: pool)
        return [y]
    }
}
