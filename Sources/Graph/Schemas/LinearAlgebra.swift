// MatMul and Gemm: the dot-product ops counted in MACs.

extension OpSchemas {
    static let linearAlgebraSchemas: [OpSchema] = [
        OpSchema("MatMul", shape: inferMatMul, cost: matMulCost, channels: .contraction),
        OpSchema("Gemm", shape: inferGemm, cost: gemmCost, channels: .contraction),
    ]
}

/// Numpy `matmul`: a 1-D A is a row [1, K] and a 1-D B a column [K, 1] (the added dim is then
/// dropped); batch dims broadcast.
private func inferMatMul(_ ctx: inout InferenceContext) throws(GraphError) {
    let elementType = ctx.inputElementType(0) ?? ctx.inputElementType(1)
    guard let a = ctx.inputDims(0), let b = ctx.inputDims(1) else { return ctx.setOutput(0, elementType, nil) }
    guard !a.isEmpty, !b.isEmpty else {
        throw ctx.mismatch("operands must have rank ≥ 1, found A \(shapeText(a)) and B \(shapeText(b))")
    }
    let a2 = a.count == 1 ? [1] + a : a
    let b2 = b.count == 1 ? b + [1] : b
    let k1 = a2[a2.count - 1], k2 = b2[b2.count - 2]
    if case .known(let x) = k1, case .known(let y) = k2, x != y {
        throw ctx.mismatch("inner dims differ: A \(shapeText(a)) has K = \(x), B \(shapeText(b)) has K = \(y)")
    }
    guard let batch = try broadcast([Array(a2.dropLast(2)), Array(b2.dropLast(2))], ctx) else { return }
    var dims = batch
    if a.count > 1 { dims.append(a2[a2.count - 2]) }
    if b.count > 1 { dims.append(b2[b2.count - 1]) }
    ctx.setOutput(0, elementType, dims)
}

/// `batch · M · K · N`, batch being the broadcast of both operands' batch dims.
private let matMulCost: OpSchema.CostRule = { ctx in
    guard let a = ctx.inputShape(0), let b = ctx.inputShape(1), !a.isEmpty, !b.isEmpty,
          let batch = broadcastShapes([Array(a.dropLast(2)), Array(b.dropLast(2))]) else { return nil }
    let m = a.count > 1 ? a[a.count - 2] : 1
    let n = b.count > 1 ? b[b.count - 1] : 1
    let macs = batch.reduce(1, *) * m * a[a.count - 1] * n
    return Costs.dotProduct(macs: macs, biasOutputElements: nil)
}

/// Y = α·op(A)·op(B) + β·C with op a transpose when `transA` / `transB` is set: [M, N].
private func inferGemm(_ ctx: inout InferenceContext) throws(GraphError) {
    let elementType = ctx.inputElementType(0) ?? ctx.inputElementType(1)
    let transA = ctx.int("transA", default: 0) != 0, transB = ctx.int("transB", default: 0) != 0
    let a = ctx.inputDims(0), b = ctx.inputDims(1)
    for (name, dims) in [("A", a), ("B", b)] {
        if let dims, dims.count != 2 { throw ctx.mismatch("\(name) must be 2-D, found \(shapeText(dims))") }
    }
    let m: Dim = a.map { transA ? $0[1] : $0[0] } ?? .unknown
    let n: Dim = b.map { transB ? $0[0] : $0[1] } ?? .unknown
    if let a, let b, case .known(let ka) = transA ? a[0] : a[1], case .known(let kb) = transB ? b[1] : b[0], ka != kb {
        throw ctx.mismatch(
            "inner dims differ: A \(shapeText(a))\(transA ? "ᵀ" : "") has K = \(ka), B \(shapeText(b))\(transB ? "ᵀ" : "") has K = \(kb)")
    }
    let dims: [Dim] = [m, n]
    if let c = ctx.inputDims(2) {
        // C broadcasts to [M, N] (unidirectionally).
        if let result = try broadcast([dims, c], ctx), zip(result, dims).contains(where: { r, d in
            if case .known(let x) = r, case .known(let y) = d { x != y } else { false }
        }) {
            throw ctx.mismatch("C \(shapeText(c)) does not broadcast to the output \(shapeText(dims))")
        }
    }
    ctx.setOutput(0, elementType, dims)
}

/// `M · K · N`, plus one FLOP per output element for C.
private let gemmCost: OpSchema.CostRule = { ctx in
    guard let a = ctx.inputShape(0), let out = ctx.outputShape(0), a.count == 2, out.count == 2 else { return nil }
    let k = ctx.node.int("transA", default: 0) != 0 ? a[0] : a[1]
    let macs = out[0] * k * out[1]
    return Costs.dotProduct(macs: macs, biasOutputElements: ctx.hasInput(2) ? out[0] * out[1] : nil)
}
