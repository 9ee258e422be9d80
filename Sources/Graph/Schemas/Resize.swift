// Resize and its predecessor Upsample: output dims from scales (floor(in × scale)) or sizes.

extension OpSchemas {
    static let resizeSchemas: [OpSchema] = [
        OpSchema("Resize", shape: inferResize, cost: resizeCost, channels: .passThrough(vectors: [
            AxisVector(input: 2, channelEntry: .neutral(1)), AxisVector(input: 3, channelEntry: .extentOr(neutral: 0)),
        ])),
        OpSchema("Upsample", shape: inferUpsample, cost: resizeCost,
                 channels: .passThrough(vectors: [AxisVector(input: 1, channelEntry: .neutral(1))])),
    ]
}

/// `floor(in × scale)`, computed in single precision as ONNX's own inference does.
private func scaled(_ d: Dim, _ scale: Float) -> Dim {
    switch d {
    case .known(let v): .known(Int((Float(v) * scale).rounded(.down)))
    default: scale == 1 ? d : .unknown
    }
}

/// Scales from input `i` when it is a known, non-empty constant; `.absent` for an empty tensor.
private func scalesOperand(_ ctx: InferenceContext, _ i: Int) -> (known: [Float]?, given: Bool) {
    guard ctx.hasInput(i) else { return (nil, false) }
    if let values = ctx.constantFloats(i) { return values.isEmpty ? (nil, false) : (values, true) }
    // An empty scales tensor of unknown value still says "use sizes".
    if let dims = ctx.inputDims(i), dims == [.known(0)] { return (nil, false) }
    return (nil, true)
}

private func inferResize(_ ctx: inout InferenceContext) throws(GraphError) {
    let elementType = ctx.inputElementType(0)
    guard let x = ctx.inputDims(0) else { return ctx.setOutput(0, elementType, nil) }
    var axes = Array(0..<x.count)
    if let given = ctx.ints("axes") {
        axes = []
        for a in given { axes.append(try ctx.normalizedAxis(a, rank: x.count, name: "axes")) }
    }
    let scales = scalesOperand(ctx, ctx.opsetVersion < 11 ? 1 : 2)
    var dims = x
    if !scales.given, ctx.opsetVersion >= 11, ctx.hasInput(3) {
        guard let sizes = ctx.symbolicInts(3) else { return ctx.setOutput(0, elementType, x.map { _ in .unknown }) }
        guard sizes.count == axes.count else {
            throw ctx.mismatch("sizes has \(sizes.count) values for \(axes.count) resized axes of \(shapeText(x))")
        }
        let policy = ctx.string("keep_aspect_ratio_policy", default: "stretch")
        if policy == "stretch" {
            for (k, axis) in axes.enumerated() { dims[axis] = sizes[k] }
        } else {
            // One scale for all axes, the largest that fits (not_larger) or the smallest that covers.
            let ratios = axes.enumerated().map { k, axis -> Float? in
                guard let s = sizes[k].value, let v = x[axis].value, v > 0 else { return nil }
                return Float(s) / Float(v)
            }
            if ratios.allSatisfy({ $0 != nil }), let scale = policy == "not_larger" ? ratios.map({ $0! }).min() : ratios.map({ $0! }).max() {
                for axis in axes { dims[axis] = .known(Int((Float(x[axis].value!) * scale).rounded())) }
            } else {
                for axis in axes { dims[axis] = .unknown }
            }
        }
    } else if let values = scales.known {
        guard values.count == axes.count else {
            throw ctx.mismatch("scales has \(values.count) values for \(axes.count) resized axes of \(shapeText(x))")
        }
        for (k, axis) in axes.enumerated() { dims[axis] = scaled(x[axis], values[k]) }
    } else {
        for axis in axes { dims[axis] = .unknown }
    }
    for (axis, d) in dims.enumerated() {
        if case .known(let v) = d, v < 0 { throw ctx.mismatch("output dim \(axis) would be \(v)") }
    }
    ctx.setOutput(0, elementType, dims)
}

private func inferUpsample(_ ctx: inout InferenceContext) throws(GraphError) {
    let elementType = ctx.inputElementType(0)
    guard let x = ctx.inputDims(0) else { return ctx.setOutput(0, elementType, nil) }
    let scales = ctx.hasInput(1) ? ctx.constantFloats(1) : ctx.floats("scales")
    guard let scales else { return ctx.setOutput(0, elementType, x.map { _ in .unknown }) }
    guard scales.count == x.count else {
        throw ctx.mismatch("scales has \(scales.count) values for input \(shapeText(x)) of rank \(x.count)")
    }
    ctx.setOutput(0, elementType, zip(x, scales).map { scaled($0, $1) })
}

/// Nearest: 0; linear: 2·2^a; cubic: 2·4^a FLOPs per output element, `a` being the resized axes.
private let resizeCost: OpSchema.CostRule = { ctx in
    guard let x = ctx.inputShape(0), let out = ctx.outputShape(0), x.count == out.count else { return nil }
    let resized = zip(x, out).filter { $0 != $1 }.count
    let perElement: Int
    switch ctx.node.string("mode") ?? "nearest" {
    case "nearest": perElement = 0
    case "linear", "bilinear", "trilinear": perElement = 2 << resized
    case "cubic", "bicubic": perElement = 2 << (2 * resized)
    default: return nil
    }
    return OpCost(flops: perElement * out.reduce(1, *))
}
