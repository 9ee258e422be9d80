// Normalizations keep their input's shape; BatchNorm and LayerNorm have optional statistics outputs.

extension OpSchemas {
    static let normalizationSchemas: [OpSchema] = [
        // Counted as deployed: one scale and one shift per element.
        OpSchema("BatchNormalization", shape: inferBatchNorm, cost: Costs.perOutputElement(2),
                 channels: .passThrough(perChannel: [1, 2, 3, 4])),
        OpSchema("LayerNormalization", shape: inferLayerNorm, cost: Costs.perOutputElement(7), channels: .alongAxis),
        OpSchema("InstanceNormalization", shape: inferChannelNorm, cost: Costs.perOutputElement(7),
                 channels: .passThrough(perChannel: [1, 2])),
        OpSchema("GroupNormalization", shape: inferChannelNorm, cost: Costs.perOutputElement(7)),
    ]
}

/// Checks that input `i`, when known, is 1-D with `channels` elements.
private func checkPerChannel(_ ctx: InferenceContext, _ i: Int, _ what: String, channels: Dim) throws(GraphError) {
    guard let dims = ctx.inputDims(i) else { return }
    guard dims.count == 1 else { throw ctx.mismatch("\(what) must be 1-D, found \(shapeText(dims))") }
    if case .known(let a) = dims[0], case .known(let c) = channels, a != c {
        throw ctx.mismatch("\(what) has \(a) elements but input X \(shapeText(ctx.inputDims(0))) has \(c) channels")
    }
}

private func inferBatchNorm(_ ctx: inout InferenceContext) throws(GraphError) {
    let x = ctx.inputDims(0)
    let channels = x.flatMap { $0.count >= 2 ? $0[1] : nil } ?? .unknown
    for (i, what) in [(1, "scale"), (2, "B"), (3, "mean"), (4, "var")] { try checkPerChannel(ctx, i, what, channels: channels) }
    ctx.setOutput(0, ctx.inputType(0))
    // Training outputs (running or saved mean and variance) are per channel.
    let statsType = ctx.inputElementType(3) ?? ctx.inputElementType(1) ?? ctx.inputElementType(0)
    for k in 1..<max(ctx.outputs.count, 1) { ctx.setOutput(k, statsType, [channels]) }
}

/// Y like X; Mean and InvStdDev keep X's leading dims before `axis` and are 1 after it.
private func inferLayerNorm(_ ctx: inout InferenceContext) throws(GraphError) {
    ctx.setOutput(0, ctx.inputType(0))
    let stash: ElementType = ctx.int("stash_type", default: 1) == 1 ? .float32 : (ctx.inputElementType(0) ?? .float32)
    guard let x = ctx.inputDims(0) else {
        ctx.setOutput(1, stash, nil)
        ctx.setOutput(2, stash, nil)
        return
    }
    let axis = try ctx.normalizedAxis(ctx.int("axis", default: -1), rank: x.count)
    let stats = Array(x[..<axis]) + Array(repeating: Dim.known(1), count: x.count - axis)
    ctx.setOutput(1, stash, stats)
    ctx.setOutput(2, stash, stats)
}

private func inferChannelNorm(_ ctx: inout InferenceContext) throws(GraphError) {
    if ctx.node.opType == "InstanceNormalization" {
        let channels = ctx.inputDims(0).flatMap { $0.count >= 2 ? $0[1] : nil } ?? .unknown
        try checkPerChannel(ctx, 1, "scale", channels: channels)
        try checkPerChannel(ctx, 2, "B", channels: channels)
    }
    ctx.setOutput(0, ctx.inputType(0))
}
