extension Graph {
    /// Checks the graph's structure: every value defined once, every input defined, every graph
    /// output produced, tensors consistent with their shapes, no cycles. Subgraphs are checked
    /// too, with the enclosing graphs' values in scope.
    public func validate(outerScope: Set<String> = []) throws(GraphError) {
        var definedBy: [String: String] = [:]
        func define(_ name: String, by what: String) throws(GraphError) {
            guard !name.isEmpty else { return }
            if let first = definedBy[name] { throw .duplicateDefinition(name, first: first, second: what) }
            definedBy[name] = what
        }
        for tensor in initializers {
            try tensor.validate()
            try define(tensor.name, by: "an initializer")
        }
        for sparse in sparseInitializers { try define(sparse.name, by: "a sparse initializer") }
        var inputNames = Set<String>()
        for input in inputs {
            guard inputNames.insert(input.name).inserted else {
                throw .duplicateDefinition(input.name, first: "a graph input", second: "a graph input")
            }
            // An input may repeat an initializer's name (the initializer is its default value).
            if definedBy[input.name] == nil { try define(input.name, by: "a graph input") }
        }
        for node in nodes {
            for output in node.outputs { try define(output, by: "node \(node.displayName)") }
        }
        let visible = outerScope.union(definedBy.keys)
        for node in nodes {
            for input in node.inputs where !input.isEmpty && !visible.contains(input) {
                throw .danglingInput(node: node.displayName, input: input)
            }
            for attribute in node.attributes {
                switch attribute.value {
                case .tensor(let t): try t.validate()
                case .tensors(let ts): for t in ts { try t.validate() }
                default: break
                }
            }
            for subgraph in node.subgraphs { try subgraph.validate(outerScope: visible) }
        }
        for output in outputs where !visible.contains(output.name) {
            throw .undefinedOutput(output.name)
        }
        _ = try topologicalOrder()
    }
}
