import Graph

/// Runs single nodes on constant inputs, outside any session: what constant folding needs.
public enum NodeEvaluator {
    /// True when the runtime has a kernel for `node` and the node can run on its own (it holds
    /// no subgraph, whose reads of an enclosing graph a single node cannot see).
    public static func canEvaluate(_ node: Node) -> Bool {
        !node.hasSubgraphs && KernelRegistry.factory(for: node) != nil
    }

    /// Computes `node`'s outputs from `inputs` (nil for an absent optional input), named after the
    /// node's outputs; an empty output name gives an unnamed tensor.
    /// - Throws: `RuntimeError` naming the node when it has no kernel, an input has an element type
    ///   the runtime cannot hold, or the kernel rejects its inputs.
    public static func evaluate(_ node: Node, inputs: [Tensor?], opsetVersion: Int64, threads: Int = 1) throws -> [Tensor] {
        guard canEvaluate(node), let factory = KernelRegistry.factory(for: node) else {
            throw RuntimeError.unsupported("no stand-alone kernel for \(node.displayName)")
        }
        let arrays = try inputs.map { try $0.map { tensor throws(RuntimeError) in try NDArray(tensor) } }
        let kernel = try factory(KernelBuildContext(node: node, opsetVersion: opsetVersion, constantInputs: arrays, threads: threads))
        let context = KernelContext(slots: [], arena: nil, threads: threads, node: node)
        let results: [NDArray]
        do {
            results = try kernel.run(arrays, context)
        } catch let error as RuntimeError {
            throw error
        } catch {
            throw RuntimeError.nodeFailed(node: node.displayName, "\(error)")
        }
        guard results.count >= node.outputs.filter({ !$0.isEmpty }).count || results.count == node.outputs.count else {
            throw RuntimeError.nodeFailed(node: node.displayName, "kernel produced \(results.count) outputs, node has \(node.outputs.count)")
        }
        return zip(node.outputs, results).map { name, array in array.tensor(name: name) }
    }
}
