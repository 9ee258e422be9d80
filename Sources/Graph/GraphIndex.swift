/// Use-def lookups over one graph, built once and then queried in O(1).
///
/// The index is a snapshot: rebuild it after changing the graph.
public struct GraphIndex: Sendable {
    /// Node index that produces each value.
    public let producer: [String: Int]
    /// Node indices that read each value, in node order (a node reading a value twice appears once).
    public let consumers: [String: [Int]]
    /// Initializer position for each initializer name.
    public let initializer: [String: Int]
    /// Names of graph inputs.
    public let graphInputs: Set<String>
    /// Names of graph outputs.
    public let graphOutputs: Set<String>

    public init(_ graph: Graph) {
        var producer: [String: Int] = [:]
        var consumers: [String: [Int]] = [:]
        producer.reserveCapacity(graph.nodes.count)
        consumers.reserveCapacity(graph.nodes.count + graph.inputs.count + graph.initializers.count)
        for (i, node) in graph.nodes.enumerated() {
            for output in node.outputs where !output.isEmpty { producer[output] = i }
            node.forEachDistinctRead { consumers[$0, default: []].append(i) }
        }
        var initializer: [String: Int] = [:]
        for (i, t) in graph.initializers.enumerated() { initializer[t.name] = i }
        self.producer = producer
        self.consumers = consumers
        self.initializer = initializer
        self.graphInputs = Set(graph.inputs.map(\.name))
        self.graphOutputs = Set(graph.outputs.map(\.name))
    }

    /// True when `name` is a constant of this graph (an initializer).
    public func isInitializer(_ name: String) -> Bool { initializer[name] != nil }

    /// Nodes that read `name`.
    public func consumers(of name: String) -> [Int] { consumers[name] ?? [] }
}

extension Node {
    /// Calls `body` once for each distinct value the node reads: its non-empty inputs, then what its
    /// subgraphs read from the enclosing scope (uses by the node that owns them).
    func forEachDistinctRead(_ body: (String) -> Void) {
        // Nodes read few values: a linear look-back beats hashing into a set, up to a point.
        if inputs.count <= 16 && !hasSubgraphs {
            for (k, input) in inputs.enumerated() where !input.isEmpty && !inputs[..<k].contains(input) { body(input) }
            return
        }
        var seen = Set<String>()
        for input in inputs where !input.isEmpty && seen.insert(input).inserted { body(input) }
        for name in subgraphs.flatMap({ $0.outerScopeReads() }) where seen.insert(name).inserted { body(name) }
    }
}

extension Graph {
    /// Names this graph reads but does not define itself: values from an enclosing graph.
    public func outerScopeReads() -> [String] {
        var defined = Set(inputs.map(\.name))
        defined.formUnion(initializers.map(\.name))
        defined.formUnion(sparseInitializers.map(\.name))
        for node in nodes { defined.formUnion(node.outputs) }
        var reads: [String] = []
        var seen = Set<String>()
        for node in nodes {
            let inner = node.inputs + node.subgraphs.flatMap { $0.outerScopeReads() }
            for name in inner where !name.isEmpty && !defined.contains(name) && seen.insert(name).inserted {
                reads.append(name)
            }
        }
        for output in outputs where !defined.contains(output.name) && seen.insert(output.name).inserted {
            reads.append(output.name)
        }
        return reads
    }
}
