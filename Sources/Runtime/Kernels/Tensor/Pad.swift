import Graph

/// Pad: constant, edge, reflect or wrap padding. Pads are an attribute before opset 11 (with the
/// fill in `value`), inputs from 11 (fill in input 2), with optional axes from 18. Negative pads
/// crop; reflect, edge and wrap then read the cropped tensor, as onnxruntime does.
struct PadKernel: Kernel {
    enum Mode: String { case constant, reflect, edge, wrap }

    let mode: Mode
    let padsAttribute: [Int64]?
    let valueAttribute: Float

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        let node = context.node
        let name = node.string("mode") ?? "constant"
        guard let mode = Mode(rawValue: name) else { throw context.invalid("unknown Pad mode '\(name)'") }
        let attribute = node.input(1) == nil ? node.ints("pads") ?? node.ints("paddings") : nil
        if attribute == nil && node.input(1) == nil { throw context.invalid("Pad needs pads") }
        return PadKernel(mode: mode, padsAttribute: attribute, valueAttribute: node.float("value") ?? 0)
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let node = context.node
        let x = try TensorSupport.input(inputs, 0, node, "data")
        let width = try TensorSupport.width(x.elementType, node)
        let pads = try padsAttribute ?? TensorSupport.ints(TensorSupport.input(inputs, 1, node, "pads"), node, "pads")
        var axes = Array(0..<x.rank)
        if inputs.count > 3, let given = inputs[3] {
            axes = []
            for a in try TensorSupport.ints(given, node, "axes") {
                let axis = try TensorSupport.axis(a, rank: x.rank, node, name: "axes")
                guard !axes.contains(axis) else { throw context.failure("axes repeat axis \(axis)") }
                axes.append(axis)
            }
        }
        guard pads.count == 2 * axes.count else {
            throw context.failure("pads has \(pads.count) values, expected \(2 * axes.count) for input \(x.shape)")
        }
        guard pads.allSatisfy({ abs($0) < 1 << 40 }) else { throw context.failure("pads \(pads) are out of range") }
        var begins = Array(repeating: 0, count: x.rank), ends = begins
        for (k, axis) in axes.enumerated() {
            begins[axis] = Int(pads[k])
            ends[axis] = Int(pads[k + axes.count])
        }
        let shape = (0..<x.rank).map { x.shape[$0] + begins[$0] + ends[$0] }
        if let axis = shape.firstIndex(where: { $0 < 0 }) {
            throw context.failure("pads \(begins[axis]), \(ends[axis]) crop more than axis \(axis) holds (\(x.shape[axis]))")
        }
        try TensorSupport.checkShape(shape, node)
        var maps: [[Int]] = []
        for axis in 0..<x.rank {
            maps.append(try axisMap(size: x.shape[axis], begin: begins[axis], end: ends[axis], axis: axis, context))
        }
        let fill = try fillElement(inputs, type: x.elementType, width: width, context)
        let out = context.output(0, x.elementType, shape)
        TensorSupport.gatherAxes(from: x.buffer.pointer, shape: x.shape, maps: maps, to: out.buffer.pointer,
                                 width: width, fill: fill, threads: context.threads)
        return [out]
    }

    /// The source position of each output position on one axis; -1 for the constant fill.
    private func axisMap(size d: Int, begin: Int, end: Int, axis: Int, _ context: KernelContext) throws -> [Int] {
        let lo = max(0, -begin), hi = d - max(0, -end)
        guard hi >= lo else { throw context.failure("pads \(begin), \(end) crop more than axis \(axis) holds (\(d))") }
        let kept = hi - lo, before = max(begin, 0), after = max(end, 0)
        if kept == 0 && mode != .constant && before + after > 0 {
            throw context.failure("\(mode.rawValue) padding needs a non-empty axis \(axis)")
        }
        return (0..<(kept + before + after)).map { o in
            let i = o - before
            if i >= 0 && i < kept { return lo + i }
            switch mode {
            case .constant:
                return -1
            case .edge:
                return lo + min(max(i, 0), kept - 1)
            case .wrap:
                return lo + ((i % kept) + kept) % kept
            case .reflect:
                guard kept > 1 else { return lo }
                let period = 2 * (kept - 1)
                let m = ((i % period) + period) % period
                return lo + (m < kept ? m : period - m)
            }
        }
    }

    /// The constant fill's bytes: input 2 (opset 11+), else the `value` attribute, else zero.
    private func fillElement(_ inputs: [NDArray?], type: ElementType, width: Int, _ context: KernelContext) throws -> [UInt8] {
        if inputs.count > 2, let value = inputs[2], value.count > 0 {
            guard value.elementType == type else {
                throw context.failure("constant_value is \(value.elementType), data is \(type)")
            }
            return Array(UnsafeRawBufferPointer(start: value.buffer.pointer, count: width))
        }
        return TensorSupport.elementBytes(Double(valueAttribute), as: type) ?? Array(repeating: 0, count: width)
    }
}
