import Graph

/// Finds the kernel factory for a node by op type (default ONNX domain). Each op family keeps its
/// own table next to its kernels; adding an op means one kernel file and one line in its table.
public enum KernelRegistry {
    static let factories: [String: KernelFactory] = {
        var all: [String: KernelFactory] = [:]
        for table in [convolutionKernels, elementwiseKernels, tensorKernels, normalizationKernels, controlFlowKernels] {
            all.merge(table) { first, _ in first }
        }
        return all
    }()

    /// The factory for `node`, or nil when the runtime cannot execute it.
    public static func factory(for node: Node) -> KernelFactory? {
        node.isDefaultDomain ? factories[node.opType] : nil
    }

    /// Op types the runtime executes, sorted.
    public static var supportedOps: [String] { factories.keys.sorted() }
}
