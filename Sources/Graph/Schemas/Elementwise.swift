// Elementwise ops: unary maps, broadcasting binary and variadic ops, Where, casts, quantization.
// Small constant operands are folded (and small integer operands followed symbolically) so that
// shape arithmetic such as `Shape → Mul → Concat` resolves.

extension OpSchemas {
    static let elementwiseSchemas: [OpSchema] = {
        var schemas: [OpSchema] = []
        // Activations and math functions: one FLOP per element (a transcendental counts as one).
        for op in [
            "Relu", "LeakyRelu", "Elu", "Selu", "Celu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Gelu",
            "Erf", "Softplus", "Softsign", "Mish", "Clip", "ThresholdedRelu", "Shrink",
            "Sqrt", "Reciprocal", "Exp", "Log", "Neg", "Abs", "Ceil", "Floor", "Round", "Sign",
            "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh",
        ] {
            schemas.append(unary(op))
        }
        for op in ["Not", "IsNaN", "IsInf"] { schemas.append(unary(op, resultType: .bool)) }
        for op in ["Softmax", "LogSoftmax"] { schemas.append(unary(op, flops: 3).channels(.alongAxis)) }

        schemas.append(broadcasting("Add", fold: (int: { $0[0] &+ $0[1] }, float: { $0[0] + $0[1] }), symbolic: .add))
        schemas.append(broadcasting("Sub", fold: (int: { $0[0] &- $0[1] }, float: { $0[0] - $0[1] }), symbolic: .sub))
        schemas.append(broadcasting("Mul", fold: (int: { $0[0] &* $0[1] }, float: { $0[0] * $0[1] }), symbolic: .mul))
        schemas.append(broadcasting(
            "Div",
            fold: (int: { $0[1] == 0 || ($0[0] == .min && $0[1] == -1) ? nil : $0[0] / $0[1] }, float: { $0[0] / $0[1] }),
            symbolic: .div))
        for op in ["Pow", "Mod", "PRelu", "BitShift", "BitwiseAnd", "BitwiseOr", "BitwiseXor"] { schemas.append(broadcasting(op)) }
        schemas.append(broadcasting(
            "Equal", resultType: .bool, fold: (int: { $0[0] == $0[1] ? 1 : 0 }, float: { $0[0] == $0[1] ? 1 : 0 })))
        for op in ["Greater", "GreaterOrEqual", "Less", "LessOrEqual", "And", "Or", "Xor"] {
            schemas.append(broadcasting(op, resultType: .bool))
        }
        schemas.append(variadic("Max", fold: (int: { $0.max() }, float: { $0.max() })))
        schemas.append(variadic("Min", fold: (int: { $0.min() }, float: { $0.min() })))
        schemas.append(variadic("Sum", fold: nil))
        schemas.append(variadic("Mean", fold: nil))
        schemas += [
            OpSchema("Where", shape: inferWhere, cost: Costs.perOutputElement(1), channels: .broadcast),
            OpSchema("Cast", shape: inferCast, cost: Costs.zero, channels: .passThrough()),
            OpSchema("CastLike", shape: inferCast, cost: Costs.zero, channels: .passThrough()),
            // Not in the counting table: counted as elementwise arithmetic.
            OpSchema("QuantizeLinear", shape: inferQuantize, cost: Costs.perOutputElement(1), channels: .passThrough(perChannel: [1, 2])),
            OpSchema("DequantizeLinear", shape: inferDequantize, cost: Costs.perOutputElement(1), channels: .passThrough(perChannel: [1, 2])),
        ]
        return schemas
    }()
}

/// Integer and floating-point versions of an elementwise function over operand elements.
typealias Fold = (int: @Sendable ([Int64]) -> Int64?, float: @Sendable ([Double]) -> Double?)

/// A unary map: output like input 0 (with `resultType` when the op yields another element type).
private func unary(_ op: String, resultType: ElementType? = nil, flops: Int = 1) -> OpSchema {
    OpSchema(op, shape: { (ctx: inout InferenceContext) throws(GraphError) in
        guard let x = ctx.inputType(0) else { return ctx.setOutput(0, resultType, nil) }
        ctx.setOutput(0, resultType ?? x.elementType, x.dims)
    }, cost: Costs.perOutputElement(flops), channels: .passThrough())
}

/// Symbolic arithmetic on small integer operands.
private enum SymbolicOp {
    case add, sub, mul, div

    func apply(_ a: Dim, _ b: Dim) -> Dim {
        if case .known(let x) = a, case .known(let y) = b {
            switch self {
            case .add: return .known(x + y)
            case .sub: return .known(x - y)
            case .mul: return .known(x * y)
            case .div: return y != 0 ? .known(floorDivide(x, y)) : .unknown
            }
        }
        // Identities keep a symbol: N + 0, N − 0, N · 1, 1 · N, N / 1.
        switch (self, a, b) {
        case (.add, _, .known(0)), (.sub, _, .known(0)), (.mul, _, .known(1)), (.div, _, .known(1)): return a
        case (.add, .known(0), _), (.mul, .known(1), _): return b
        default: return .unknown
        }
    }
}

/// A broadcasting binary op; `fold` computes small constant results.
private func broadcasting(
    _ op: String, resultType: ElementType? = nil, fold: Fold? = nil, symbolic: SymbolicOp? = nil
) -> OpSchema {
    OpSchema(op, shape: { (ctx: inout InferenceContext) throws(GraphError) in
        let elementType = resultType ?? ctx.inputElementType(0) ?? ctx.inputElementType(1)
        let dims = try broadcast([ctx.inputDims(0), ctx.inputDims(1)], ctx)
        ctx.setOutput(0, elementType, dims)
        if let fold { foldConstants(&ctx, resultType: elementType, fold) }
        if let symbolic, ctx.outputValues[0] == nil, let dims, dims.count <= 1,
           elementType?.isInteger == true, let a = ctx.symbolicInts(0), let b = ctx.symbolicInts(1) {
            if a.count == b.count {
                ctx.setSymbolic(0, zip(a, b).map { symbolic.apply($0, $1) })
            } else if a.count == 1 {
                ctx.setSymbolic(0, b.map { symbolic.apply(a[0], $0) })
            } else if b.count == 1 {
                ctx.setSymbolic(0, a.map { symbolic.apply($0, b[0]) })
            }
        }
    }, cost: Costs.perOutputElement(1), channels: .broadcast)
}

/// A variadic broadcasting op (`Max`, `Min`, `Sum`, `Mean`): k − 1 FLOPs per output element.
private func variadic(_ op: String, fold: Fold?) -> OpSchema {
    OpSchema(op, shape: { (ctx: inout InferenceContext) throws(GraphError) in
        let present = ctx.node.inputs.indices.filter { ctx.hasInput($0) }
        let elementType = present.compactMap { ctx.inputElementType($0) }.first
        let dims = try broadcast(present.map { ctx.inputDims($0) }, ctx)
        ctx.setOutput(0, elementType, dims)
        if let fold { foldConstants(&ctx, resultType: elementType, fold) }
    }, cost: Costs.variadic, channels: .broadcast)
}

/// Computes output 0 from small constant inputs, when every present input is one.
private func foldConstants(_ ctx: inout InferenceContext, resultType: ElementType?, _ fold: Fold) {
    var operands: [SmallTensor] = []
    for i in ctx.node.inputs.indices where ctx.hasInput(i) {
        guard let v = ctx.smallValue(i) else { return }
        operands.append(v)
    }
    guard !operands.isEmpty, let resultType else { return }
    ctx.setValue(0, SmallTensor.broadcasting(operands, resultType: resultType, intOp: fold.int, floatOp: fold.float))
}

private func inferWhere(_ ctx: inout InferenceContext) throws(GraphError) {
    let elementType = ctx.inputElementType(1) ?? ctx.inputElementType(2)
    let dims = try broadcast([ctx.inputDims(0), ctx.inputDims(1), ctx.inputDims(2)], ctx)
    ctx.setOutput(0, elementType, dims)
    foldConstants(&ctx, resultType: elementType, (int: { $0[0] != 0 ? $0[1] : $0[2] }, float: { $0[0] != 0 ? $0[1] : $0[2] }))
}

/// `Cast` (to the `to` attribute) and `CastLike` (to input 1's element type): shape unchanged.
private func inferCast(_ ctx: inout InferenceContext) throws(GraphError) {
    let target: ElementType?
    if ctx.node.opType == "CastLike" {
        target = ctx.inputElementType(1)
    } else {
        guard let to = ctx.int("to") else { throw ctx.invalidAttribute("to", "is required") }
        guard let type = ElementType(rawValue: Int(to)) else { throw ctx.invalidAttribute("to", "names no element type (\(to))") }
        target = type
    }
    ctx.setOutput(0, target, ctx.inputDims(0))
    guard let target else { return }
    if let value = ctx.smallValue(0), let cast = value.cast(to: target) {
        ctx.setValue(0, cast)
    } else if target.isInteger, ctx.inputElementType(0)?.isInteger == true {
        ctx.setSymbolic(0, ctx.symbolicInts(0))
    }
}

/// Output like X, typed by `output_dtype` (opset 21), else the zero point's type, else uint8.
private func inferQuantize(_ ctx: inout InferenceContext) throws(GraphError) {
    var type = ctx.inputElementType(2) ?? .uint8
    if let dtype = ctx.int("output_dtype"), dtype != 0, let t = ElementType(rawValue: Int(dtype)) { type = t }
    ctx.setOutput(0, type, ctx.inputDims(0))
}

/// Output like X, typed like the scale (float32 before opset 19 allowed other scale types).
private func inferDequantize(_ ctx: inout InferenceContext) throws(GraphError) {
    var type = ctx.inputElementType(1) ?? .float32
    if let dtype = ctx.int("output_dtype"), dtype != 0, let t = ElementType(rawValue: Int(dtype)) { type = t }
    ctx.setOutput(0, type, ctx.inputDims(0))
}
