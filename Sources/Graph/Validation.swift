extension Graph {
    /// Checks the graph's structure: every value defined once, every input defined, every graph
    /// output produced, tensors consistent with their shapes, no cycles. Subgraphs are checked
    /// too, with the enclosing graphs' values in scope.
    public func validate(outerScope: Set<String> = []) throws(GraphError) {
        // What defines each value: a node's index, or one of the negative codes below. The
        // description is only spelled out for an error: loading a model validates it every time.
        let byInitializer = -1, bySparseInitializer = -2, byGraphInput = -3
        func describe(_ definer: Int) -> String {
            switch definer {
            case byInitializer: "an initializer"
            case bySparseInitializer: "a sparse initializer"
            case byGraphInput: "a graph input"
            default: "node \(nodes[definer].displayName)"
            }
        }
        var definedBy: [String: Int] = [:]
        definedBy.reserveCapacity(initializers.count + sparseInitializers.count + inputs.count + nodes.count)
        func define(_ name: String, by definer: Int) throws(GraphError) {
            guard !name.isEmpty else { return }
            if let first = definedBy.updateValue(definer, forKey: name) {
                throw .duplicateDefinition(name, first: describe(first), second: describe(definer))
            }
        }
        for tensor in initializers {
            try tensor.validate()
            try define(tensor.name, by: byInitializer)
        }
        for sparse in sparseInitializers { try define(sparse.name, by: bySparseInitializer) }
        var inputNames = Set<String>(minimumCapacity: inputs.count)
        for input in inputs {
            guard inputNames.insert(input.name).inserted else {
                throw .duplicateDefinition(input.name, first: "a graph input", second: "a graph input")
            }
            // An input may repeat an initializer's name (the initializer is its default value).
            if definedBy[input.name] == nil { try define(input.name, by: byGraphInput) }
        }
        // Nodes are read in place: a copy of each would retain all its fields.
        for i in nodes.indices {
            for output in nodes[i].outputs { try define(output, by: i) }
        }
        // Nodes stored in dependency order (what writers produce) prove the graph acyclic in this
        // same pass; only out-of-order nodes or subgraphs need the full sort.
        var inOrder = true
        var visible: Set<String>?
        for i in nodes.indices {
            for input in nodes[i].inputs where !input.isEmpty {
                if let definer = definedBy[input] {
                    if definer >= i { inOrder = false }
                } else if !outerScope.contains(input) {
                    throw .danglingInput(node: nodes[i].displayName, input: input)
                }
            }
            for attribute in nodes[i].attributes {
                switch attribute.value {
                case .tensor(let t): try t.validate()
                case .tensors(let ts): for t in ts { try t.validate() }
                case .graph, .graphs:
                    inOrder = false
                    if visible == nil { visible = outerScope.union(definedBy.keys) }
                    for subgraph in attribute.value.subgraphs { try subgraph.validate(outerScope: visible!) }
                default: break
                }
            }
        }
        for output in outputs where definedBy[output.name] == nil && !outerScope.contains(output.name) {
            throw .undefinedOutput(output.name)
        }
        if !inOrder { _ = try topologicalOrder() }
    }
}
