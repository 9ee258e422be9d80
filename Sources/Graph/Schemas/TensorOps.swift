// Data movement: ops that rearrange elements without arithmetic. All cost zero FLOPs. The ones
// that appear in shape computations also fold small constants and follow symbolic values.

extension OpSchemas {
    static let tensorSchemas: [OpSchema] = [
        OpSchema("Concat", shape: inferConcat, cost: Costs.zero, channels: .concatenate),
        OpSchema("Split", shape: inferSplit, cost: Costs.zero, channels: .split),
        OpSchema("Slice", shape: inferSlice, cost: Costs.zero, channels: .crop),
        OpSchema("Gather", shape: inferGather, cost: Costs.zero),
        OpSchema("GatherElements", shape: inferGatherElements, cost: Costs.zero),
        OpSchema("Reshape", shape: inferReshape, cost: Costs.zero, channels: .rearrange),
        OpSchema("Flatten", shape: inferFlatten, cost: Costs.zero, channels: .rearrange),
        OpSchema("Transpose", shape: inferTranspose, cost: Costs.zero, channels: .rearrange),
        OpSchema("Squeeze", shape: inferSqueeze, cost: Costs.zero, channels: .rearrange),
        OpSchema("Unsqueeze", shape: inferUnsqueeze, cost: Costs.zero, channels: .rearrange),
        OpSchema("Expand", shape: inferExpand, cost: Costs.zero),
        OpSchema("Tile", shape: inferTile, cost: Costs.zero,
                 channels: .passThrough(vectors: [AxisVector(input: 1, channelEntry: .neutral(1))])),
        OpSchema("Pad", shape: inferPad, cost: Costs.zero,
                 channels: .passThrough(vectors: [AxisVector(input: 1, entriesPerAxis: 2, channelEntry: .neutral(0))])),
        OpSchema("DepthToSpace", shape: inferDepthToSpace, cost: Costs.zero),
        OpSchema("SpaceToDepth", shape: inferSpaceToDepth, cost: Costs.zero),
        OpSchema("Identity", shape: inferIdentity, cost: Costs.zero, channels: .passThrough()),
        OpSchema("Dropout", shape: inferDropout, cost: Costs.zero, channels: .passThrough()),
    ]
}

/// Output 0 holds input 0's elements under a new shape: carries the value and symbolic elements.
private func passElements(_ ctx: inout InferenceContext, to dims: [Dim]?) {
    if let shape = dims.flatMap({ TensorType(.undefined, $0).staticShape }), let value = ctx.smallValue(0) {
        ctx.setValue(0, value.reshaped(shape))
    }
    if let dims, dims.count <= 1 { ctx.setSymbolic(0, ctx.symbolicInts(0)) }
}

/// One dim for several that must agree (Concat's non-axis dims): throws when two known ones differ.
private func unify(_ dims: [Dim], _ describe: () -> String, _ ctx: InferenceContext) throws(GraphError) -> Dim {
    var result: Dim?
    for d in dims {
        switch (result, d) {
        case (nil, _): result = d
        case (.known(let a)?, .known(let b)) where a != b: throw ctx.mismatch(describe())
        case (.known?, _): break
        case (_, .known): result = d
        case (.symbol(let a)?, .symbol(let b)) where a != b: result = .unknown
        case (.unknown?, .symbol): result = d
        default: break
        }
    }
    return result ?? .unknown
}

// MARK: Concat and Split

private func inferConcat(_ ctx: inout InferenceContext) throws(GraphError) {
    let present = ctx.node.inputs.indices.filter { ctx.hasInput($0) }
    let elementType = present.compactMap { ctx.inputElementType($0) }.first
    guard let axisValue = ctx.int("axis") ?? (ctx.opsetVersion < 4 ? 1 : nil) else {
        throw ctx.invalidAttribute("axis", "is required")
    }
    let shapes = present.map { ctx.inputDims($0) }
    guard let rank = shapes.lazy.compactMap({ $0?.count }).first else { return ctx.setOutput(0, elementType, nil) }
    let axis = try ctx.normalizedAxis(axisValue, rank: rank)
    let known = shapes.compactMap { $0 }
    if let bad = known.first(where: { $0.count != rank }) {
        throw ctx.mismatch("inputs have different ranks: \(shapeText(known[0])) and \(shapeText(bad))")
    }
    var dims: [Dim] = []
    for d in 0..<rank {
        if d == axis {
            let parts = shapes.map { $0?[d] ?? .unknown }
            dims.append(parts.count == 1 ? parts[0] : DimSum(parts).dim)
        } else {
            dims.append(try unify(known.map { $0[d] }, {
                "inputs disagree on dim \(d) (concatenating along axis \(axis)): \(known.map(shapeText).joined(separator: ", "))"
            }, ctx))
        }
    }
    ctx.setOutput(0, elementType, dims)
    let values = present.compactMap { ctx.smallValue($0) }
    if values.count == present.count, !values.isEmpty {
        ctx.setValue(0, SmallTensor.concatenating(values, axis: axis))
    } else if rank == 1 {
        let parts = present.compactMap { ctx.symbolicInts($0) }
        if parts.count == present.count { ctx.setSymbolic(0, parts.flatMap { $0 }) }
    }
}

/// A sum of dims: known when all are known, else a lone symbol plus zeros, else unknown.
private struct DimSum {
    var dim: Dim
    init(_ parts: [Dim]) {
        let unknowns = parts.filter { $0.value == nil }
        let total = parts.compactMap(\.value).reduce(0, +)
        if unknowns.isEmpty { dim = .known(total) } else if unknowns.count == 1, total == 0 { dim = unknowns[0] } else { dim = .unknown }
    }
}

private func inferSplit(_ ctx: inout InferenceContext) throws(GraphError) {
    let elementType = ctx.inputElementType(0)
    let count = ctx.node.outputs.count
    guard let x = ctx.inputDims(0) else {
        for k in 0..<count { ctx.setOutput(k, elementType, nil) }
        return
    }
    let axis = try ctx.normalizedAxis(ctx.int("axis", default: 0), rank: x.count)
    let dim = x[axis]
    var sizes: [Dim]?
    switch IntsOperand.read(ctx, attribute: "split", input: 1, sinceOpset: 13) {
    case .known(let split):
        guard split.count == count else {
            throw ctx.mismatch("split \(split) has \(split.count) sizes for \(count) outputs")
        }
        if case .known(let d) = dim, split.reduce(0, +) != d {
            throw ctx.mismatch("split \(split) sums to \(split.reduce(0, +)) but axis \(axis) of \(shapeText(x)) has \(d)")
        }
        sizes = split.map { .known(Int($0)) }
    case .unknown:
        sizes = nil
    case .absent:
        if let n = ctx.int("num_outputs") {
            guard n == count else { throw ctx.invalidAttribute("num_outputs", "is \(n) but the node has \(count) outputs") }
        }
        guard case .known(let d) = dim else {
            sizes = count == 1 ? [dim] : nil
            break
        }
        if ctx.int("num_outputs") != nil {
            // Opset 18: chunks of ceil(d / n), the last one smaller.
            let chunk = (d + count - 1) / count
            let last = d - chunk * (count - 1)
            guard last > 0 || (d == 0) else {
                throw ctx.mismatch("cannot split axis \(axis) of size \(d) into \(count) chunks of \(chunk)")
            }
            sizes = Array(repeating: .known(chunk), count: count - 1) + [.known(last)]
        } else {
            guard d % count == 0 else {
                throw ctx.mismatch("axis \(axis) of \(shapeText(x)) (size \(d)) does not split evenly into \(count) outputs")
            }
            sizes = Array(repeating: .known(d / count), count: count)
        }
    }
    var start = 0
    for k in 0..<count {
        var dims = x
        dims[axis] = sizes?[k] ?? .unknown
        ctx.setOutput(k, elementType, dims)
        guard let size = sizes?[k].value else { continue }
        defer { start += size }
        var lists = x.map { $0.value.map { Array(0..<$0) } }
        lists[axis] = Array(start..<(start + size))
        if let value = ctx.smallValue(0), lists.allSatisfy({ $0 != nil }) {
            ctx.setValue(k, value.selecting(lists.map { $0! }))
        } else if x.count == 1, let symbols = ctx.symbolicInts(0), start + size <= symbols.count {
            ctx.setSymbolic(k, Array(symbols[start..<(start + size)]))
        }
    }
}

// MARK: Slice and Gather

/// The input positions ONNX `Slice` takes on an axis of size `d`, after clamping.
func sliceIndices(size d: Int, start: Int64, end: Int64, step: Int64) -> [Int] {
    let n = Int64(d)
    // Negative positions count from the end; far-out ones clamp (adding n cannot overflow here).
    var s = start < 0 ? max(start + n, -1) : start
    var e = end < 0 ? max(end + n, -1) : end
    if step > 0 {
        s = min(max(s, 0), n)
        e = min(max(e, 0), n)
        return s < e ? Array(stride(from: Int(s), to: Int(e), by: Int(step))) : []
    }
    s = min(max(s, 0), n - 1)
    e = min(max(e, -1), n - 1)
    return s > e ? Array(stride(from: Int(s), to: Int(e), by: Int(step))) : []
}

private func inferSlice(_ ctx: inout InferenceContext) throws(GraphError) {
    let elementType = ctx.inputElementType(0)
    guard let x = ctx.inputDims(0) else { return ctx.setOutput(0, elementType, nil) }
    let starts: [Int64]?, ends: [Int64]?, axesOperand: IntsOperand, steps: [Int64]?
    if ctx.opsetVersion < 10 && !ctx.hasInput(1) {
        starts = ctx.ints("starts")
        ends = ctx.ints("ends")
        axesOperand = ctx.ints("axes").map { .known($0) } ?? .absent
        steps = nil
        guard starts != nil, ends != nil else { throw ctx.invalidAttribute("starts", "and 'ends' are required") }
    } else {
        starts = ctx.constantInts(1)
        ends = ctx.constantInts(2)
        axesOperand = ctx.hasInput(3) ? ctx.constantInts(3).map { .known($0) } ?? .unknown : .absent
        steps = ctx.hasInput(4) ? ctx.constantInts(4) : nil
        if ctx.hasInput(4) && steps == nil { return ctx.setOutput(0, elementType, x.map { _ in .unknown }) }
    }
    guard let starts, let ends else {
        // Unknown bounds: rank kept; dims on the sliced axes unknown.
        if case .known(let axes) = axesOperand, let normalized = try? axes.map({ a throws(GraphError) in try ctx.normalizedAxis(a, rank: x.count, name: "axes") }) {
            ctx.setOutput(0, elementType, x.enumerated().map { normalized.contains($0.offset) ? .unknown : $0.element })
        } else {
            ctx.setOutput(0, elementType, x.map { _ in .unknown })
        }
        return
    }
    let axes: [Int64]
    switch axesOperand {
    case .known(let a): axes = a
    case .absent: axes = (0..<Int64(starts.count)).map { $0 }
    case .unknown: return ctx.setOutput(0, elementType, x.map { _ in .unknown })
    }
    let stepList = steps ?? Array(repeating: 1, count: starts.count)
    guard starts.count == ends.count, axes.count == starts.count, stepList.count == starts.count else {
        throw ctx.mismatch("starts, ends, axes and steps have different lengths: \(starts.count), \(ends.count), \(axes.count), \(stepList.count)")
    }
    var dims = x
    var lists: [[Int]?] = x.map { $0.value.map { Array(0..<$0) } }
    var seen = Set<Int>()
    for k in starts.indices {
        let axis = try ctx.normalizedAxis(axes[k], rank: x.count, name: "axes")
        guard seen.insert(axis).inserted else { throw ctx.invalidAttribute("axes", "repeats axis \(axis)") }
        guard stepList[k] != 0 else { throw ctx.mismatch("step on axis \(axis) is 0") }
        if case .known(let d) = x[axis] {
            let picked = sliceIndices(size: d, start: starts[k], end: ends[k], step: stepList[k])
            dims[axis] = .known(picked.count)
            lists[axis] = picked
        } else {
            // The whole of an unknown axis keeps its (symbolic) size.
            let whole = starts[k] == 0 && stepList[k] == 1 && ends[k] >= Int64(Int32.max)
            dims[axis] = whole ? x[axis] : .unknown
        }
    }
    ctx.setOutput(0, elementType, dims)
    if let value = ctx.smallValue(0), lists.allSatisfy({ $0 != nil }) {
        ctx.setValue(0, value.selecting(lists.map { $0! }))
    } else if x.count == 1, let symbols = ctx.symbolicInts(0), let picked = lists[0], symbols.count == x[0].value {
        ctx.setSymbolic(0, picked.map { symbols[$0] })
    }
}

private func inferGather(_ ctx: inout InferenceContext) throws(GraphError) {
    let elementType = ctx.inputElementType(0)
    guard let data = ctx.inputDims(0), let indices = ctx.inputDims(1) else { return ctx.setOutput(0, elementType, nil) }
    guard !data.isEmpty else { throw ctx.mismatch("data must have rank ≥ 1, found a scalar") }
    let axis = try ctx.normalizedAxis(ctx.int("axis", default: 0), rank: data.count)
    ctx.setOutput(0, elementType, Array(data[..<axis]) + indices + Array(data[(axis + 1)...]))
    guard let raw = ctx.constantInts(1) else { return }
    var picked = raw.map(Int.init)
    if case .known(let d) = data[axis] {
        for (k, i) in raw.enumerated() {
            guard i >= -Int64(d) && i < Int64(d) else {
                throw ctx.mismatch("index \(i) is out of range for axis \(axis) of data \(shapeText(data))")
            }
            picked[k] = i < 0 ? Int(i) + d : Int(i)
        }
    } else if raw.contains(where: { $0 < 0 }) {
        return
    }
    let indexShape = indices.compactMap(\.value)
    guard indexShape.count == indices.count else { return }
    if let value = ctx.smallValue(0) {
        ctx.setValue(0, value.gathering(axis: axis, indices: picked, indexShape: indexShape))
    } else if data.count == 1, indices.count <= 1, let symbols = ctx.symbolicInts(0), picked.allSatisfy({ $0 < symbols.count }) {
        ctx.setSymbolic(0, picked.map { symbols[$0] })
    }
}

private func inferGatherElements(_ ctx: inout InferenceContext) throws(GraphError) {
    if let data = ctx.inputDims(0), let indices = ctx.inputDims(1), data.count != indices.count {
        throw ctx.mismatch("data \(shapeText(data)) and indices \(shapeText(indices)) must have the same rank")
    }
    ctx.setOutput(0, ctx.inputElementType(0), ctx.inputDims(1))
}

// MARK: Reshaping

private func inferReshape(_ ctx: inout InferenceContext) throws(GraphError) {
    let elementType = ctx.inputElementType(0)
    let x = ctx.inputDims(0)
    let target: [Dim]
    if ctx.opsetVersion < 5, !ctx.hasInput(1) {
        guard let shape = ctx.ints("shape") else { throw ctx.invalidAttribute("shape", "is required") }
        target = shape.map { .known(Int($0)) }
    } else if let symbols = ctx.symbolicInts(1) {
        target = symbols
    } else {
        // Unknown target values: the rank is known when the shape input's length is.
        let rank = ctx.inputDims(1).flatMap { $0.count == 1 ? $0[0].value : nil }
        return ctx.setOutput(0, elementType, rank.map { Array(repeating: .unknown, count: $0) })
    }
    let allowZero = ctx.int("allowzero", default: 0) != 0
    var dims: [Dim] = []
    var inferred: Int?
    for (i, t) in target.enumerated() {
        switch t {
        case .known(-1):
            guard inferred == nil else { throw ctx.mismatch("shape \(shapeText(target)) has more than one -1") }
            inferred = i
            dims.append(.unknown)
        case .known(0) where !allowZero:
            guard let x else { dims.append(.unknown); continue }
            guard i < x.count else {
                throw ctx.mismatch("shape \(shapeText(target)) copies dim \(i) (a 0) but the input \(shapeText(x)) has rank \(x.count)")
            }
            dims.append(x[i])
        case .known(let v) where v < -1:
            throw ctx.mismatch("shape \(shapeText(target)) has an invalid dim \(v)")
        default:
            dims.append(t)
        }
    }
    if let x {
        let total = DimProduct(x)
        if let inferred {
            let rest = DimProduct(dims.enumerated().filter { $0.offset != inferred }.map(\.element))
            if let q = total.dividing(by: rest) {
                dims[inferred] = q
            } else if !total.hasUnknown, !rest.hasUnknown, rest.factor != 0,
                      rest.symbols.allSatisfy({ total.symbols[$0.key, default: 0] >= $0.value }) {
                // Symbols cancel, so the known factors alone must divide.
                throw ctx.mismatch("cannot reshape \(shapeText(x)) to \(shapeText(target)): \(total.factor) elements do not divide by \(rest.factor)")
            }
        } else {
            let out = DimProduct(dims)
            if !total.hasUnknown, !out.hasUnknown, total.symbols == out.symbols, total.factor != out.factor {
                throw ctx.mismatch("cannot reshape \(shapeText(x)) (\(total.factor) elements) to \(shapeText(target)) (\(out.factor) elements)")
            }
        }
    }
    ctx.setOutput(0, elementType, dims)
    passElements(&ctx, to: dims)
}

private func inferFlatten(_ ctx: inout InferenceContext) throws(GraphError) {
    let elementType = ctx.inputElementType(0)
    guard let x = ctx.inputDims(0) else { return ctx.setOutput(0, elementType, [.unknown, .unknown]) }
    var axis = Int(ctx.int("axis", default: 1))
    if axis < 0 { axis += x.count }
    guard axis >= 0 && axis <= x.count else {
        throw ctx.invalidAttribute("axis", "value \(ctx.int("axis", default: 1)) is out of range for rank \(x.count)")
    }
    let dims = [Dim.product(x[..<axis]), Dim.product(x[axis...])]
    ctx.setOutput(0, elementType, dims)
    passElements(&ctx, to: dims)
}

private func inferTranspose(_ ctx: inout InferenceContext) throws(GraphError) {
    let elementType = ctx.inputElementType(0)
    guard let x = ctx.inputDims(0) else {
        return ctx.setOutput(0, elementType, ctx.ints("perm").map { Array(repeating: .unknown, count: $0.count) })
    }
    let perm = ctx.ints("perm")?.map(Int.init) ?? Array((0..<x.count).reversed())
    guard perm.sorted() == Array(0..<x.count) else {
        throw ctx.invalidAttribute("perm", "\(perm) is not a permutation of the \(x.count) axes of \(shapeText(x))")
    }
    ctx.setOutput(0, elementType, perm.map { x[$0] })
}

private func inferSqueeze(_ ctx: inout InferenceContext) throws(GraphError) {
    let elementType = ctx.inputElementType(0)
    guard let x = ctx.inputDims(0) else { return ctx.setOutput(0, elementType, nil) }
    var dims: [Dim]?
    switch IntsOperand.read(ctx, attribute: "axes", input: 1, sinceOpset: 13) {
    case .known(let axes):
        var remove = Set<Int>()
        for a in axes {
            let axis = try ctx.normalizedAxis(a, rank: x.count, name: "axes")
            if case .known(let v) = x[axis], v != 1 {
                throw ctx.mismatch("cannot squeeze axis \(axis) of \(shapeText(x)): its size is \(v), not 1")
            }
            remove.insert(axis)
        }
        dims = x.enumerated().filter { !remove.contains($0.offset) }.map(\.element)
    case .absent:
        // Every size-1 dim goes; with a dim of unknown size the rank is unknown.
        dims = x.allSatisfy({ $0.value != nil }) ? x.filter { $0.value != 1 } : nil
    case .unknown:
        dims = nil
    }
    ctx.setOutput(0, elementType, dims)
    passElements(&ctx, to: dims)
}

private func inferUnsqueeze(_ ctx: inout InferenceContext) throws(GraphError) {
    let elementType = ctx.inputElementType(0)
    let axes: [Int64]
    switch IntsOperand.read(ctx, attribute: "axes", input: 1, sinceOpset: 13) {
    case .known(let a): axes = a
    case .absent: throw ctx.invalidAttribute("axes", "is required")
    case .unknown: return ctx.setOutput(0, elementType, nil)
    }
    guard let x = ctx.inputDims(0) else { return ctx.setOutput(0, elementType, nil) }
    let rank = x.count + axes.count
    var inserted = Set<Int>()
    for a in axes {
        guard inserted.insert(try ctx.normalizedAxis(a, rank: rank, name: "axes")).inserted else {
            throw ctx.invalidAttribute("axes", "\(axes) repeats an axis")
        }
    }
    var rest = x.makeIterator()
    let dims = (0..<rank).map { inserted.contains($0) ? Dim.known(1) : rest.next()! }
    ctx.setOutput(0, elementType, dims)
    passElements(&ctx, to: dims)
}

// MARK: Replication and padding

private func inferExpand(_ ctx: inout InferenceContext) throws(GraphError) {
    let elementType = ctx.inputElementType(0)
    let shape: [Dim]? = ctx.symbolicInts(1)
        ?? ctx.inputDims(1).flatMap { $0.count == 1 ? $0[0].value.map { Array(repeating: .unknown, count: $0) } : nil }
    ctx.setOutput(0, elementType, try broadcast([ctx.inputDims(0), shape], ctx))
}

private func inferTile(_ ctx: inout InferenceContext) throws(GraphError) {
    let elementType = ctx.inputElementType(0)
    guard let x = ctx.inputDims(0) else { return ctx.setOutput(0, elementType, nil) }
    guard let repeats = ctx.constantInts(1) else { return ctx.setOutput(0, elementType, x.map { _ in .unknown }) }
    guard repeats.count == x.count else {
        throw ctx.mismatch("repeats has \(repeats.count) values for input \(shapeText(x)) of rank \(x.count)")
    }
    ctx.setOutput(0, elementType, zip(x, repeats).map { $0.times(Int($1)) })
}

private func inferPad(_ ctx: inout InferenceContext) throws(GraphError) {
    let elementType = ctx.inputElementType(0)
    guard let x = ctx.inputDims(0) else { return ctx.setOutput(0, elementType, nil) }
    let pads: [Int64]?
    var axes = Array(0..<x.count)
    if ctx.opsetVersion < 11 && !ctx.hasInput(1) {
        pads = ctx.ints("pads") ?? ctx.ints("paddings")
        guard pads != nil else { throw ctx.invalidAttribute("pads", "is required") }
    } else {
        pads = ctx.constantInts(1)
        if ctx.hasInput(3) {
            guard let given = ctx.constantInts(3) else { return ctx.setOutput(0, elementType, x.map { _ in .unknown }) }
            axes = []
            for a in given { axes.append(try ctx.normalizedAxis(a, rank: x.count, name: "axes")) }
        }
    }
    guard let pads else { return ctx.setOutput(0, elementType, x.map { _ in .unknown }) }
    guard pads.count == 2 * axes.count else {
        throw ctx.mismatch("pads has \(pads.count) values, expected \(2 * axes.count) for input \(shapeText(x))")
    }
    var dims = x
    for (k, axis) in axes.enumerated() {
        dims[axis] = x[axis].plus(Int(pads[k] + pads[k + axes.count]))
        if case .known(let v) = dims[axis], v < 0 {
            throw ctx.mismatch("pads \(pads) make axis \(axis) of \(shapeText(x)) negative (\(v))")
        }
    }
    ctx.setOutput(0, elementType, dims)
}

// MARK: Depth and space

private func blockOperands(_ ctx: InferenceContext) throws(GraphError) -> (x: [Dim], block: Int)? {
    guard let block = ctx.int("blocksize"), block > 0 else { throw ctx.invalidAttribute("blocksize", "must be a positive integer") }
    guard let x = ctx.inputDims(0) else { return nil }
    guard x.count == 4 else { throw ctx.mismatch("input must be 4-D (N, C, H, W), found \(shapeText(x))") }
    return (x, Int(block))
}

private func inferDepthToSpace(_ ctx: inout InferenceContext) throws(GraphError) {
    guard let (x, b) = try blockOperands(ctx) else { return ctx.setOutput(0, ctx.inputElementType(0), nil) }
    guard let c = x[1].dividedExactly(by: b * b) else {
        throw ctx.mismatch("channels of \(shapeText(x)) are not divisible by blocksize² = \(b * b)")
    }
    ctx.setOutput(0, ctx.inputElementType(0), [x[0], c, x[2].times(b), x[3].times(b)])
}

private func inferSpaceToDepth(_ ctx: inout InferenceContext) throws(GraphError) {
    guard let (x, b) = try blockOperands(ctx) else { return ctx.setOutput(0, ctx.inputElementType(0), nil) }
    guard let h = x[2].dividedExactly(by: b), let w = x[3].dividedExactly(by: b) else {
        throw ctx.mismatch("spatial dims of \(shapeText(x)) are not divisible by blocksize \(b)")
    }
    ctx.setOutput(0, ctx.inputElementType(0), [x[0], x[1].times(b * b), h, w])
}

// MARK: Pass-through

private func inferIdentity(_ ctx: inout InferenceContext) throws(GraphError) {
    ctx.setOutput(0, ctx.inputType(0))
    if let value = ctx.inputValue(0) { ctx.setValue(0, value) }
    ctx.setSymbolic(0, ctx.symbolicInts(0))
}

/// Inference-mode Dropout: Y is X; the optional mask is bool (the input's type before opset 10).
private func inferDropout(_ ctx: inout InferenceContext) throws(GraphError) {
    ctx.setOutput(0, ctx.inputType(0))
    ctx.setOutput(1, ctx.opsetVersion >= 10 ? .bool : ctx.inputElementType(0), ctx.inputDims(0))
}
