import Graph

/// The graph's constants by value id: initializers and Constant nodes' values. Tensors stay in
/// one array (the initializers' own, shared), so building the table copies none of them.
struct ConstantTable {
    private var tensors: [Tensor]
    /// Where in `tensors` each value id's constant is, or -1.
    private var positions: [Int]

    init(_ graph: Graph, numbering: ValueNumbering) {
        tensors = graph.initializers
        positions = [Int](repeating: -1, count: numbering.count)
        for (i, id) in numbering.initializerIDs.enumerated() { positions[id] = i }
        for node in graph.nodes.indices where graph.nodes[node].opType == "Constant" && graph.nodes[node].isDefaultDomain {
            if var value = graph.nodes[node].tensor("value"), let output = numbering.nodeOutputs[node].first, output >= 0 {
                value.name = graph.nodes[node].outputs[0]
                add(value, id: output)
            }
        }
    }

    /// The constant with value id `id` (nil for -1, an absent input).
    subscript(id: Int) -> Tensor? {
        let p = position(id)
        return p < 0 ? nil : tensors[p]
    }

    /// True when value `id` is a constant (without copying its tensor out).
    func contains(_ id: Int) -> Bool { position(id) >= 0 }

    /// True when value `id` is a float32 constant whose bytes hold its shape's elements.
    func isFloat32(_ id: Int) -> Bool {
        let p = position(id)
        guard p >= 0, tensors[p].elementType == .float32, case .bytes(let data) = tensors[p].storage else { return false }
        return data.count == tensors[p].elementCount * 4
    }

    /// The shape of constant `id`.
    func shape(_ id: Int) -> [Int]? {
        let p = position(id)
        return p < 0 ? nil : tensors[p].shape
    }

    /// The element type of constant `id`.
    func elementType(_ id: Int) -> ElementType? {
        let p = position(id)
        return p < 0 ? nil : tensors[p].elementType
    }

    mutating func add(_ tensor: Tensor, id: Int) {
        if id >= positions.count { positions += [Int](repeating: -1, count: id + 1 - positions.count) }
        positions[id] = tensors.count
        tensors.append(tensor)
    }

    private func position(_ id: Int) -> Int { id >= 0 && id < positions.count ? positions[id] : -1 }
}
