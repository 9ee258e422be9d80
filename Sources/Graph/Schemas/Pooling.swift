// Windowed and global pools. Windowed pools share the sliding-window size rule with Conv.

extension OpSchemas {
    static let poolingSchemas: [OpSchema] = [
        OpSchema("MaxPool", shape: inferPool, cost: poolCost, channels: .passThrough()),
        OpSchema("AveragePool", shape: inferPool, cost: poolCost, channels: .passThrough()),
        // LpPool is not in the counting table; it is counted like the other windowed pools.
        OpSchema("LpPool", shape: inferPool, cost: poolCost, channels: .passThrough()),
        OpSchema("GlobalAveragePool", shape: inferGlobalPool, cost: Costs.perInputElement(1), channels: .passThrough()),
        OpSchema("GlobalMaxPool", shape: inferGlobalPool, cost: Costs.perInputElement(1), channels: .passThrough()),
        OpSchema("GlobalLpPool", shape: inferGlobalPool, cost: Costs.perInputElement(1), channels: .passThrough()),
    ]
}

/// Y (and MaxPool's optional int64 Indices) of shape [N, C, windowed spatial…].
private func inferPool(_ ctx: inout InferenceContext) throws(GraphError) {
    let elementType = ctx.inputElementType(0)
    guard let kernel = ctx.ints("kernel_shape")?.map(Int.init) else {
        throw ctx.invalidAttribute("kernel_shape", "is required")
    }
    guard kernel.allSatisfy({ $0 > 0 }) else { throw ctx.invalidAttribute("kernel_shape", "must be positive, got \(kernel)") }
    let n = kernel.count
    guard let x = ctx.inputDims(0) else {
        ctx.setOutput(0, elementType, nil)
        ctx.setOutput(1, .int64, nil)
        return
    }
    guard x.count == n + 2 else {
        throw ctx.mismatch("input X \(shapeText(x)) must have rank \(n + 2) for kernel_shape \(kernel)")
    }
    let strides = try spatialInts(ctx, "strides", count: n)
    let dilations = try spatialInts(ctx, "dilations", count: n)
    let padding = try WindowPadding(ctx, spatialRank: n)
    let ceilMode = ctx.int("ceil_mode", default: 0) != 0
    let spatial = (0..<n).map { i in
        windowOutputSize(
            input: x[2 + i], kernel: kernel[i], stride: strides[i], dilation: dilations[i], padding: padding, axis: i,
            ceilMode: ceilMode)
    }
    for (i, d) in spatial.enumerated() {
        if case .known(let v) = d, v <= 0 {
            throw ctx.mismatch(
                "output spatial dim \(i) would be \(v): input \(shapeText(x)), kernel \(kernel), strides \(strides), pads \(ctx.ints("pads") ?? [])")
        }
    }
    let dims = [x[0], x[1]] + spatial
    ctx.setOutput(0, elementType, dims)
    ctx.setOutput(1, .int64, dims)
}

/// [N, C, 1, 1, …].
private func inferGlobalPool(_ ctx: inout InferenceContext) throws(GraphError) {
    guard let x = ctx.inputDims(0) else { return ctx.setOutput(0, ctx.inputElementType(0), nil) }
    guard x.count >= 2 else { throw ctx.mismatch("input X must have rank ≥ 2 (N, C, …), found \(shapeText(x))") }
    ctx.setOutput(0, ctx.inputElementType(0), [x[0], x[1]] + Array(repeating: 1, count: x.count - 2))
}

/// `prod(kernel)` FLOPs per output element.
private let poolCost: OpSchema.CostRule = { ctx in
    guard let kernel = ctx.node.ints("kernel_shape"), let out = ctx.outputShape(0) else { return nil }
    return OpCost(flops: Int(kernel.reduce(1, *)) * out.reduce(1, *))
}
