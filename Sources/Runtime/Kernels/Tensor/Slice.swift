import Graph

/// Slice: a strided window. Bounds are attributes before opset 10 and inputs (with optional axes
/// and steps) from 10; negative positions count from the end, out-of-range ones clamp, negative
/// steps walk backwards.
struct SliceKernel: Kernel {
    /// starts, ends, axes from attributes (opset < 10).
    let attributes: (starts: [Int64], ends: [Int64], axes: [Int64]?)?

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        let node = context.node
        if node.input(1) == nil {
            guard let starts = node.ints("starts"), let ends = node.ints("ends") else {
                throw context.invalid("Slice needs starts and ends")
            }
            return SliceKernel(attributes: (starts, ends, node.ints("axes")))
        }
        return SliceKernel(attributes: nil)
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let node = context.node
        let x = try TensorSupport.input(inputs, 0, node, "data")
        func optional(_ i: Int, _ name: String) throws -> [Int64]? {
            guard i < inputs.count, let value = inputs[i] else { return nil }
            return try TensorSupport.ints(value, node, name)
        }
        let starts: [Int64], ends: [Int64], axesGiven: [Int64]?, steps: [Int64]?
        if let attributes {
            (starts, ends, axesGiven, steps) = (attributes.starts, attributes.ends, attributes.axes, nil)
        } else {
            starts = try TensorSupport.ints(TensorSupport.input(inputs, 1, node, "starts"), node, "starts")
            ends = try TensorSupport.ints(TensorSupport.input(inputs, 2, node, "ends"), node, "ends")
            axesGiven = try optional(3, "axes")
            steps = try optional(4, "steps")
        }
        let axes = axesGiven ?? (0..<Int64(starts.count)).map { $0 }
        let stepList = steps ?? Array(repeating: 1, count: starts.count)
        guard ends.count == starts.count, axes.count == starts.count, stepList.count == starts.count else {
            throw context.failure("starts, ends, axes and steps have different lengths: \(starts.count), \(ends.count), \(axes.count), \(stepList.count)")
        }
        let inputStrides = TensorSupport.strides(x.shape)
        var shape = x.shape, strides = inputStrides
        var offset = 0
        var seen = Set<Int>()
        for k in starts.indices {
            let axis = try TensorSupport.axis(axes[k], rank: x.rank, node, name: "axes")
            guard seen.insert(axis).inserted else { throw context.failure("axes \(axes) repeat axis \(axis)") }
            guard stepList[k] != 0 else { throw context.failure("step on axis \(axis) is 0") }
            let (start, count) = Self.window(size: x.shape[axis], start: starts[k], end: ends[k], step: stepList[k])
            shape[axis] = count
            // A step only matters between two picked elements, and then |step| < size: no overflow.
            strides[axis] = count > 1 ? inputStrides[axis] * Int(stepList[k]) : 0
            offset += start * inputStrides[axis]
        }
        let width = try TensorSupport.width(x.elementType, node)
        let out = context.output(0, x.elementType, shape)
        TensorSupport.copyStrided(from: x.buffer.pointer + offset * width, strides: strides, to: out.buffer.pointer,
                                  shape: shape, width: width, threads: context.threads)
        return [out]
    }

    /// First position and element count of a slice of an axis of `size`, after ONNX's clamping.
    static func window(size: Int, start: Int64, end: Int64, step: Int64) -> (start: Int, count: Int) {
        let d = Int64(size)
        guard d > 0 else { return (0, 0) }
        // Adding d to a negative Int64 cannot overflow; the clamps below keep every value in range.
        var s = start < 0 ? start + d : start
        var e = end < 0 ? end + d : end
        if step > 0 {
            s = min(max(s, 0), d)
            e = min(max(e, 0), d)
            return (Int(s), s < e ? Int((e - s - 1) / step + 1) : 0)
        }
        s = min(max(s, 0), d - 1)
        e = min(max(e, -1), d - 1)
        let magnitude = step == Int64.min ? Int64.max : -step
        return (Int(s), s > e ? Int((s - e - 1) / magnitude + 1) : 0)
    }
}
