/// Each node's value ids (its inputs, or its outputs), kept in one flat array rather than an
/// array per node: loading a model made two arrays per node, a sixth of its heap allocations.
/// Indexed by node, each element a zero-based list of ids (-1 for an absent optional value).
public struct NodeValueIDs: Sendable, RandomAccessCollection, Equatable, ExpressibleByArrayLiteral {
    /// Every node's ids, one run per node. A run replaced by a longer one moves to the end, and
    /// its old place is left unused.
    @usableFromInline var ids: [Int] = []
    /// Node `i`'s run is `ids[spans[2 * i] ..< spans[2 * i + 1]]`.
    @usableFromInline var spans: [Int] = []

    /// No nodes.
    @inlinable public init() {}

    /// One list per node.
    public init(_ lists: [[Int]]) {
        reserveCapacity(nodes: lists.count, ids: lists.reduce(0) { $0 + $1.count })
        for list in lists { appendNode(list) }
    }

    public init(arrayLiteral lists: [Int]...) { self.init(lists) }

    /// Room for `nodes` nodes with `ids` ids in all.
    @inlinable public mutating func reserveCapacity(nodes: Int, ids: Int) {
        spans.reserveCapacity(2 * nodes)
        self.ids.reserveCapacity(ids)
    }

    /// Adds a node whose list is `list`.
    @inlinable public mutating func appendNode(_ list: some Collection<Int> = EmptyCollection()) {
        spans.append(ids.count)
        ids.append(contentsOf: list)
        spans.append(ids.count)
    }

    /// Adds `id` at the end of the last node's list (the last node added is at the end of the
    /// flat array until a list is replaced).
    @inlinable public mutating func appendToLastNode(_ id: Int) {
        precondition(!spans.isEmpty && spans[spans.count - 1] == ids.count, "the last node's list is not at the end")
        ids.append(id)
        spans[spans.count - 1] += 1
    }

    /// Makes `list` node `node`'s list: in place when it fits, else at the end.
    @inlinable public mutating func replace(_ node: Int, with list: some Collection<Int>) {
        let start = spans[2 * node], end = spans[2 * node + 1]
        if list.count <= end - start {
            var position = start
            for id in list {
                ids[position] = id
                position += 1
            }
            spans[2 * node + 1] = position
        } else {
            spans[2 * node] = ids.count
            ids.append(contentsOf: list)
            spans[2 * node + 1] = ids.count
        }
    }

    /// Adds `id` at the end of node `node`'s list.
    @inlinable public mutating func append(_ id: Int, toNode node: Int) {
        if spans[2 * node + 1] == ids.count {
            ids.append(id)
            spans[2 * node + 1] += 1
        } else {
            replace(node, with: Array(self[node]) + [id])
        }
    }

    /// Rewrites each id of node `node`'s list in place.
    @inlinable public mutating func transformIDs(ofNode node: Int, _ transform: (Int) -> Int) {
        for k in spans[2 * node]..<spans[2 * node + 1] { ids[k] = transform(ids[k]) }
    }

    /// True when `other` holds these very arrays (a copy not changed since): a check that costs
    /// nothing, for `ValueNumbering.numbers(_:)`.
    func sharesStorage(with other: NodeValueIDs) -> Bool {
        ValueNumbering.same(ids, other.ids) && ValueNumbering.same(spans, other.spans)
    }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { spans.count / 2 }

    /// Node `node`'s ids.
    @inlinable public subscript(node: Int) -> IDs { IDs(storage: ids, start: spans[2 * node], count: spans[2 * node + 1] - spans[2 * node]) }

    public static func == (a: NodeValueIDs, b: NodeValueIDs) -> Bool {
        a.count == b.count && a.indices.allSatisfy { a[$0].elementsEqual(b[$0]) }
    }

    /// One node's ids, indexed from zero.
    public struct IDs: Sendable, RandomAccessCollection, Equatable, CustomStringConvertible {
        @usableFromInline let storage: [Int]
        @usableFromInline let start: Int
        public let count: Int

        @inlinable init(storage: [Int], start: Int, count: Int) {
            self.storage = storage
            self.start = start
            self.count = count
        }

        @inlinable public var startIndex: Int { 0 }
        @inlinable public var endIndex: Int { count }
        @inlinable public subscript(position: Int) -> Int {
            precondition(position >= 0 && position < count, "id index \(position) out of range 0..<\(count)")
            return storage[start + position]
        }

        public static func == (a: IDs, b: IDs) -> Bool { a.elementsEqual(b) }
        public var description: String { Array(self).description }
    }
}
