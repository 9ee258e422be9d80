import Graph

/// The graph's constants by name: initializers and Constant nodes' values. Tensors stay in one
/// array (the initializers' own, shared), so building the table copies none of them.
struct ConstantTable {
    private var tensors: [Tensor]
    private var positions: [String: Int] = [:]

    init(_ graph: Graph) {
        tensors = graph.initializers
        positions.reserveCapacity(tensors.count)
        for (i, tensor) in tensors.enumerated() { positions[tensor.name] = i }
        for node in graph.nodes.indices where graph.nodes[node].opType == "Constant" && graph.nodes[node].isDefaultDomain {
            if var value = graph.nodes[node].tensor("value"), let output = graph.nodes[node].outputs.first {
                value.name = output
                add(value)
            }
        }
    }

    subscript(name: String) -> Tensor? {
        positions[name].map { tensors[$0] }
    }

    /// True when `name` is a constant (without copying its tensor out).
    func contains(_ name: String) -> Bool { positions[name] != nil }

    mutating func add(_ tensor: Tensor) {
        positions[tensor.name] = tensors.count
        tensors.append(tensor)
    }
}
