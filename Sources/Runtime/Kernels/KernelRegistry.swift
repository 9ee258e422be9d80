import Graph

/// Finds the kernel factory for a node by op type (default ONNX domain). Each op family keeps its
/// own table next to its kernels; adding an op means one kernel file and one line in its table.
public enum KernelRegistry {
    static let factories: [String: KernelFactory] = {
        // The family tables are plain pairs, so each op name is hashed once, here, on first use.
        var all: [String: KernelFactory] = [:]
        all.reserveCapacity(convolutionKernels.count + elementwiseKernels.count + tensorKernels.count
            + normalizationKernels.count + controlFlowKernels.count)
        func register(_ table: KeyValuePairs<String, KernelFactory>) {
            for (op, factory) in table {
                precondition(all.updateValue(factory, forKey: op) == nil, "two kernels registered for \(op)")
            }
        }
        register(convolutionKernels)
        register(elementwiseKernels)
        register(tensorKernels)
        register(normalizationKernels)
        register(controlFlowKernels)
        return all
    }()

    /// The factory for `node`, or nil when the runtime cannot execute it.
    public static func factory(for node: Node) -> KernelFactory? {
        node.isDefaultDomain ? factories[node.opType] : nil
    }

    /// Op types the runtime executes, sorted.
    public static var supportedOps: [String] { factories.keys.sorted() }
}
