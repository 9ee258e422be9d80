extension Model {
    /// The model with every call of a model-local function (in the main graph and in subgraphs)
    /// replaced by the function's body, so
    /// that shape inference, counting and the runtime see ordinary nodes.
    ///
    /// Values inside an inlined body are renamed with the calling node's outputs as a prefix, so
    /// they cannot clash; attribute references (`ref_attr_name`) take the calling node's attribute
    /// or the function's default. Calls nested in bodies are inlined too, up to a depth that stops
    /// recursive functions. The result defines no functions (nothing calls them any more);
    /// returns the model unchanged when it defines none.
    public func inliningLocalFunctions() throws(GraphError) -> Model {
        guard !functions.isEmpty else { return self }
        var result = self
        result.graph.nodes = try inline(graph.nodes, depth: 0)
        result.functions = []
        return result
    }

    private static let maximumDepth = 16

    private func inline(_ nodes: [Node], depth: Int) throws(GraphError) -> [Node] {
        var output: [Node] = []
        output.reserveCapacity(nodes.count)
        for var node in nodes {
            // Subgraphs (If branches, Loop bodies) may call functions too.
            for index in node.attributes.indices {
                switch node.attributes[index].value {
                case .graph(var subgraph):
                    subgraph.nodes = try inline(subgraph.nodes, depth: depth)
                    node.attributes[index].value = .graph(subgraph)
                case .graphs(var subgraphs):
                    for k in subgraphs.indices { subgraphs[k].nodes = try inline(subgraphs[k].nodes, depth: depth) }
                    node.attributes[index].value = .graphs(subgraphs)
                default: break
                }
            }
            guard let function = function(domain: node.domain, name: node.opType) else {
                output.append(node)
                continue
            }
            guard depth < Self.maximumDepth else {
                throw .invalidAttribute(node: node.displayName, attribute: "domain",
                                        "calls function \(function.domain).\(function.name) recursively")
            }
            output += try inline(try expand(node, function), depth: depth + 1)
        }
        return output
    }

    /// The body of `function` as called by `node`.
    private func expand(_ node: Node, _ function: Function) throws(GraphError) -> [Node] {
        let prefix = (node.outputs.first(where: { !$0.isEmpty }) ?? node.name) + "::" + function.name + "::"
        var renamed: [String: String] = [:]
        for (formal, actual) in zip(function.inputs, node.inputs) { renamed[formal] = actual }
        // Formal inputs the call leaves out are absent optional inputs inside the body.
        for formal in function.inputs.dropFirst(node.inputs.count) { renamed[formal] = "" }
        for (formal, actual) in zip(function.outputs, node.outputs) { renamed[formal] = actual }
        func name(_ value: String) -> String {
            if value.isEmpty { return "" }
            if let mapped = renamed[value] { return mapped }
            return prefix + value
        }
        var body: [Node] = []
        for inner in function.nodes {
            var copy = inner
            copy.name = inner.name.isEmpty ? "" : prefix + inner.name
            copy.inputs = inner.inputs.map(name)
            copy.outputs = inner.outputs.map(name)
            copy.attributes = []
            for attribute in inner.attributes {
                guard case .reference(let referenced, _) = attribute.value else {
                    copy.attributes.append(attribute)
                    continue
                }
                // An unset reference with no default leaves the attribute out (its own default applies).
                if let value = node.attributes.first(where: { $0.name == referenced })?.value
                    ?? function.attributeDefaults.first(where: { $0.name == referenced })?.value {
                    copy.attributes.append(Attribute(attribute.name, value, docString: attribute.docString))
                }
            }
            body.append(copy)
        }
        return body
    }
}
