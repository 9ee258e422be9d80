// Conv and ConvTranspose: shapes from the sliding-window rule, MACs per docs/counting.md.

extension OpSchemas {
    static let convolutionSchemas: [OpSchema] = [
        OpSchema("Conv", shape: inferConv, cost: convCost, channels: .contraction),
        OpSchema("ConvTranspose", shape: inferConvTranspose, cost: convTransposeCost, channels: .contraction),
    ]
}

/// What Conv and ConvTranspose share: operand ranks, group, kernel and the bias check.
private struct ConvOperands {
    var x: [Dim]
    var w: [Dim]?
    var spatialRank: Int
    var group: Int
    /// Kernel spatial sizes, from `kernel_shape` or the weight; nil when neither is known.
    var kernel: [Int]?

    init?(_ ctx: InferenceContext) throws(GraphError) {
        guard let x = ctx.inputDims(0) else { return nil }
        guard x.count >= 3 else {
            throw ctx.mismatch("input X must have rank ≥ 3 (N, C, spatial…), found \(shapeText(x))")
        }
        self.x = x
        spatialRank = x.count - 2
        w = ctx.inputDims(1)
        if let w, w.count != x.count {
            throw ctx.mismatch("weight W \(shapeText(w)) must have the rank of input X \(shapeText(x))")
        }
        group = Int(ctx.int("group", default: 1))
        guard group >= 1 else { throw ctx.invalidAttribute("group", "must be ≥ 1, got \(group)") }
        let fromWeight = w.flatMap { w in w.dropFirst(2).map(\.value).contains(nil) ? nil : w.dropFirst(2).map { $0.value! } }
        if let attribute = ctx.ints("kernel_shape") {
            guard attribute.count == spatialRank else {
                throw ctx.invalidAttribute("kernel_shape", "has \(attribute.count) values for \(spatialRank) spatial axes")
            }
            if let fromWeight, fromWeight != attribute.map(Int.init) {
                throw ctx.mismatch("kernel_shape \(attribute) disagrees with weight W \(shapeText(w))")
            }
            kernel = attribute.map(Int.init)
        } else {
            kernel = fromWeight
        }
    }

    /// Checks that an optional bias (input 2) is 1-D with `channels` elements.
    func checkBias(_ ctx: InferenceContext, channels: Dim) throws(GraphError) {
        guard let b = ctx.inputDims(2) else { return }
        guard b.count == 1 else { throw ctx.mismatch("bias B must be 1-D, found \(shapeText(b))") }
        if case .known(let n) = b[0], case .known(let m) = channels, n != m {
            throw ctx.mismatch("bias B has \(n) elements but the output has \(m) channels")
        }
    }

    /// Throws when any spatial output dim is known and not positive.
    func checkPositive(_ ctx: InferenceContext, _ spatial: [Dim], kernel: [Int], strides: [Int]) throws(GraphError) {
        for (i, d) in spatial.enumerated() {
            if case .known(let v) = d, v <= 0 {
                throw ctx.mismatch(
                    "output spatial dim \(i) would be \(v): input \(shapeText(x)), kernel \(kernel), strides \(strides), pads \(ctx.ints("pads") ?? [])")
            }
        }
    }
}

private func inferConv(_ ctx: inout InferenceContext) throws(GraphError) {
    let elementType = ctx.inputElementType(0) ?? ctx.inputElementType(1)
    guard let op = try ConvOperands(ctx) else {
        ctx.setOutput(0, elementType, ctx.inputDims(1).map { w in [.unknown, w[0]] + Array(repeating: .unknown, count: max(w.count - 2, 0)) })
        return
    }
    let channels = op.w?[0] ?? .unknown
    if case .known(let c) = op.x[1], let w = op.w, case .known(let perGroup) = w[1], c != perGroup * op.group {
        throw ctx.mismatch(
            "input X \(shapeText(op.x)) has \(c) channels but weight W \(shapeText(w)) with group \(op.group) expects \(perGroup * op.group)")
    }
    if case .known(let m) = channels, m % op.group != 0 {
        throw ctx.mismatch("weight W has \(m) output channels, not divisible by group \(op.group)")
    }
    try op.checkBias(ctx, channels: channels)
    guard let kernel = op.kernel else {
        ctx.setOutput(0, elementType, [op.x[0], channels] + Array(repeating: .unknown, count: op.spatialRank))
        return
    }
    let n = op.spatialRank
    let strides = try spatialInts(ctx, "strides", count: n)
    let dilations = try spatialInts(ctx, "dilations", count: n)
    let padding = try WindowPadding(ctx, spatialRank: n)
    let spatial = (0..<n).map { i in
        windowOutputSize(input: op.x[2 + i], kernel: kernel[i], stride: strides[i], dilation: dilations[i], padding: padding, axis: i)
    }
    try op.checkPositive(ctx, spatial, kernel: kernel, strides: strides)
    ctx.setOutput(0, elementType, [op.x[0], channels] + spatial)
}

private func inferConvTranspose(_ ctx: inout InferenceContext) throws(GraphError) {
    let elementType = ctx.inputElementType(0) ?? ctx.inputElementType(1)
    guard let op = try ConvOperands(ctx) else {
        ctx.setOutput(0, elementType, ctx.inputDims(1).map { w in [.unknown, w[1].times(Int(ctx.int("group", default: 1)))] + Array(repeating: .unknown, count: max(w.count - 2, 0)) })
        return
    }
    // Weight layout is (Cin, Cout / group, k…).
    if case .known(let c) = op.x[1], let w = op.w, case .known(let cin) = w[0], c != cin {
        throw ctx.mismatch("input X \(shapeText(op.x)) has \(c) channels but weight W \(shapeText(w)) expects \(cin)")
    }
    let channels = op.w.map { $0[1].times(op.group) } ?? .unknown
    try op.checkBias(ctx, channels: channels)
    let n = op.spatialRank
    if let outputShape = ctx.ints("output_shape") {
        guard outputShape.count == n || outputShape.count == n + 2 else {
            throw ctx.invalidAttribute("output_shape", "has \(outputShape.count) values for \(n) spatial axes")
        }
        let spatial = outputShape.suffix(n).map { Dim.known(Int($0)) }
        try op.checkPositive(ctx, spatial, kernel: op.kernel ?? [], strides: [])
        ctx.setOutput(0, elementType, [op.x[0], channels] + spatial)
        return
    }
    guard let kernel = op.kernel else {
        ctx.setOutput(0, elementType, [op.x[0], channels] + Array(repeating: .unknown, count: n))
        return
    }
    let strides = try spatialInts(ctx, "strides", count: n)
    let dilations = try spatialInts(ctx, "dilations", count: n)
    let outputPadding = try spatialInts(ctx, "output_padding", count: n, default: 0, minimum: 0)
    let padding = try WindowPadding(ctx, spatialRank: n)
    let spatial = (0..<n).map { i -> Dim in
        let effectiveKernel = (kernel[i] - 1) * dilations[i] + 1
        switch padding.mode {
        case .sameUpper, .sameLower:
            return op.x[2 + i].times(strides[i])
        case .valid, .explicit:
            let pads = padding.mode == .valid ? 0 : padding.begins[i] + padding.ends[i]
            let extra = outputPadding[i] + effectiveKernel - pads
            guard case .known(let v) = op.x[2 + i] else {
                return strides[i] == 1 && extra == 1 ? op.x[2 + i] : .unknown
            }
            return .known(strides[i] * (v - 1) + extra)
        }
    }
    try op.checkPositive(ctx, spatial, kernel: kernel, strides: strides)
    ctx.setOutput(0, elementType, [op.x[0], channels] + spatial)
}

/// `prod(kernel) · (Cin / group) · Cout · N · prod(output spatial)`, from W (Cout, Cin/group, k…).
private let convCost: OpSchema.CostRule = { ctx in
    guard let w = ctx.inputShape(1), let out = ctx.outputShape(0), w.count >= 2, out.count >= 2 else { return nil }
    let macs = w.dropFirst(2).reduce(1, *) * w[1] * w[0] * out[0] * out.dropFirst(2).reduce(1, *)
    return Costs.dotProduct(macs: macs, biasOutputElements: ctx.hasInput(2) ? out.reduce(1, *) : nil)
}

/// `prod(kernel) · Cin · (Cout / group) · N · prod(input spatial)`: every input pixel meets the
/// whole kernel once, from W (Cin, Cout/group, k…).
private let convTransposeCost: OpSchema.CostRule = { ctx in
    guard let x = ctx.inputShape(0), let w = ctx.inputShape(1), x.count >= 2, w.count >= 2 else { return nil }
    let macs = w.dropFirst(2).reduce(1, *) * w[0] * w[1] * x[0] * x.dropFirst(2).reduce(1, *)
    var bias: Int?
    if ctx.hasInput(2) {
        guard let out = ctx.outputShape(0) else { return nil }
        bias = out.reduce(1, *)
    }
    return Costs.dotProduct(macs: macs, biasOutputElements: bias)
}
