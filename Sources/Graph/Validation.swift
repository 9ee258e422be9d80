extension Graph {
    /// Checks the graph's structure: every value defined once, every input defined, every graph
    /// output produced, tensors consistent with their shapes, no cycles. Subgraphs are checked
    /// too, with the enclosing graphs' values in scope.
    public func validate(outerScope: Set<String> = []) throws(GraphError) {
        _ = try validatedNumbering(outerScope: outerScope)
    }

    /// Validates the graph as `validate` does and returns the numbering the checks ran on, for
    /// a session to reuse (`ValueNumbering.numbers(_:)` says whether it still applies).
    public func validatedNumbering(outerScope: Set<String> = []) throws(GraphError) -> ValueNumbering {
        // Names are hashed once, by the numbering; the checks index arrays by value id.
        try validated(ValueNumbering(self), outerScope: outerScope)
    }

    /// Validates the graph as `validate` does, using `numbering`, which must have been made of
    /// this graph (such as one a reader made from a file's string table), and returns it.
    /// `initializersChecked`: the caller has already checked each initializer's data against its
    /// type and shape (a reader that did so as it decoded them), so they are not looked at again.
    public func validated(_ numbering: ValueNumbering, outerScope: Set<String> = [],
                          initializersChecked: Bool = false) throws(GraphError) -> ValueNumbering {
        // What defines each value: a node's index, or one of the negative codes below. The
        // description is only spelled out for an error: loading a model validates it every time.
        let undefined = Int.min, byInitializer = -1, bySparseInitializer = -2, byGraphInput = -3
        func describe(_ definer: Int) -> String {
            switch definer {
            case byInitializer: "an initializer"
            case bySparseInitializer: "a sparse initializer"
            case byGraphInput: "a graph input"
            default: "node \(nodes[definer].displayName)"
            }
        }
        var definedBy = [Int](repeating: undefined, count: numbering.count)
        func define(_ id: Int, _ name: String, by definer: Int) throws(GraphError) {
            guard id >= 0 else { return }
            guard definedBy[id] == undefined else {
                throw .duplicateDefinition(name, first: describe(definedBy[id]), second: describe(definer))
            }
            definedBy[id] = definer
        }
        // By index: a copy of each tensor or node would retain all its fields.
        for k in initializers.indices {
            if !initializersChecked { try initializers[k].validate() }
            if !initializers[k].name.isEmpty { try define(numbering.initializerIDs[k], initializers[k].name, by: byInitializer) }
        }
        for (k, sparse) in sparseInitializers.enumerated() where !sparse.name.isEmpty {
            try define(numbering.sparseInitializerIDs[k], sparse.name, by: bySparseInitializer)
        }
        var isInput = [Bool](repeating: false, count: inputs.isEmpty ? 0 : numbering.count)
        for (input, id) in zip(inputs, numbering.inputIDs) {
            guard !isInput[id] else {
                throw .duplicateDefinition(input.name, first: "a graph input", second: "a graph input")
            }
            isInput[id] = true
            // An input may repeat an initializer's name (the initializer is its default value).
            if definedBy[id] == undefined && !input.name.isEmpty { definedBy[id] = byGraphInput }
        }
        for i in nodes.indices {
            for (j, id) in numbering.nodeOutputs[i].enumerated() { try define(id, nodes[i].outputs[j], by: i) }
        }
        // Nodes stored in dependency order (what writers produce) prove the graph acyclic in this
        // same pass; only out-of-order nodes or subgraphs need the full sort.
        var inOrder = true
        var visible: Set<String>?
        for i in nodes.indices {
            for (j, id) in numbering.nodeInputs[i].enumerated() where id >= 0 {
                let definer = definedBy[id]
                if definer == undefined {
                    guard outerScope.contains(nodes[i].inputs[j]) else {
                        throw .danglingInput(node: nodes[i].displayName, input: nodes[i].inputs[j])
                    }
                } else if definer >= i {
                    inOrder = false
                }
            }
            for attribute in nodes[i].attributes {
                switch attribute.value {
                case .tensor(let t): try t.validate()
                case .tensors(let ts): for t in ts { try t.validate() }
                case .graph, .graphs:
                    inOrder = false
                    if visible == nil { visible = outerScope.union(numbering.ids.lazy.filter { definedBy[$0.value] != undefined }.map(\.key)) }
                    for subgraph in attribute.value.subgraphs { try subgraph.validate(outerScope: visible!) }
                default: break
                }
            }
        }
        for (output, id) in zip(outputs, numbering.outputIDs) where definedBy[id] == undefined && !outerScope.contains(output.name) {
            throw .undefinedOutput(output.name)
        }
        if !inOrder { _ = try topologicalOrder() }
        return numbering
    }
}
