import Synchronization

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
    /// The id of each value name. (A numbering made from keys builds this on first use.)
    public var ids: [String: Int] { names.dictionary }
    /// Each node's inputs as value ids (-1 for an absent optional input), by node.
    public var nodeInputs = NodeValueIDs()
    /// Each node's outputs as value ids (-1 for an absent optional output), by node.
    public var nodeOutputs = NodeValueIDs()
    /// The id of each initializer, in the graph's order.
    public var initializerIDs: [Int] = []
    /// The ids of the graph's inputs, outputs and sparse initializers, in the graph's order.
    public private(set) var inputIDs: [Int] = [], outputIDs: [Int] = [], sparseInitializerIDs: [Int] = []
    /// Names to ids: built at once from names, or on first use from a numbering made of keys.
    private var names: NameTable
    private var namedCount = 0
    /// The arrays of the graph numbered and the id arrays made of them. Held here, none of them
    /// is changed in place: a change copies it first, and the copy is a different array.
    private var numbered: NumberedArrays?

    private struct NumberedArrays: Sendable {
        let nodes: [Node], inputs: [Value], outputs: [Value], initializers: [Tensor], sparseInitializers: [SparseTensor]
        let nodeInputs: NodeValueIDs, nodeOutputs: NodeValueIDs, initializerIDs: [Int]
    }

    /// Numbers the graph's inputs, initializers, node inputs and outputs, outputs and sparse
    /// initializers, in that order.
    public init(_ graph: Graph) {
        var ids: [String: Int] = [:]
        ids.reserveCapacity(graph.inputs.count + graph.initializers.count + graph.nodes.count * 2)
        func id(_ name: String) -> Int {
            // One hash lookup: the defaulted subscript inserts the next id only when `name` is new.
            let next = ids.count
            return Self.read(&ids[name, default: next])
        }
        inputIDs = graph.inputs.map { id($0.name) }
        initializerIDs = graph.initializers.map { id($0.name) }
        nodeInputs.reserveCapacity(nodes: graph.nodes.count, ids: graph.nodes.count * 3)
        nodeOutputs.reserveCapacity(nodes: graph.nodes.count, ids: graph.nodes.count)
        for i in graph.nodes.indices {
            nodeInputs.appendNode(graph.nodes[i].inputs.lazy.map { $0.isEmpty ? -1 : id($0) })
            nodeOutputs.appendNode(graph.nodes[i].outputs.lazy.map { $0.isEmpty ? -1 : id($0) })
        }
        outputIDs = graph.outputs.map { id($0.name) }
        sparseInitializerIDs = graph.sparseInitializers.map { id($0.name) }
        names = NameTable(built: ids)
        namedCount = ids.count
        remember(graph)
    }

    /// Numbers `graph` from keys standing for its value names, as `init(_:)` would, without
    /// hashing a name: a reader that knows which names are equal (a `.pare` file's string
    /// table, deduplicated) passes each name's key. Equal names must have equal keys and
    /// different names different keys, each in `0..<keyCount`; a negative key in `nodeInputs` or
    /// `nodeOutputs` is an absent (empty) name. The name-to-id table is built only if asked for.
    public init(_ graph: Graph, keys: consuming ValueNameKeys, keyCount: Int) {
        // The key arrays become the id arrays, rewritten in place. (A struct, not a nested
        // function capturing its tables: captured variables are access-checked on every call.)
        struct Numberer {
            var idOfKey: [Int]
            var next = 0

            mutating func id(_ key: Int) -> Int {
                if idOfKey[key] < 0 {
                    idOfKey[key] = next
                    next += 1
                }
                return idOfKey[key]
            }

            mutating func number(_ keys: inout [Int]) {
                for k in keys.indices { keys[k] = id(keys[k]) }
            }
        }
        var numberer = Numberer(idOfKey: [Int](repeating: -1, count: keyCount))
        numberer.number(&keys.inputs)
        numberer.number(&keys.initializers)
        // Node by node, inputs then outputs: the order `init(_:)` numbers them in.
        for i in keys.nodeInputs.indices {
            keys.nodeInputs.transformIDs(ofNode: i) { $0 < 0 ? -1 : numberer.id($0) }
            keys.nodeOutputs.transformIDs(ofNode: i) { $0 < 0 ? -1 : numberer.id($0) }
        }
        numberer.number(&keys.outputs)
        numberer.number(&keys.sparseInitializers)
        let next = numberer.next
        inputIDs = keys.inputs
        initializerIDs = keys.initializers
        nodeInputs = keys.nodeInputs
        nodeOutputs = keys.nodeOutputs
        outputIDs = keys.outputs
        sparseInitializerIDs = keys.sparseInitializers
        namedCount = next
        names = NameTable(building: graph, inputIDs: inputIDs, initializerIDs: initializerIDs, nodeInputs: nodeInputs,
                          nodeOutputs: nodeOutputs, outputIDs: outputIDs, sparseInitializerIDs: sparseInitializerIDs)
        remember(graph)
    }

    private mutating func remember(_ graph: Graph) {
        numbered = NumberedArrays(nodes: graph.nodes, inputs: graph.inputs, outputs: graph.outputs,
                                  initializers: graph.initializers, sparseInitializers: graph.sparseInitializers,
                                  nodeInputs: nodeInputs, nodeOutputs: nodeOutputs, initializerIDs: initializerIDs)
    }

    /// Ids of values made after numbering that no name refers to (see `newID()`).
    private var unnamedCount = 0

    /// How many values are numbered.
    public var count: Int { namedCount + unnamedCount }

    /// The id of `name`, if it is numbered.
    public subscript(name: String) -> Int? { names.dictionary[name] }

    /// The id of `name`, numbering it when it is new.
    public mutating func id(for name: String) -> Int {
        if let id = self[name] { return id }
        // A new name: this numbering gets a table of its own (it may share one with copies).
        var ids = names.dictionary
        let id = count
        ids[name] = id
        names = NameTable(built: ids)
        namedCount += 1
        numbered = nil
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

    /// True when this numbering, unchanged, was made from `graph`'s current nodes, inputs,
    /// outputs and initializers (the same arrays, not equal ones: the check costs nothing).
    public func numbers(_ graph: Graph) -> Bool {
        guard let numbered else { return false }
        return Self.same(numbered.nodes, graph.nodes) && Self.same(numbered.initializers, graph.initializers)
            && Self.same(numbered.inputs, graph.inputs) && Self.same(numbered.outputs, graph.outputs)
            && Self.same(numbered.sparseInitializers, graph.sparseInitializers)
            && numbered.nodeInputs.sharesStorage(with: nodeInputs) && numbered.nodeOutputs.sharesStorage(with: nodeOutputs)
            && Self.same(numbered.initializerIDs, initializerIDs)
    }

    /// True when `a` and `b` are one array buffer (or both empty).
    static func same<T>(_ a: [T], _ b: [T]) -> Bool {
        a.count == b.count && (a.isEmpty || a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { x.baseAddress == $0.baseAddress } })
    }

    /// The nodes in their stored order when that order is a dependency order (each node after
    /// the producers of what it reads, no subgraphs to look into), else nil: the check of
    /// `Graph.topologicalOrder`'s fast path, by value id rather than by name. Nodes marked in
    /// `skipping` (when given, one flag per node) are left out, as if they were not there.
    public func storedOrderIfSorted(_ graph: Graph, skipping: [Bool] = []) -> [Int]? {
        let kept = { (node: Int) in skipping.isEmpty || !skipping[node] }
        var producer = [Int](repeating: Int.max, count: count)
        for (node, outputs) in nodeOutputs.enumerated() where kept(node) {
            for id in outputs where id >= 0 { producer[id] = node }
        }
        for (node, inputs) in nodeInputs.enumerated() where kept(node) {
            if graph.nodes[node].hasSubgraphs { return nil }
            for id in inputs where id >= 0 && producer[id] != Int.max && producer[id] >= node { return nil }
        }
        return skipping.isEmpty ? Array(graph.nodes.indices) : graph.nodes.indices.filter(kept)
    }
}

/// Keys standing for a graph's value names (see `ValueNumbering.init(_:keys:keyCount:)`), in the
/// graph's order: its inputs, initializers, each node's inputs and outputs, outputs and sparse
/// initializers.
public struct ValueNameKeys: Sendable {
    public var inputs: [Int], initializers: [Int], nodeInputs: NodeValueIDs, nodeOutputs: NodeValueIDs, outputs: [Int], sparseInitializers: [Int]

    public init(inputs: [Int], initializers: [Int], nodeInputs: NodeValueIDs, nodeOutputs: NodeValueIDs, outputs: [Int], sparseInitializers: [Int]) {
        self.inputs = inputs
        self.initializers = initializers
        self.nodeInputs = nodeInputs
        self.nodeOutputs = nodeOutputs
        self.outputs = outputs
        self.sparseInitializers = sparseInitializers
    }
}

/// A numbering's names-to-ids table, shared by its copies. Made from keys, it is built the first
/// time a name is looked up (loading a model looks values up by id only).
private final class NameTable: Sendable {
    private let table: Mutex<[String: Int]?>
    private let build: (@Sendable () -> [String: Int])?

    init(built: [String: Int]) {
        table = Mutex(built)
        build = nil
    }

    init(building graph: Graph, inputIDs: [Int], initializerIDs: [Int], nodeInputs: NodeValueIDs, nodeOutputs: NodeValueIDs,
         outputIDs: [Int], sparseInitializerIDs: [Int]) {
        table = Mutex(nil)
        build = {
            var ids: [String: Int] = [:]
            for (value, id) in zip(graph.inputs, inputIDs) { ids[value.name] = id }
            for (tensor, id) in zip(graph.initializers, initializerIDs) { ids[tensor.name] = id }
            for i in graph.nodes.indices {
                for (name, id) in zip(graph.nodes[i].inputs, nodeInputs[i]) where id >= 0 { ids[name] = id }
                for (name, id) in zip(graph.nodes[i].outputs, nodeOutputs[i]) where id >= 0 { ids[name] = id }
            }
            for (value, id) in zip(graph.outputs, outputIDs) { ids[value.name] = id }
            for (sparse, id) in zip(graph.sparseInitializers, sparseInitializerIDs) { ids[sparse.name] = id }
            return ids
        }
    }

    var dictionary: [String: Int] {
        table.withLock { table in
            if let table { return table }
            let built = build?() ?? [:]
            table = built
            return built
        }
    }
}
