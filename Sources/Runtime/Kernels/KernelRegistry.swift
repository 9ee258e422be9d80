import Graph

/// Finds the kernel factory for a node by op type (default ONNX domain). Each op family keeps its
/// own table next to its kernels; adding an op means one kernel file and one line in its table.
public enum KernelRegistry {
    /// The family tables, in lookup order.
    private static func table(_ family: Int) -> KeyValuePairs<String, KernelFactory> {
        switch family {
        case 0: convolutionKernels
        case 1: elementwiseKernels
        case 2: tensorKernels
        case 3: normalizationKernels
        default: controlFlowKernels
        }
    }
    private static let familyCount = 5

    /// Where each op's factory sits: its family times `stride`, plus its index in that table.
    /// (Positions rather than the factories themselves: a dictionary of function values has a type
    /// of its own for the runtime to build on first use, which a process's first load pays.)
    private static let positions: [String: Int] = {
        var all: [String: Int] = [:]
        all.reserveCapacity((0..<familyCount).reduce(0) { $0 + table($1).count })
        for family in 0..<familyCount {
            for (index, entry) in table(family).enumerated() {
                precondition(all.updateValue(family * stride + index, forKey: entry.key) == nil, "two kernels registered for \(entry.key)")
            }
        }
        return all
    }()
    private static let stride = 1 << 16

    /// The factory for `node`, or nil when the runtime cannot execute it.
    public static func factory(for node: Node) -> KernelFactory? {
        factory(opType: node.opType, isDefaultDomain: node.isDefaultDomain)
    }

    /// The factory for the node at `node` (read in place: handing a node from memory to a
    /// function copies it).
    static func factory(for node: UnsafePointer<Node>) -> KernelFactory? {
        factory(opType: node.pointee.opType, isDefaultDomain: node.pointee.isDefaultDomain)
    }

    private static func factory(opType: String, isDefaultDomain: Bool) -> KernelFactory? {
        guard isDefaultDomain, let position = positions[opType] else { return nil }
        return table(position / stride)[position % stride].value
    }

    /// Op types the runtime executes, sorted.
    public static var supportedOps: [String] { positions.keys.sorted() }
}
