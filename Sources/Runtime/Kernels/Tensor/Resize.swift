import Graph

/// Resize: nearest (every `nearest_mode`), linear (n-dimensional) and cubic sampling with every
/// `coordinate_transformation_mode`, from scales or sizes, with `axes`, `keep_aspect_ratio_policy`
/// and `antialias` (opset 18). Opset 10 takes (X, scales) and samples like Upsample; from 11 the
/// inputs are (X, roi, scales, sizes), exactly one of scales and sizes given.
struct ResizeKernel: Kernel {
    let options: ResizeOptions
    let opset: Int64
    let axes: [Int64]?
    let keepAspectRatio: String

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        let node = context.node
        let modeName = node.string("mode") ?? "nearest"
        guard let mode = ResizeOptions.Mode(rawValue: modeName) else { throw context.invalid("unknown Resize mode '\(modeName)'") }
        var options: ResizeOptions
        if context.opsetVersion < 11 {
            guard mode != .cubic else { throw context.invalid("cubic Resize needs opset 11") }
            options = ResizeOptions(mode: mode, coordinates: .asymmetric, rounding: .simple)
        } else {
            let coordinatesName = node.string("coordinate_transformation_mode") ?? "half_pixel"
            guard let coordinates = ResizeOptions.Coordinates(rawValue: coordinatesName) else {
                throw context.invalid("unknown coordinate_transformation_mode '\(coordinatesName)'")
            }
            let roundingName = node.string("nearest_mode") ?? "round_prefer_floor"
            guard let rounding = ResizeOptions.Rounding(rawValue: roundingName), rounding != .simple else {
                throw context.invalid("unknown nearest_mode '\(roundingName)'")
            }
            options = ResizeOptions(mode: mode, coordinates: coordinates, rounding: rounding)
            options.cubicA = Double(node.float("cubic_coeff_a") ?? -0.75)
            options.excludeOutside = node.int("exclude_outside", default: 0) != 0
            options.extrapolation = node.float("extrapolation_value") ?? 0
            options.antialias = node.int("antialias", default: 0) != 0
        }
        let policy = node.string("keep_aspect_ratio_policy") ?? "stretch"
        guard ["stretch", "not_larger", "not_smaller"].contains(policy) else {
            throw context.invalid("unknown keep_aspect_ratio_policy '\(policy)'")
        }
        return ResizeKernel(options: options, opset: context.opsetVersion, axes: node.ints("axes"), keepAspectRatio: policy)
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let node = context.node
        let x = try TensorSupport.input(inputs, 0, node, "X")
        let rank = x.rank
        var resized = Array(0..<rank)
        if let axes {
            resized = []
            for a in axes {
                let axis = try TensorSupport.axis(a, rank: rank, node, name: "axes")
                guard !resized.contains(axis) else { throw context.failure("axes \(axes) repeat axis \(axis)") }
                resized.append(axis)
            }
        }
        func present(_ i: Int) -> NDArray? {
            guard i < inputs.count, let value = inputs[i], value.count > 0 else { return nil }
            return value
        }
        let scalesInput = present(opset < 11 ? 1 : 2)
        let sizesInput = opset < 11 ? nil : present(3)

        var scales = Array(repeating: 1.0, count: rank)
        var shape = x.shape
        var roi = Array(repeating: (0.0, 1.0), count: rank)
        if options.coordinates == .tfCropAndResize, let given = present(1) {
            guard let values = TensorSupport.floatValues(given), values.count == 2 * resized.count else {
                throw context.failure("roi must hold \(2 * resized.count) numbers (start and end per resized axis)")
            }
            for (k, axis) in resized.enumerated() { roi[axis] = (Double(values[k]), Double(values[k + resized.count])) }
        }
        switch (scalesInput, sizesInput) {
        case (let given?, nil):
            guard let values = TensorSupport.floatValues(given), values.count == resized.count else {
                throw context.failure("scales must hold one number per resized axis (\(resized.count))")
            }
            for (k, axis) in resized.enumerated() {
                let scale = Double(values[k])
                guard scale > 0, scale.isFinite else { throw context.failure("scales \(values) must be positive") }
                scales[axis] = scale
                // tf_crop_and_resize outputs the scaled size of the region of interest.
                let span = options.coordinates == .tfCropAndResize ? roi[axis].1 - roi[axis].0 : 1
                let size = (Double(x.shape[axis]) * span * scale).rounded(.down)
                guard size >= 0, size < Double(1 << 40) else { throw context.failure("scales \(values) give an invalid output size") }
                shape[axis] = Int(size)
            }
        case (nil, let given?):
            let sizes = try TensorSupport.ints(given, node, "sizes")
            guard sizes.count == resized.count, sizes.allSatisfy({ $0 >= 0 && $0 < 1 << 40 }) else {
                throw context.failure("sizes \(sizes) must hold one non-negative size per resized axis (\(resized.count))")
            }
            guard resized.allSatisfy({ x.shape[$0] > 0 }) else { throw context.failure("cannot resize empty axes of \(x.shape)") }
            if keepAspectRatio == "stretch" {
                for (k, axis) in resized.enumerated() {
                    shape[axis] = Int(sizes[k])
                    scales[axis] = Double(sizes[k]) / Double(x.shape[axis])
                }
            } else {
                // One scale for every resized axis: the largest that fits, or the smallest that covers.
                let ratios = resized.enumerated().map { Double(sizes[$0.offset]) / Double(x.shape[$0.element]) }
                let scale = keepAspectRatio == "not_larger" ? ratios.min() ?? 1 : ratios.max() ?? 1
                for axis in resized {
                    let size = scale * Double(x.shape[axis]) + 0.5
                    guard size < Double(1 << 40) else { throw context.failure("sizes \(sizes) give an invalid output size") }
                    scales[axis] = scale
                    shape[axis] = Int(size)
                }
            }
        case (nil, nil):
            throw context.failure("Resize needs scales or sizes")
        case (_?, _?):
            throw context.failure("Resize takes scales or sizes, not both")
        }
        guard shape.allSatisfy({ $0 >= 0 }), !scales.contains(0) else {
            throw context.failure("cannot resize \(x.shape) to \(shape)")
        }
        try TensorSupport.checkShape(shape, node)
        let axes = (0..<rank).map { axis in
            ResizeAxis(inputSize: x.shape[axis], outputSize: shape[axis], scale: scales[axis], roi: roi[axis], options: options)
        }
        return [try Interpolation.resize(x, axes: axes, options: options, context)]
    }
}
