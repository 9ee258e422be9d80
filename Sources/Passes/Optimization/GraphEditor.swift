import Foundation
import Graph

/// A graph under rewrite, with use-def lookups kept current as nodes are redirected, renamed and
/// removed. Passes mark nodes removed and call `finish()` once at the end, so node indices stay
/// valid while they work.
struct GraphEditor {
    private(set) var graph: Graph
    let context: PassContext
    /// Node indices reading each value at the top level.
    private(set) var readers: [String: Set<Int>] = [:]
    private(set) var producer: [String: Int] = [:]
    /// Values that a node's subgraph reads from this graph: never renamed, always live.
    private(set) var subgraphReads: Set<String> = []
    let graphOutputs: Set<String>
    private(set) var graphInputs: Set<String>
    private var initializerIndex: [String: Int] = [:]
    private(set) var removed: Set<Int> = []
    private var usedNames: Set<String> = []

    /// An editor that takes over `graph`, leaving it empty until `finish()`: with no second
    /// reference to its tensors, weights can be rewritten in place.
    init(taking graph: inout Graph, context: PassContext) {
        self.init(graph, context: context)
        graph = Graph()
    }

    init(_ graph: Graph, context: PassContext) {
        self.graph = graph
        self.context = context
        graphOutputs = Set(graph.outputs.map(\.name))
        graphInputs = Set(graph.inputs.map(\.name))
        for (i, tensor) in graph.initializers.enumerated() { initializerIndex[tensor.name] = i }
        for (i, node) in graph.nodes.enumerated() {
            for output in node.outputs where !output.isEmpty { producer[output] = i }
            for input in node.inputs where !input.isEmpty { readers[input, default: []].insert(i) }
            for name in node.subgraphs.flatMap({ $0.outerScopeReads() }) { subgraphReads.insert(name) }
        }
        usedNames = Set(graph.inputs.map(\.name)).union(graph.outputs.map(\.name)).union(initializerIndex.keys)
        for node in graph.nodes { usedNames.formUnion(node.outputs) }
    }

    // MARK: Lookups

    var nodes: [Node] { graph.nodes }
    func node(_ i: Int) -> Node { graph.nodes[i] }
    func isRemoved(_ i: Int) -> Bool { removed.contains(i) }
    /// Indices of the nodes still in the graph, in their current order.
    var liveIndices: [Int] { graph.nodes.indices.filter { !removed.contains($0) } }

    /// The value of `name` when it is a constant: an initializer that is not also a graph input
    /// the caller may override.
    func constant(_ name: String) -> Tensor? {
        guard !name.isEmpty, let i = initializerIndex[name] else { return nil }
        if graphInputs.contains(name) && context.keepsInitializerInputs { return nil }
        return graph.initializers[i]
    }

    func isConstant(_ name: String) -> Bool { constant(name) != nil }

    /// The element type and shape of the constant `name`, without holding its bytes.
    func constantLayout(_ name: String) -> (elementType: ElementType, shape: [Int])? {
        guard !name.isEmpty, let i = initializerIndex[name], constant(name) != nil else { return nil }
        return (graph.initializers[i].elementType, graph.initializers[i].shape)
    }

    /// Nodes reading `name` (top level).
    func readers(of name: String) -> Set<Int> { readers[name] ?? [] }

    /// The one node that reads `name`, when nothing else does: no other node, no subgraph, and
    /// not the graph's outputs. What a fusion needs before it swallows a value.
    func soleReader(of name: String) -> Int? {
        guard !graphOutputs.contains(name), !subgraphReads.contains(name) else { return nil }
        let all = readers(of: name)
        return all.count == 1 ? all.first : nil
    }

    /// True when something still needs `name`.
    func isUsed(_ name: String) -> Bool {
        !readers(of: name).isEmpty || graphOutputs.contains(name) || subgraphReads.contains(name)
    }

    /// A name no value of the graph has yet, derived from `base`.
    mutating func freshName(_ base: String) -> String {
        var candidate = base
        var n = 1
        while usedNames.contains(candidate) {
            candidate = "\(base)_\(n)"
            n += 1
        }
        usedNames.insert(candidate)
        return candidate
    }

    // MARK: Edits

    /// Adds `tensor` as an initializer, replacing one of the same name.
    mutating func setInitializer(_ tensor: Tensor) {
        usedNames.insert(tensor.name)
        if let i = initializerIndex[tensor.name] {
            graph.initializers[i] = tensor
        } else {
            initializerIndex[tensor.name] = graph.initializers.count
            graph.initializers.append(tensor)
        }
    }

    /// Stores `tensor` as the new value of input `slot` of node `i`: in place when the node is
    /// the constant's only reader (its name stays), else under a fresh name.
    mutating func replaceConstantInput(node i: Int, slot: Int, with tensor: Tensor, suffix: String) {
        let current = graph.nodes[i].input(slot)
        var value = tensor
        if let current, isExclusiveConstant(current, of: i) {
            value.name = current
        } else {
            value.name = freshName((current ?? graph.nodes[i].outputs.first ?? "const") + suffix)
        }
        setInitializer(value)
        setInput(node: i, slot: slot, to: value.name)
    }

    /// Multiplies the constant at input `slot` of node `i` per run of `block` elements by
    /// `factors` (see `WeightScaling`): in place when the node is its only reader, so a large
    /// weight is not copied; else into a new constant under a fresh name. False, changing
    /// nothing, when the input is not a float constant of that size.
    mutating func rescaleConstantInput(node i: Int, slot: Int, block: Int, factors: [Double], suffix: String) -> Bool {
        guard let name = graph.nodes[i].input(slot), let index = initializerIndex[name], constant(name) != nil,
              factors.count * block == graph.initializers[index].elementCount else { return false }
        // Scaling by one changes nothing: no pass over the bytes.
        if factors.allSatisfy({ $0 == 1 }) { return RealTensor.supportedTypes.contains(graph.initializers[index].elementType) }
        var original = graph.initializers[index]
        guard case .bytes(var data) = original.storage else { return false }
        original.storage = .bytes(Data())
        let exclusive = isExclusiveConstant(name, of: i)
        if exclusive {
            // Drop the graph's reference first, so the bytes have one owner and scale in place.
            graph.initializers[index].storage = .bytes(Data())
        }
        let scaled = WeightScaling.scale(&data, elementType: original.elementType, count: original.elementCount, block: block, factors: factors)
        if exclusive {
            graph.initializers[index].storage = .bytes(data)
            return scaled
        }
        guard scaled else { return false }
        var copy = original
        copy.storage = .bytes(data)
        copy.name = freshName(name + suffix)
        setInitializer(copy)
        setInput(node: i, slot: slot, to: copy.name)
        return true
    }

    /// Stores `values` (of `elementType` and `shape`) as the bias, input 2, of node `i`: in place
    /// of an existing bias only the node reads, else as a new constant.
    mutating func setBias(node i: Int, _ values: [Double], elementType: ElementType, shape: [Int]) {
        replaceConstantInput(node: i, slot: 2, with: RealTensor(elementType: elementType, shape: shape, values: values).tensor(name: ""),
                             suffix: graph.nodes[i].input(2) == nil ? "_bias" : "_folded")
    }

    /// True when the initializer `name` belongs to node `i` alone: no other reader, no
    /// subgraph, not a graph input or output. Such a constant is rewritten under its own name.
    private func isExclusiveConstant(_ name: String, of i: Int) -> Bool {
        initializerIndex[name] != nil && readers(of: name) == [i] && !graphOutputs.contains(name)
            && !subgraphReads.contains(name) && !graphInputs.contains(name)
    }

    /// Points input `slot` of node `i` at `name` (appending absent optional inputs as needed).
    mutating func setInput(node i: Int, slot: Int, to name: String) {
        while graph.nodes[i].inputs.count <= slot { graph.nodes[i].inputs.append("") }
        let old = graph.nodes[i].inputs[slot]
        graph.nodes[i].inputs[slot] = name
        if !old.isEmpty && !graph.nodes[i].inputs.contains(old) { readers[old]?.remove(i) }
        if !name.isEmpty { readers[name, default: []].insert(i) }
    }

    /// Makes every top-level reader of `old` read `new` instead.
    mutating func redirectReads(of old: String, to new: String) {
        guard old != new else { return }
        for i in readers(of: old) {
            graph.nodes[i].inputs = graph.nodes[i].inputs.map { $0 == old ? new : $0 }
            readers[new, default: []].insert(i)
        }
        readers[old] = nil
    }

    /// Makes node `i` produce `name` as output `slot` (the value it produced before is gone).
    mutating func setOutput(node i: Int, slot: Int, to name: String) {
        let old = graph.nodes[i].outputs[slot]
        if !old.isEmpty, producer[old] == i { producer[old] = nil }
        graph.nodes[i].outputs[slot] = name
        producer[name] = i
        usedNames.insert(name)
    }

    /// Sets an attribute of node `i`, replacing one of the same name.
    mutating func setAttribute(node i: Int, _ attribute: Attribute) {
        if let k = graph.nodes[i].attributes.firstIndex(where: { $0.name == attribute.name }) {
            graph.nodes[i].attributes[k] = attribute
        } else {
            graph.nodes[i].attributes.append(attribute)
        }
    }

    /// Marks node `i` removed; it no longer reads anything.
    mutating func remove(_ i: Int) {
        guard removed.insert(i).inserted else { return }
        for input in graph.nodes[i].inputs where !input.isEmpty { readers[input]?.remove(i) }
        for output in graph.nodes[i].outputs where producer[output] == i { producer[output] = nil }
    }

    /// Removes node `i`, whose output `output` equals its input `input`, so that readers of the
    /// output read the input. When the output is a graph output, the input's producer is
    /// renamed to produce it instead. Returns false (and changes nothing) when neither works:
    /// the output is read inside a subgraph, or a graph output would have to name a graph
    /// input, an initializer or another graph output.
    @discardableResult
    mutating func bypass(_ i: Int, input: String, output: String) -> Bool {
        guard !subgraphReads.contains(output) else { return false }
        if !graphOutputs.contains(output) {
            remove(i)
            redirectReads(of: output, to: input)
            return true
        }
        guard let source = producer[input], source != i, !graphOutputs.contains(input), !subgraphReads.contains(input),
              !graphInputs.contains(input), initializerIndex[input] == nil,
              let slot = graph.nodes[source].outputs.firstIndex(of: input) else { return false }
        remove(i)
        setOutput(node: source, slot: slot, to: output)
        redirectReads(of: input, to: output)
        return true
    }

    /// Replaces node `i` by constants for its outputs.
    mutating func replaceByConstants(_ i: Int, values: [Tensor]) {
        remove(i)
        for value in values where !value.name.isEmpty { setInitializer(value) }
    }

    /// The edited graph, without the removed nodes.
    func finish() -> Graph {
        var result = graph
        result.nodes = graph.nodes.indices.filter { !removed.contains($0) }.map { graph.nodes[$0] }
        return result
    }
}
