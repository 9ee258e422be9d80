import Foundation

// Ops that make tensors from shapes or attributes: Shape, Size, Constant, ConstantOfShape, Range,
// NonZero. Their outputs are often constants, which inference records so shape chains fold.

extension OpSchemas {
    static let generatorSchemas: [OpSchema] = [
        OpSchema("Shape", shape: inferShape, cost: Costs.zero),
        OpSchema("Size", shape: inferSize, cost: Costs.zero),
        OpSchema("Constant", shape: inferConstant, cost: Costs.zero),
        OpSchema("ConstantOfShape", shape: inferConstantOfShape, cost: Costs.zero),
        OpSchema("Range", shape: inferRange, cost: Costs.zero),
        // One comparison with zero per input element.
        OpSchema("NonZero", shape: inferNonZero, cost: Costs.perInputElement(1)),
    ]
}

/// int64 [rank] (or the `start`..<`end` part of it, opset 15), with the dims as symbolic elements.
private func inferShape(_ ctx: inout InferenceContext) throws(GraphError) {
    guard let x = ctx.inputDims(0) else { return ctx.setOutput(0, .int64, [.unknown]) }
    let r = Int64(x.count)
    func clamp(_ v: Int64) -> Int { Int(min(max(v < 0 ? v + r : v, 0), r)) }
    let start = clamp(ctx.int("start", default: 0))
    let end = clamp(ctx.int("end", default: r))
    let dims = start < end ? Array(x[start..<end]) : []
    ctx.setOutput(0, .int64, [.known(dims.count)])
    ctx.setSymbolic(0, dims)
}

private func inferSize(_ ctx: inout InferenceContext) throws(GraphError) {
    ctx.setOutput(0, .int64, [])
    if let x = ctx.inputDims(0) { ctx.setSymbolic(0, [Dim.product(x)]) }
}

extension Node {
    /// The tensor a `Constant` node holds, from whichever `value*` attribute it has, named after
    /// the node's output; nil when it has none (or a sparse value that cannot be densified).
    public var constantValue: Tensor? {
        constantTensor(self)
    }
}

private func constantTensor(_ node: Node) -> Tensor? {
    let name = node.outputs.first ?? ""
    for attribute in node.attributes {
        switch (attribute.name, attribute.value) {
        case ("value", .tensor(let t)):
            var t = t
            t.name = name
            return t
        case ("sparse_value", .sparseTensor(let s)):
            guard var t = try? s.densified() else { return nil }
            t.name = name
            return t
        case ("value_float", .float(let v)): return Tensor(name: name, elementType: .float32, shape: [], storage: .bytes(withUnsafeBytes(of: v) { Data($0) }))
        case ("value_floats", .floats(let v)): return Tensor(name: name, shape: [v.count], floats: v)
        case ("value_int", .int(let v)): return Tensor(name: name, shape: [], int64s: [v])
        case ("value_ints", .ints(let v)): return Tensor(name: name, shape: [v.count], int64s: v)
        case ("value_string", .string(let s)): return Tensor(name: name, elementType: .string, shape: [], storage: .strings([s]))
        case ("value_strings", .strings(let s)): return Tensor(name: name, elementType: .string, shape: [s.count], storage: .strings(s))
        default: continue
        }
    }
    return nil
}

private func inferConstant(_ ctx: inout InferenceContext) throws(GraphError) {
    guard let tensor = constantTensor(ctx.node) else {
        // A sparse value that cannot be densified still has a known type.
        if case .sparseTensor(let s)? = ctx.node.attribute("sparse_value") {
            return ctx.setOutput(0, TensorType(s.values.elementType, shape: s.shape))
        }
        throw ctx.invalidAttribute("value", "is missing: a Constant needs one value attribute")
    }
    // The node holds the tensor already, so recording it costs no copy whatever its size.
    ctx.setOutput(0, tensor.type)
    if !ctx.outputValues.isEmpty { ctx.outputValues[0] = tensor }
}

private func inferConstantOfShape(_ ctx: inout InferenceContext) throws(GraphError) {
    let fill = ctx.node.tensor("value")
    let elementType = fill?.elementType ?? .float32
    guard let dims = ctx.symbolicInts(0) else {
        let rank = ctx.inputDims(0).flatMap { $0.count == 1 ? $0[0].value : nil }
        return ctx.setOutput(0, elementType, rank.map { Array(repeating: .unknown, count: $0) })
    }
    if let bad = dims.first(where: { ($0.value ?? 0) < 0 }) {
        throw ctx.mismatch("shape \(shapeText(dims)) has a negative dim \(bad)")
    }
    ctx.setOutput(0, elementType, dims)
    let shape = dims.compactMap(\.value)
    guard shape.count == dims.count, shape.reduce(1, *) <= InferenceContext.maxPropagatedElements else { return }
    let element = fill.flatMap(SmallTensor.init) ?? SmallTensor(elementType: .float32, shape: [], numbers: .floats([0]))
    let n = shape.reduce(1, *)
    let numbers: SmallTensor.Numbers
    switch element.numbers {
    case .ints(let v): numbers = .ints(Array(repeating: v.first ?? 0, count: n))
    case .floats(let v): numbers = .floats(Array(repeating: v.first ?? 0, count: n))
    }
    ctx.setValue(0, SmallTensor(elementType: element.elementType, shape: shape, numbers: numbers))
}

/// 1-D of `max(ceil((limit − start) / delta), 0)` elements.
private func inferRange(_ ctx: inout InferenceContext) throws(GraphError) {
    let elementType = ctx.inputElementType(0) ?? ctx.inputElementType(1)
    for i in 0..<3 {
        if let dims = ctx.inputDims(i), !dims.isEmpty, !(dims.count == 1 && dims[0] == .known(1)) {
            throw ctx.mismatch("input \(i) must be a scalar, found \(shapeText(dims))")
        }
    }
    if let start = ctx.smallValue(0), let limit = ctx.smallValue(1), let delta = ctx.smallValue(2) {
        let s = start.numbers.asDoubles.first ?? 0, l = limit.numbers.asDoubles.first ?? 0, d = delta.numbers.asDoubles.first ?? 0
        guard d != 0 else { throw ctx.mismatch("delta is 0") }
        let count = max(Int(((l - s) / d).rounded(.up)), 0)
        ctx.setOutput(0, elementType, [.known(count)])
        guard count <= InferenceContext.maxPropagatedElements, let elementType else { return }
        let numbers: SmallTensor.Numbers
        if case .ints(let sv) = start.numbers, case .ints(let dv) = delta.numbers {
            numbers = .ints((0..<count).map { sv[0] + Int64($0) * dv[0] })
        } else {
            numbers = .floats((0..<count).map { s + Double($0) * d })
        }
        ctx.setValue(0, SmallTensor(elementType: elementType, shape: [count], numbers: numbers))
        return
    }
    // Range(0, N, 1) has N elements even when N is symbolic.
    if ctx.constantInts(0) == [0], ctx.constantInts(2) == [1], let limit = ctx.symbolicInts(1), limit.count == 1 {
        return ctx.setOutput(0, elementType, limit)
    }
    ctx.setOutput(0, elementType, [.unknown])
}

private func inferNonZero(_ ctx: inout InferenceContext) throws(GraphError) {
    ctx.setOutput(0, .int64, [ctx.inputRank(0).map { .known($0) } ?? .unknown, .unknown])
}
