import Graph

/// Every value of a graph numbered once, with each node's inputs and outputs and each
/// initializer as those numbers. Session creation hashes each name here once; fusion, constant
/// lookups, the order check and kernel building then index arrays (hashing the same names again
/// in each of them was a fifth of a small model's load).
///
/// Whoever rewrites the graph's nodes or initializers keeps the numbering in step (ConvFusion).
struct ValueNumbering {
    /// The id of each value name.
    private(set) var ids: [String: Int] = [:]
    /// Each node's inputs as value ids (-1 for an absent optional input), by node.
    var nodeInputs: [[Int]] = []
    /// Each node's outputs as value ids (-1 for an absent optional output), by node.
    var nodeOutputs: [[Int]] = []
    /// The id of each initializer, in the graph's order.
    var initializerIDs: [Int] = []

    /// Numbers the graph's inputs, initializers, node inputs and outputs, outputs and sparse
    /// initializers, in that order.
    init(_ graph: Graph) {
        ids.reserveCapacity(graph.inputs.count + graph.initializers.count + graph.nodes.count * 2)
        for value in graph.inputs { _ = id(for: value.name) }
        initializerIDs.reserveCapacity(graph.initializers.count)
        for tensor in graph.initializers { initializerIDs.append(id(for: tensor.name)) }
        nodeInputs.reserveCapacity(graph.nodes.count)
        nodeOutputs.reserveCapacity(graph.nodes.count)
        for i in graph.nodes.indices {
            nodeInputs.append(ids(of: graph.nodes[i].inputs))
            nodeOutputs.append(ids(of: graph.nodes[i].outputs))
        }
        for value in graph.outputs { _ = id(for: value.name) }
        for sparse in graph.sparseInitializers { _ = id(for: sparse.name) }
    }

    /// How many values are numbered.
    var count: Int { ids.count }

    /// The id of `name`, if it is numbered.
    subscript(name: String) -> Int? { ids[name] }

    /// The id of `name`, numbering it when it is new.
    mutating func id(for name: String) -> Int {
        // One hash lookup: the defaulted subscript inserts `next` only when `name` is new.
        let next = ids.count
        return Self.read(&ids[name, default: next])
    }

    private static func read(_ value: inout Int) -> Int { value }

    private mutating func ids(of names: [String]) -> [Int] {
        var result: [Int] = []
        result.reserveCapacity(names.count)
        for name in names { result.append(name.isEmpty ? -1 : id(for: name)) }
        return result
    }

    /// The nodes in their stored order when that order is a dependency order (each node after
    /// the producers of what it reads, no subgraphs to look into), else nil: the check of
    /// `Graph.topologicalOrder`'s fast path, by value id rather than by name.
    func storedOrderIfSorted(_ graph: Graph) -> [Int]? {
        var producer = [Int](repeating: Int.max, count: count)
        for (node, outputs) in nodeOutputs.enumerated() {
            for id in outputs where id >= 0 { producer[id] = node }
        }
        for (node, inputs) in nodeInputs.enumerated() {
            if graph.nodes[node].hasSubgraphs { return nil }
            for id in inputs where id >= 0 && producer[id] != Int.max && producer[id] >= node { return nil }
        }
        return Array(graph.nodes.indices)
    }
}
