/// The types (and small constant values) of every value of a graph, as shape inference found them.
public struct InferredTypes: Sendable {
    /// Tensor types by value name. Values whose type could not be determined are absent.
    public var types: [String: TensorType]
    /// Constant values known after propagation: initializers (by reference, not copied) and tensors
    /// computed from constants during inference, the latter only when small.
    public var values: [String: Tensor]
    /// Elements of small 0-D/1-D integer values, possibly symbolic (e.g. `[N, 3, 224, 224]`).
    public var symbolicValues: [String: [Dim]]
    /// Op types with no schema, deduplicated and sorted. Ops of a custom domain are written
    /// `domain.OpType`.
    public var unknownOps: [String]

    public init(
        types: [String: TensorType] = [:], values: [String: Tensor] = [:], symbolicValues: [String: [Dim]] = [:],
        unknownOps: [String] = []
    ) {
        self.types = types
        self.values = values
        self.symbolicValues = symbolicValues
        self.unknownOps = unknownOps
    }

    /// The inferred type of the value `name`; nil when unknown (or `name` is empty).
    public func type(of name: String) -> TensorType? { name.isEmpty ? nil : types[name] }

    /// What a cost rule needs to know about `node`: its node and its inferred input/output types.
    public func costContext(for node: Node) -> CostContext {
        CostContext(node: node, inputs: node.inputs.map { type(of: $0) }, outputs: node.outputs.map { type(of: $0) })
    }

    /// The cost of running `node` once, from its schema; nil when it has no schema or the
    /// shapes its cost rule needs are unknown.
    public func cost(of node: Node) -> OpCost? {
        OpSchemas.lookup(node.opType, domain: node.domain)?.cost(costContext(for: node))
    }
}

/// Infers the type of every value of a graph by running each op's schema shape rule in topological
/// order, propagating small constants and symbolic shape values so that shape-computing chains
/// (`Shape → Gather → Concat → Reshape`) resolve.
public enum ShapeInference {
    /// Infers types for `graph`.
    ///
    /// - Parameters:
    ///   - opsetVersion: the default-domain opset the model imports (`Model.defaultOpsetVersion`).
    ///   - inputShapes: dims that replace the declared dims of runtime inputs (same rank).
    ///   - outerScope: types of values an enclosing graph provides (for subgraphs).
    /// - Throws: `.invalidInputShape` for an override that names no runtime input or changes its
    ///   rank; `.shapeMismatch` / `.invalidAttribute` naming the node when a known op's inputs are
    ///   inconsistent; `.cycle` when the graph has one. Unknown ops never throw: their outputs take
    ///   the type the file declares, if any.
    public static func infer(
        _ graph: Graph, opsetVersion: Int64, inputShapes: [String: [Dim]] = [:],
        outerScope: [String: TensorType] = [:]
    ) throws(GraphError) -> InferredTypes {
        var result = InferredTypes(types: outerScope)
        try seedInputs(graph, inputShapes: inputShapes, into: &result)

        var declared: [String: TensorType] = [:]
        for value in graph.valueInfo + graph.outputs {
            if let t = value.tensorType, declared[value.name] == nil { declared[value.name] = t }
        }
        var unknown = Set<String>()
        for index in try graph.topologicalOrder() {
            let node = graph.nodes[index]
            var ctx = InferenceContext(
                node: node, opsetVersion: opsetVersion,
                inputs: node.inputs.map { result.type(of: $0) },
                inputValues: node.inputs.map { $0.isEmpty ? nil : result.values[$0] },
                inputSymbolicValues: node.inputs.map { $0.isEmpty ? nil : result.symbolicValues[$0] })
            if let schema = OpSchemas.lookup(node.opType, domain: node.domain) {
                try schema.inferShapes(&ctx)
            } else {
                unknown.insert(node.isDefaultDomain ? node.opType : "\(node.domain).\(node.opType)")
            }
            for (k, name) in node.outputs.enumerated() where !name.isEmpty {
                if let type = merge(inferred: ctx.outputs[k], declared: declared[name]) { result.types[name] = type }
                if let value = ctx.outputValues[k] {
                    result.values[name] = value
                    if value.shape.count <= 1, value.elementType.isInteger, let ints = value.int64Values() {
                        result.symbolicValues[name] = ints.map { .known(Int($0)) }
                    }
                } else if let symbolic = ctx.outputSymbolicValues[k] {
                    result.symbolicValues[name] = symbolic
                    // A fully known symbolic value is a constant.
                    let known = symbolic.compactMap(\.value)
                    if known.count == symbolic.count {
                        let scalar = ctx.outputs[k]?.rank == 0 && known.count == 1
                        let type = ctx.outputs[k]?.elementType ?? .int64
                        let ints = SmallTensor(int64s: known.map(Int64.init), shape: scalar ? [] : [known.count])
                        if let t = ints.cast(to: type == .undefined ? .int64 : type)?.tensor(name: name) {
                            result.values[name] = t
                        }
                    }
                }
            }
        }
        result.unknownOps = unknown.sorted()
        return result
    }

    /// Types of graph inputs (with overrides), initializers and sparse initializers.
    private static func seedInputs(
        _ graph: Graph, inputShapes: [String: [Dim]], into result: inout InferredTypes
    ) throws(GraphError) {
        let runtime = graph.runtimeInputs
        let runtimeNames = Set(runtime.map(\.name))
        func describeInputs() -> String {
            let list = runtime.map { "'\($0.name)' \($0.tensorType.map { shapeText($0.dims) } ?? "[?]")" }
            return list.isEmpty ? "the model has no runtime inputs" : "the model's inputs are \(list.joined(separator: ", "))"
        }
        for (name, dims) in inputShapes.sorted(by: { $0.key < $1.key }) {
            guard runtimeNames.contains(name) else {
                throw .invalidInputShape("'\(name)' is not an input of the model; \(describeInputs())")
            }
            let declared = runtime.first(where: { $0.name == name })?.tensorType
            if let rank = declared?.rank, rank != dims.count {
                throw .invalidInputShape(
                    "'\(name)' has rank \(rank) (\(shapeText(declared?.dims))), but the given shape \(shapeText(dims)) has rank \(dims.count); \(describeInputs())")
            }
            if dims.contains(where: { if case .known(let v) = $0 { v < 0 } else { false } }) {
                throw .invalidInputShape("'\(name)': the given shape \(shapeText(dims)) has a negative dim")
            }
        }
        for input in graph.inputs {
            if let dims = inputShapes[input.name] {
                result.types[input.name] = TensorType(input.tensorType?.elementType ?? .undefined, dims)
            } else if let t = input.tensorType {
                result.types[input.name] = t
            }
        }
        for tensor in graph.initializers {
            // An initializer's own shape beats a declared input type of the same name.
            result.types[tensor.name] = tensor.type
            result.values[tensor.name] = tensor
            if tensor.shape.count <= 1, tensor.elementType.isInteger, tensor.elementCount <= InferenceContext.maxPropagatedElements,
               let ints = tensor.int64Values() {
                result.symbolicValues[tensor.name] = ints.map { .known(Int($0)) }
            }
        }
        for sparse in graph.sparseInitializers {
            result.types[sparse.name] = TensorType(sparse.values.elementType, shape: sparse.shape)
            if sparse.shape.reduce(1, *) <= InferenceContext.maxPropagatedElements, let dense = try? sparse.densified() {
                result.values[sparse.name] = dense
            }
        }
    }

    /// The inferred type, completed from the declared one where inference left gaps; the inferred
    /// type wins where both are known.
    static func merge(inferred: TensorType?, declared: TensorType?) -> TensorType? {
        guard let inferred else { return declared }
        guard let declared else { return inferred }
        var merged = inferred
        if merged.elementType == .undefined { merged.elementType = declared.elementType }
        if merged.dims == nil {
            merged.dims = declared.dims
        } else if let dims = merged.dims, let other = declared.dims, dims.count == other.count {
            merged.dims = zip(dims, other).map { d, o in
                if case .unknown = d { return o }
                return d
            }
        }
        return merged
    }
}
