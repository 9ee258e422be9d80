import Graph

/// Upsample (deprecated by Resize): output dims floor(in × scale), asymmetric coordinates,
/// nearest or (bi)linear sampling as onnxruntime runs it. Scales are an attribute in opset 7 and
/// an input from opset 9.
struct UpsampleKernel: Kernel {
    let options: ResizeOptions
    let scalesAttribute: [Float]?

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        let node = context.node
        let name = node.string("mode") ?? "nearest"
        let mode: ResizeOptions.Mode
        switch name {
        case "nearest": mode = .nearest
        case "linear", "bilinear": mode = .linear
        default: throw context.invalid("unknown Upsample mode '\(name)'")
        }
        let attribute = node.input(1) == nil ? node.floats("scales") : nil
        if attribute == nil && node.input(1) == nil {
            // Opset 1 gave height and width scales of an NCHW input.
            if let h = node.float("height_scale"), let w = node.float("width_scale") {
                return UpsampleKernel(options: ResizeOptions(mode: mode, coordinates: .asymmetric, rounding: .simple), scalesAttribute: [1, 1, h, w])
            }
            throw context.invalid("Upsample needs scales")
        }
        return UpsampleKernel(options: ResizeOptions(mode: mode, coordinates: .asymmetric, rounding: .simple), scalesAttribute: attribute)
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let node = context.node
        let x = try TensorSupport.input(inputs, 0, node, "X")
        var scales = scalesAttribute
        if scales == nil {
            scales = TensorSupport.floatValues(try TensorSupport.input(inputs, 1, node, "scales"))
        }
        guard let scales, scales.count == x.rank else {
            throw context.failure("scales must hold one number per axis of \(x.shape)")
        }
        var shape: [Int] = []
        for (axis, scale) in scales.enumerated() {
            guard scale > 0, scale.isFinite else { throw context.failure("scales \(scales) must be positive") }
            let size = (Double(x.shape[axis]) * Double(scale)).rounded(.down)
            guard size < Double(1 << 40) else { throw context.failure("scales \(scales) give an invalid output size") }
            shape.append(Int(size))
        }
        try TensorSupport.checkShape(shape, node)
        let axes = shape.indices.map { axis in
            ResizeAxis(inputSize: x.shape[axis], outputSize: shape[axis], scale: Double(scales[axis]), roi: (0, 1), options: options)
        }
        return [try Interpolation.resize(x, axes: axes, options: options, context)]
    }
}
