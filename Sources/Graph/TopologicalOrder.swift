extension Graph {
    /// Node indices in an order where every node comes after the producers of its inputs.
    ///
    /// Stable: nodes already in order keep their relative order. Throws `.cycle` naming the nodes
    /// that could not be ordered.
    public func topologicalOrder() throws(GraphError) -> [Int] {
        if isInDependencyOrder { return Array(nodes.indices) }
        let index = GraphIndex(self)
        var pending = Array(repeating: 0, count: nodes.count)
        for (i, node) in nodes.enumerated() {
            node.forEachDistinctRead { input in
                if index.producer[input] != nil { pending[i] += 1 }
            }
        }
        // A min-heap on the original position keeps the order stable.
        var ready = MinHeap<Int>()
        for i in nodes.indices where pending[i] == 0 { ready.push(i) }
        var order: [Int] = []
        order.reserveCapacity(nodes.count)
        while let i = ready.pop() {
            order.append(i)
            for output in nodes[i].outputs where !output.isEmpty {
                for consumer in index.consumers(of: output) {
                    pending[consumer] -= 1
                    if pending[consumer] == 0 { ready.push(consumer) }
                }
            }
        }
        if order.count < nodes.count {
            let placed = Set(order)
            throw .cycle(nodes.indices.filter { !placed.contains($0) }.map { nodes[$0].displayName })
        }
        return order
    }

    /// True when every node comes after the producers of what it reads (the order writers store):
    /// one pass, so that sorting an already sorted graph, as loading does, costs no more.
    var isInDependencyOrder: Bool {
        var producer: [String: Int] = [:]
        producer.reserveCapacity(nodes.count)
        for i in nodes.indices {
            for output in nodes[i].outputs where !output.isEmpty { producer[output] = i }
        }
        for i in nodes.indices {
            if nodes[i].hasSubgraphs { return false }
            for input in nodes[i].inputs where !input.isEmpty {
                if let p = producer[input], p >= i { return false }
            }
        }
        return true
    }

    /// Reorders `nodes` topologically (stable).
    public mutating func sortTopologically() throws(GraphError) {
        let order = try topologicalOrder()
        nodes = order.map { nodes[$0] }
    }
}

/// A binary min-heap, enough for stable topological sorting.
struct MinHeap<Element: Comparable> {
    private var items: [Element] = []

    mutating func push(_ item: Element) {
        items.append(item)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if items[child] >= items[parent] { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Element? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < items.count && items[left] < items[smallest] { smallest = left }
            if right < items.count && items[right] < items[smallest] { smallest = right }
            if smallest == parent { break }
            items.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}
