/// Every value of a graph numbered once, with each node's inputs and outputs and each
/// initializer as those numbers. Each name is hashed here once; validation, fusion, constant
/// lookups, the order check and kernel building then index arrays by id (hashing the same names
/// again in each of them was a fifth of a small model's load).
///
/// A numbering remembers the arrays it numbered. `numbers(_:)` is true only while a graph still
/// holds those very arrays and the numbering is unchanged: any change to either (arrays are
/// copied on write while the numbering holds them) makes it false, so a numbering made when a
/// file was read (`Graph.validatedNumbering()`) is reused only for the graph it describes.
public struct ValueNumbering: Sendable {
    /// The id of each value name.
    public private(set) var ids: [String: Int] = [:]
    /// Each node's inputs as value ids (-1 for an absent optional input), by node.
    public var nodeInputs: [[Int]] = []
    /// Each node's outputs as value ids (-1 for an absent optional output), by node.
    public var nodeOutputs: [[Int]] = []
    /// The id of each initializer, in the graph's order.
    public var initializerIDs: [Int] = []
    /// The arrays of the graph numbered and the id arrays made of them. Held here, none of them
    /// is changed in place: a change copies it first, and the copy is a different array.
    private var numbered: NumberedArrays?

    private struct NumberedArrays: Sendable {
        let nodes: [Node], inputs: [Value], outputs: [Value], initializers: [Tensor], sparseInitializers: [SparseTensor]
        let nodeInputs: [[Int]], nodeOutputs: [[Int]], initializerIDs: [Int]
    }

    /// Numbers the graph's inputs, initializers, node inputs and outputs, outputs and sparse
    /// initializers, in that order.
    public init(_ graph: Graph) {
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
        numbered = NumberedArrays(nodes: graph.nodes, inputs: graph.inputs, outputs: graph.outputs,
                                  initializers: graph.initializers, sparseInitializers: graph.sparseInitializers,
                                  nodeInputs: nodeInputs, nodeOutputs: nodeOutputs, initializerIDs: initializerIDs)
    }

    /// Ids of values made after numbering that no name refers to (see `newID()`).
    private var unnamedCount = 0

    /// How many values are numbered.
    public var count: Int { ids.count + unnamedCount }

    /// The id of `name`, if it is numbered.
    public subscript(name: String) -> Int? { ids[name] }

    /// The id of `name`, numbering it when it is new.
    public mutating func id(for name: String) -> Int {
        // One hash lookup: the defaulted subscript inserts `next` only when `name` is new. (After
        // an unnamed id, names no longer take every id, and nothing needs them to.)
        let next = count
        let id = Self.read(&ids[name, default: next])
        if id == next { numbered = nil }
        return id
    }

    /// A new id for a value looked up only by id, such as a weight a session folds: the name
    /// table is left alone (it may be shared with the numbering a file was read with, and a
    /// change would copy it).
    public mutating func newID() -> Int {
        unnamedCount += 1
        numbered = nil
        return count - 1
    }

    private static func read(_ value: inout Int) -> Int { value }

    private mutating func ids(of names: [String]) -> [Int] {
        var result: [Int] = []
        result.reserveCapacity(names.count)
        for name in names { result.append(name.isEmpty ? -1 : id(for: name)) }
        return result
    }

    /// True when this numbering, unchanged, was made from `graph`'s current nodes, inputs,
    /// outputs and initializers (the same arrays, not equal ones: the check costs nothing).
    public func numbers(_ graph: Graph) -> Bool {
        guard let numbered else { return false }
        return Self.same(numbered.nodes, graph.nodes) && Self.same(numbered.initializers, graph.initializers)
            && Self.same(numbered.inputs, graph.inputs) && Self.same(numbered.outputs, graph.outputs)
            && Self.same(numbered.sparseInitializers, graph.sparseInitializers)
            && Self.same(numbered.nodeInputs, nodeInputs) && Self.same(numbered.nodeOutputs, nodeOutputs)
            && Self.same(numbered.initializerIDs, initializerIDs)
    }

    /// True when `a` and `b` are one array buffer (or both empty).
    private static func same<T>(_ a: [T], _ b: [T]) -> Bool {
        a.count == b.count && (a.isEmpty || a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { x.baseAddress == $0.baseAddress } })
    }

    /// The nodes in their stored order when that order is a dependency order (each node after
    /// the producers of what it reads, no subgraphs to look into), else nil: the check of
    /// `Graph.topologicalOrder`'s fast path, by value id rather than by name.
    public func storedOrderIfSorted(_ graph: Graph) -> [Int]? {
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
