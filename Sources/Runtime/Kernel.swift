import Graph

/// Executes one node. Built once per node when a session is created (so weights can be prepared
/// then), and run many times.
public protocol Kernel: Sendable {
    /// Computes the node's outputs from its inputs (nil for an absent optional input). Output
    /// arrays come from `context.output(...)`; their memory is uninitialized and may be reused
    /// by later nodes, so a kernel writes every element and keeps no reference after returning.
    /// A kernel never returns one of its inputs (or a view of one): the input's memory may be
    /// reused while the output is still alive.
    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray]
}

/// What a kernel factory knows when it builds the kernel for a node. A context lends the node
/// rather than holding a copy (a copy retained every field of the node, a tenth of a small
/// model's kernel building), so it is valid only during the factory call it is given to: a
/// kernel keeps `context.node` (a copy), never the context. (Not `Sendable`, so no kernel can
/// store one.)
public struct KernelBuildContext {
    /// The node, lent for the factory call.
    public var node: Node { unsafeAddress { lentNode } }
    public let opsetVersion: Int64
    /// The value of each input that is a constant (initializer or Constant node), else nil.
    public let constantInputs: [NDArray?]
    /// Threads the session may use.
    public let threads: Int
    /// Values of the enclosing graph that the node's subgraphs read; the session appends them to
    /// the node's inputs, in this order, after the declared ones.
    public let outerScopeInputs: [String]
    private let lentNode: UnsafePointer<Node>
    /// The copy `lentNode` points into, for a context made from a node value.
    private let ownedNode: OwnedNode?

    /// A context holding its own copy of `node`.
    public init(node: Node, opsetVersion: Int64, constantInputs: [NDArray?], threads: Int, outerScopeInputs: [String] = []) {
        let owned = OwnedNode(node)
        self.init(lending: owned.pointer, owner: owned, opsetVersion: opsetVersion, constantInputs: constantInputs, threads: threads,
                  outerScopeInputs: outerScopeInputs)
    }

    /// A context lending the node at `node`, which must stay in place while the context is in use.
    init(lending node: UnsafePointer<Node>, owner: OwnedNode? = nil, opsetVersion: Int64, constantInputs: [NDArray?], threads: Int,
         outerScopeInputs: [String] = []) {
        lentNode = node
        ownedNode = owner
        self.opsetVersion = opsetVersion
        self.constantInputs = constantInputs
        self.threads = threads
        self.outerScopeInputs = outerScopeInputs
    }

    /// A node copied to memory of its own, for a context made from a node value.
    final class OwnedNode {
        let pointer: UnsafeMutablePointer<Node>

        init(_ node: Node) {
            pointer = .allocate(capacity: 1)
            pointer.initialize(to: node)
        }

        deinit {
            pointer.deinitialize(count: 1)
            pointer.deallocate()
        }
    }

    /// Constant input `i`, when present.
    public func constant(_ i: Int) -> NDArray? { i < constantInputs.count ? constantInputs[i] : nil }

    /// The node's integer attribute `name`, read in place (a method called on `node` copies the
    /// node first, since it lies in memory the call could change).
    public func int(_ name: String) -> Int64? {
        guard case .int(let value) = lentNode.pointee.attributes.first(where: { $0.name == name })?.value else { return nil }
        return value
    }

    /// The node's integer attribute `name`, or `fallback` when it has none.
    public func int(_ name: String, default fallback: Int64) -> Int64 { int(name) ?? fallback }

    /// An error about this node's attributes or inputs.
    public func invalid(_ message: String) -> RuntimeError { .nodeFailed(node: node.displayName, message) }
}

/// Builds the kernel for a node.
public typealias KernelFactory = @Sendable (KernelBuildContext) throws -> any Kernel

/// What a running kernel gets from the session: memory for its outputs, and threads.
public struct KernelContext: @unchecked Sendable {
    /// Planned arena slots for this node's outputs (nil: allocate on the heap).
    let slots: [ArenaSlot?]
    let arena: Buffer?
    public let threads: Int
    public let node: Node

    /// Memory for output `index` with the given type and shape: the planned arena slot when it is
    /// large enough, else a fresh allocation. Contents are uninitialized.
    public func output(_ index: Int, _ type: ElementType, _ shape: [Int]) -> NDArray {
        let bytes = type.byteCount(forElements: shape.reduce(1, *)) ?? 0
        if index < slots.count, let slot = slots[index], let arena, slot.byteCount >= bytes {
            return NDArray(type, shape: shape, buffer: Buffer(borrowing: arena.pointer + slot.offset, byteCount: bytes, owner: arena))
        }
        // Kernels write every element, so fresh output memory needs no clearing.
        return NDArray(type, shape: shape, buffer: Buffer(uninitializedByteCount: bytes))
    }

    /// An error about this node.
    public func failure(_ message: String) -> RuntimeError { .nodeFailed(node: node.displayName, message) }
}

/// A region of the session's activation arena.
struct ArenaSlot: Sendable, Hashable {
    var offset: Int
    var byteCount: Int
}
