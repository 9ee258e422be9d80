import Graph

/// MaxPool: the largest element of each window (1-D to 3-D, pads or auto_pad, ceil_mode,
/// dilations), and optionally its flat index over N·C·spatial (row-major, or column-major over the
/// spatial axes when storage_order is 1). Padding never wins; the first maximum does.
struct MaxPoolKernel: Kernel {
    let opsetVersion: Int64
    /// The output shape and windows of the last input shapes.
    let shapes = ShapeMemo<(shape: [Int], windows: PoolWindows)>()

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        let order = context.int("storage_order", default: 0)
        guard order == 0 || order == 1 else { throw context.invalid("storage_order must be 0 or 1, got \(order)") }
        return MaxPoolKernel(opsetVersion: context.opsetVersion)
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        guard let x = inputs.first ?? nil else { throw context.failure("MaxPool needs input X") }
        let (shape, windows) = try shapes.value(for: inputs) {
            let shape = try schemaOutputShape(inputs, context, opsetVersion: opsetVersion)
            return (shape, try PoolWindows(node: context.node, x: x, outputShape: shape, context: context))
        }
        let wantsIndices = context.node.outputs.count > 1 && !context.node.outputs[1].isEmpty
        let columnMajor = context.node.int("storage_order", default: 0) == 1
        let y = context.output(0, x.elementType, shape)
        let indices = wantsIndices ? context.output(1, .int64, shape) : nil
        let planes = shape[0] * shape[1]
        func pool<T: PoolOrdered>(_ source: UnsafePointer<T>, _ target: UnsafeMutablePointer<T>, empty: T) {
            let g = windows.geometry
            // A window wholly in the padding has no maximum; it gives `empty` (ONNX's reference gives 0).
            let hasEmpty = windows.taps.contains { $0.contains { $0.isEmpty } }
            guard let indexTarget = indices?.pointer(as: Int64.self) else {
                windows.reduceRows(MaximumReduction<T>.self, source, target, planes: planes, threads: context.threads) { od, oh, row in
                    guard hasEmpty else { return }
                    for ow in 0..<g.output[2] where windows.taps[0][od].isEmpty || windows.taps[1][oh].isEmpty || windows.taps[2][ow].isEmpty {
                        row[ow] = empty
                    }
                }
                return
            }
            // With Indices: one window at a time, tracking where the maximum is.
            let inputSize = g.inputSize, outputSize = g.outputSize
            Parallel.forEach(planes, threads: context.threads, grain: max(1, 4096 / max(1, outputSize * g.kernelSize))) { p in
                let plane = source + p * inputSize
                let out = target + p * outputSize
                windows.forEachOutput { o, window in
                    var best = -1
                    for kd in window.depth {
                        for kh in window.height {
                            let row = window.row(kd, kh)
                            for kw in window.width {
                                let i = row &+ kw &* window.widthStep
                                if best < 0 || plane[i] > plane[best] { best = i }
                            }
                        }
                    }
                    out[o] = best < 0 ? empty : plane[best]
                    indexTarget[p * outputSize + o] = best < 0 ? -1 : Int64(p * inputSize + (columnMajor ? transposedIndex(best, g.input) : best))
                }
            }
        }
        switch x.elementType {
        case .float32: pool(x.pointer(as: Float.self), y.pointer(as: Float.self), empty: 0)
        case .float64: pool(x.pointer(as: Double.self), y.pointer(as: Double.self), empty: 0)
        case .int8: pool(x.pointer(as: Int8.self), y.pointer(as: Int8.self), empty: 0)
        case .uint8: pool(x.pointer(as: UInt8.self), y.pointer(as: UInt8.self), empty: 0)
        case .float16, .bfloat16:
            // Widening is exact, so the maximum rounds back to the input's own bits.
            HalfBridge.compute([x], into: y) { wide, result in
                pool(wide[0]!.pointer(as: Float.self), result.pointer(as: Float.self), empty: 0)
            }
        default:
            throw context.failure("MaxPool does not support \(x.elementType)")
        }
        return indices.map { [y, $0] } ?? [y]
    }
}

/// The column-major offset (first spatial axis fastest) of a row-major offset in a plane of `sizes`.
private func transposedIndex(_ index: Int, _ sizes: [Int]) -> Int {
    var remainder = index, result = 0, scale = 1
    var positions = [Int](repeating: 0, count: sizes.count)
    for axis in sizes.indices.reversed() {
        positions[axis] = remainder % sizes[axis]
        remainder /= sizes[axis]
    }
    for axis in sizes.indices {
        result += positions[axis] * scale
        scale *= sizes[axis]
    }
    return result
}
