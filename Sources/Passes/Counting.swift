import Graph

/// What one node costs and holds.
public struct NodeCount: Sendable, Hashable, Codable {
    public var name: String
    public var opType: String
    /// Shape of the first output, when known.
    public var outputShape: [Int]?
    /// Elements of the node's floating-point constant inputs.
    public var parameters: Int
    /// nil when the op has no cost rule or its shapes are unknown.
    public var macs: Int?
    public var flops: Int?
}

/// Totals for one op type.
public struct OpTypeCount: Sendable, Hashable, Codable {
    public var opType: String
    public var count: Int
    public var parameters: Int
    public var macs: Int
    public var flops: Int
    /// Nodes of this type whose cost could not be computed.
    public var notCounted: Int
}

/// The result of counting a model: parameters, MACs, FLOPs and memory, as defined in
/// docs/counting.md.
public struct ModelCount: Sendable, Hashable, Codable {
    /// The input shapes the figures were computed for.
    public var inputShapes: [String: [Int]]
    /// Elements of all floating-point constants, each counted once.
    public var parameters: Int
    /// Elements of the main weight of each Conv, ConvTranspose, Gemm and MatMul.
    public var weightParameters: Int
    /// Storage size of all constants as stored.
    public var weightBytes: Int
    public var macs: Int
    public var flops: Int
    /// Largest total size of intermediate tensors alive at once, in node order.
    public var peakActivationBytes: Int
    /// False when some node's cost or some activation size could not be computed.
    public var complete: Bool
    public var perOpType: [OpTypeCount]
    public var nodes: [NodeCount]
    /// Op types with no cost rule (their nodes add nothing to the totals).
    public var unknownOps: [String]
    /// Things the user should know about how the figures were obtained.
    public var notes: [String]
}

/// Counts parameters, MACs, FLOPs, weight bytes and peak activation memory of a model.
public enum Counting {
    /// Counts `model` for the given input shapes (names of runtime inputs → dims). A symbolic
    /// leading (batch) dim left unset counts as 1, and the result says so in `notes`.
    public static func count(_ model: Model, inputShapes: [String: [Dim]] = [:]) throws(GraphError) -> ModelCount {
        // Model-local functions are counted as their bodies.
        let model = try model.inliningLocalFunctions()
        let graph = model.graph
        var shapes = inputShapes
        var notes: [String] = []
        for input in graph.runtimeInputs where shapes[input.name] == nil {
            guard var dims = input.tensorType?.dims, let first = dims.first, first.value == nil else { continue }
            dims[0] = .known(1)
            shapes[input.name] = dims
            notes.append("input '\(input.name)' has a dynamic batch dim (\(first)); counted with batch 1")
        }
        let inferred = try ShapeInference.infer(graph, opsetVersion: model.defaultOpsetVersion, inputShapes: shapes)
        let constants = ConstantTable(graph)
        let order = try graph.topologicalOrder()

        var nodeCounts: [NodeCount] = []
        var perType: [String: OpTypeCount] = [:]
        var typeOrder: [String] = []
        var macs = 0, flops = 0, weightParameters = 0
        var complete = true
        var unknownOps = Set<String>()
        for i in order {
            let node = graph.nodes[i]
            let inputTypes = node.inputs.map { $0.isEmpty ? nil : inferred.type(of: $0) }
            let outputTypes = node.outputs.map { $0.isEmpty ? nil : inferred.type(of: $0) }
            var cost: OpCost?
            if let schema = OpSchemas.lookup(node.opType, domain: node.domain) {
                cost = schema.cost(CostContext(node: node, inputs: inputTypes, outputs: outputTypes))
            } else {
                unknownOps.insert(node.opType)
            }
            if node.opType == "Constant" && node.isDefaultDomain { cost = .zero }
            if cost == nil { complete = false }
            let parameters = node.inputs.reduce(0) { $0 + constants.floatElements($1) }
            if let main = mainWeight(of: node) { weightParameters += constants.floatElements(main) }
            let entry = NodeCount(
                name: node.name, opType: node.opType, outputShape: outputTypes.first.flatMap { $0?.staticShape },
                parameters: parameters, macs: cost?.macs, flops: cost?.flops)
            nodeCounts.append(entry)
            macs += cost?.macs ?? 0
            flops += cost?.flops ?? 0
            if perType[node.opType] == nil {
                typeOrder.append(node.opType)
                perType[node.opType] = OpTypeCount(opType: node.opType, count: 0, parameters: 0, macs: 0, flops: 0, notCounted: 0)
            }
            perType[node.opType]!.count += 1
            perType[node.opType]!.parameters += parameters
            perType[node.opType]!.macs += cost?.macs ?? 0
            perType[node.opType]!.flops += cost?.flops ?? 0
            if cost == nil { perType[node.opType]!.notCounted += 1 }
        }
        let memory = peakActivationBytes(graph, order: order, inferred: inferred, constants: constants)
        if !memory.complete { complete = false }
        if !unknownOps.isEmpty {
            notes.append("not counted (no cost rule): \(unknownOps.sorted().joined(separator: ", "))")
        }
        let uncounted = nodeCounts.filter { $0.macs == nil && !unknownOps.contains($0.opType) }.count
        if uncounted > 0 {
            notes.append("\(uncounted) node(s) have unknown shapes and are not counted: pass --input-shape")
        }
        var resolvedInputs: [String: [Int]] = [:]
        for input in graph.runtimeInputs {
            if let shape = inferred.type(of: input.name)?.staticShape { resolvedInputs[input.name] = shape }
        }
        return ModelCount(
            inputShapes: resolvedInputs, parameters: constants.totalFloatElements, weightParameters: weightParameters,
            weightBytes: constants.totalBytes, macs: macs, flops: flops, peakActivationBytes: memory.peak,
            complete: complete, perOpType: typeOrder.map { perType[$0]! }, nodes: nodeCounts,
            unknownOps: unknownOps.sorted(), notes: notes)
    }

    /// The input holding a node's main learned matrix, for "weight parameters".
    static func mainWeight(of node: Node) -> String? {
        guard node.isDefaultDomain else { return nil }
        switch node.opType {
        case "Conv", "ConvTranspose", "Gemm", "MatMul": return node.input(1)
        default: return nil
        }
    }

    /// Simulates running the nodes in `order`: a value lives from its producer (graph inputs from
    /// the start) to its last consumer; graph outputs live to the end. The peak is taken after
    /// each node writes its outputs, before its dead inputs are freed.
    static func peakActivationBytes(
        _ graph: Graph, order: [Int], inferred: InferredTypes, constants: ConstantTable
    ) -> (peak: Int, complete: Bool) {
        var complete = true
        func bytes(_ name: String) -> Int {
            guard let type = inferred.type(of: name), let count = type.elementCount,
                  let size = type.elementType.byteCount(forElements: count) else {
                complete = false
                return 0
            }
            return size
        }
        var lastUse: [String: Int] = [:]
        for (step, i) in order.enumerated() {
            for input in graph.nodes[i].inputs where !input.isEmpty { lastUse[input] = step }
        }
        let outputs = Set(graph.outputs.map(\.name))
        for name in outputs { lastUse[name] = order.count }
        var live = 0
        for input in graph.runtimeInputs { live += bytes(input.name) }
        var peak = live
        for (step, i) in order.enumerated() {
            let node = graph.nodes[i]
            for output in node.outputs where !output.isEmpty && !constants.contains(output) {
                live += bytes(output)
            }
            peak = max(peak, live)
            var freed = Set<String>()
            for input in node.inputs where !input.isEmpty && !constants.contains(input) && lastUse[input] == step {
                if freed.insert(input).inserted { live -= bytes(input) }
            }
            // An output nobody reads is dead as soon as it is written.
            for output in node.outputs where !output.isEmpty && !constants.contains(output) && lastUse[output] == nil {
                live -= bytes(output)
            }
        }
        return (peak, complete)
    }
}

/// The model's constants: initializers, sparse initializers and Constant node values, by name.
struct ConstantTable {
    private var elementsByName: [String: (floatElements: Int, bytes: Int)] = [:]

    init(_ graph: Graph) {
        for tensor in graph.initializers { add(tensor.name, tensor.elementType, tensor.elementCount, tensor.byteCount) }
        for sparse in graph.sparseInitializers {
            add(sparse.name, sparse.values.elementType, sparse.values.elementCount, sparse.values.byteCount + sparse.indices.byteCount)
        }
        for node in graph.nodes where node.opType == "Constant" && node.isDefaultDomain {
            guard let output = node.outputs.first, !output.isEmpty else { continue }
            if let tensor = node.tensor("value") {
                add(output, tensor.elementType, tensor.elementCount, tensor.byteCount)
            } else if let floats = node.floats("value_floats") {
                add(output, .float32, floats.count, floats.count * 4)
            } else if node.float("value_float") != nil {
                add(output, .float32, 1, 4)
            } else if let ints = node.ints("value_ints") {
                add(output, .int64, ints.count, ints.count * 8)
            } else {
                add(output, .int64, 1, 8)
            }
        }
        followDecompression(graph)
    }

    /// Weights stored compressed (int8 through DequantizeLinear, float16 through Cast) are
    /// parameters of the node that reads the decompressed value: its output takes over their
    /// element count, so they count once and where they are used; their bytes stay as stored.
    private mutating func followDecompression(_ graph: Graph) {
        for node in graph.nodes where node.isDefaultDomain && (node.opType == "DequantizeLinear" || node.opType == "Cast") {
            guard let source = node.input(0), let stored = elementsByName[source], let output = node.outputs.first,
                  !output.isEmpty, elementsByName[output] == nil else { continue }
            if node.opType == "Cast", ElementType(rawValue: Int(node.int("to") ?? 0))?.isFloatingPoint != true { continue }
            let count = graph.initializers.first(where: { $0.name == source })?.elementCount ?? stored.floatElements
            elementsByName[source] = (0, stored.bytes)
            elementsByName[output] = (count, 0)
        }
    }

    private mutating func add(_ name: String, _ type: ElementType, _ count: Int, _ bytes: Int) {
        elementsByName[name] = (type.isFloatingPoint ? count : 0, bytes)
    }

    func contains(_ name: String) -> Bool { elementsByName[name] != nil }

    /// Float elements of the constant called `name`, or 0 when it is not a float constant.
    func floatElements(_ name: String) -> Int { elementsByName[name]?.floatElements ?? 0 }

    var totalFloatElements: Int { elementsByName.values.reduce(0) { $0 + $1.floatElements } }
    var totalBytes: Int { elementsByName.values.reduce(0) { $0 + $1.bytes } }
}

extension Counting {
    /// Parameters and weight bytes alone, which need no shapes (for `inspect`).
    public static func constantTotals(_ graph: Graph) -> (parameters: Int, weightBytes: Int) {
        let table = ConstantTable(graph)
        return (table.totalFloatElements, table.totalBytes)
    }
}
