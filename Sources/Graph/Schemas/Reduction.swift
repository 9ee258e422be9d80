// Reductions (Reduce*, ArgMax/ArgMin, TopK): one FLOP per input element.

extension OpSchemas {
    static let reductionSchemas: [OpSchema] = {
        var schemas: [OpSchema] = []
        // Axes moved from attribute to input in opset 13 for ReduceSum, 18 for the others.
        schemas.append(reduce("ReduceSum", axesInputSince: 13, fold: { $0.reduce(0, &+) }, floatFold: { $0.reduce(0, +) }))
        schemas.append(reduce("ReduceProd", axesInputSince: 18, fold: { $0.reduce(1, &*) }, floatFold: { $0.reduce(1, *) }))
        schemas.append(reduce("ReduceMax", axesInputSince: 18, fold: { $0.max() }, floatFold: { $0.max() }))
        schemas.append(reduce("ReduceMin", axesInputSince: 18, fold: { $0.min() }, floatFold: { $0.min() }))
        for op in ["ReduceMean", "ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp"] {
            schemas.append(reduce(op, axesInputSince: 18, fold: nil, floatFold: nil))
        }
        schemas += [
            OpSchema("ArgMax", shape: inferArgReduce, cost: Costs.perInputElement(1), channels: .alongAxis),
            OpSchema("ArgMin", shape: inferArgReduce, cost: Costs.perInputElement(1), channels: .alongAxis),
            // Not in the counting table: one comparison per input element, like ArgMax.
            OpSchema("TopK", shape: inferTopK, cost: Costs.perInputElement(1)),
        ]
        return schemas
    }()
}

/// Dims after reducing `axes` (kept as 1 with `keepdims`).
private func reducedDims(_ x: [Dim], axes: Set<Int>, keepDims: Bool) -> [Dim] {
    x.enumerated().compactMap { axes.contains($0.offset) ? (keepDims ? .known(1) : nil) : $0.element }
}

private func reduce(
    _ op: String, axesInputSince: Int64, fold: (@Sendable ([Int64]) -> Int64?)?, floatFold: (@Sendable ([Double]) -> Double?)?
) -> OpSchema {
    OpSchema(op, shape: { (ctx: inout InferenceContext) throws(GraphError) in
        let elementType = ctx.inputElementType(0)
        let keepDims = ctx.int("keepdims", default: 1) != 0
        guard let x = ctx.inputDims(0) else { return ctx.setOutput(0, elementType, nil) }
        var axes: Set<Int>
        switch IntsOperand.read(ctx, attribute: "axes", input: 1, sinceOpset: axesInputSince) {
        case .known(let given) where !given.isEmpty:
            axes = []
            for a in given { axes.insert(try ctx.normalizedAxis(a, rank: x.count, name: "axes")) }
        case .unknown:
            return ctx.setOutput(0, elementType, keepDims ? x.map { _ in .unknown } : nil)
        default:
            // No axes: reduce everything, unless asked to do nothing.
            if ctx.int("noop_with_empty_axes", default: 0) != 0 {
                ctx.setOutput(0, ctx.inputType(0))
                if let v = ctx.inputValue(0) { ctx.setValue(0, v) }
                return
            }
            axes = Set(x.indices)
        }
        let dims = reducedDims(x, axes: axes, keepDims: keepDims)
        ctx.setOutput(0, elementType, dims)
        // Fold small constants (e.g. ReduceProd of a shape: an element count).
        guard let fold, let floatFold else { return }
        if let value = ctx.smallValue(0), let shape = TensorType(.undefined, dims).staticShape {
            ctx.setValue(0, reduceValue(value, axes: axes, outShape: shape, fold: fold, floatFold: floatFold))
        } else if op == "ReduceProd", x.count == 1, let symbols = ctx.symbolicInts(0) {
            ctx.setSymbolic(0, [Dim.product(symbols)])
        }
    }, cost: Costs.perInputElement(1), channels: .reduce)
}

/// Reduces `value` over `axes` by grouping elements by their position outside the axes.
private func reduceValue(
    _ value: SmallTensor, axes: Set<Int>, outShape: [Int],
    fold: ([Int64]) -> Int64?, floatFold: ([Double]) -> Double?
) -> SmallTensor? {
    let kept = value.shape.indices.filter { !axes.contains($0) }
    let keptShape = kept.map { value.shape[$0] }
    let keptStrides = rowMajorStrides(keptShape)
    let strides = rowMajorStrides(value.shape)
    var groups = Array(repeating: [Int](), count: keptShape.reduce(1, *))
    for linear in 0..<value.count {
        var group = 0
        for (k, axis) in kept.enumerated() { group += (linear / strides[axis]) % value.shape[axis] * keptStrides[k] }
        groups[group].append(linear)
    }
    switch value.numbers {
    case .ints(let v):
        var out: [Int64] = []
        for g in groups { guard let r = fold(g.map { v[$0] }) else { return nil }; out.append(r) }
        return SmallTensor(elementType: value.elementType, shape: outShape, numbers: .ints(out))
    case .floats(let v):
        var out: [Double] = []
        for g in groups { guard let r = floatFold(g.map { v[$0] }) else { return nil }; out.append(r) }
        return SmallTensor(elementType: value.elementType, shape: outShape, numbers: .floats(out))
    }
}

private func inferArgReduce(_ ctx: inout InferenceContext) throws(GraphError) {
    guard let x = ctx.inputDims(0) else { return ctx.setOutput(0, .int64, nil) }
    let axis = try ctx.normalizedAxis(ctx.int("axis", default: 0), rank: x.count)
    ctx.setOutput(0, .int64, reducedDims(x, axes: [axis], keepDims: ctx.int("keepdims", default: 1) != 0))
}

/// Values and int64 Indices: X with the `axis` dim replaced by K.
private func inferTopK(_ ctx: inout InferenceContext) throws(GraphError) {
    let elementType = ctx.inputElementType(0)
    guard var dims = ctx.inputDims(0) else {
        ctx.setOutput(0, elementType, nil)
        ctx.setOutput(1, .int64, nil)
        return
    }
    let axis = try ctx.normalizedAxis(ctx.int("axis", default: -1), rank: dims.count)
    let k: Dim
    if ctx.opsetVersion < 10, !ctx.hasInput(1) {
        guard let attribute = ctx.int("k") else { throw ctx.invalidAttribute("k", "is required") }
        k = .known(Int(attribute))
    } else {
        k = ctx.symbolicInts(1)?.first ?? .unknown
    }
    if case .known(let kv) = k, case .known(let d) = dims[axis], kv > d || kv < 0 {
        throw ctx.mismatch("K = \(kv) is larger than axis \(axis) of \(shapeText(dims))")
    }
    dims[axis] = k
    ctx.setOutput(0, elementType, dims)
    ctx.setOutput(1, .int64, dims)
}
