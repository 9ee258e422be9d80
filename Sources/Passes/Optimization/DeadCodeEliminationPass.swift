import Graph

/// `eliminate-dead`: removes nodes of the default domain whose outputs nothing needs (no reader,
/// not a graph output, not read inside a subgraph), then initializers and type annotations of
/// values that no longer exist. Nodes of custom domains stay: Pare cannot know they are pure.
/// Graph inputs stay too, so the model's interface never changes.
public struct DeadCodeEliminationPass: Pass {
    public let name = "eliminate-dead"
    public let summary = "nodes nobody reads, unused initializers and stale value_info are removed"

    public init() {}

    public func run(on graph: inout Graph, context: PassContext) throws -> PassReport {
        var report = PassReport(pass: name)
        var live = Set(graph.outputs.map(\.name))
        var keep = [Bool](repeating: false, count: graph.nodes.count)
        for i in try graph.topologicalOrder().reversed() {
            let node = graph.nodes[i]
            guard !node.isDefaultDomain || node.outputs.contains(where: { !$0.isEmpty && live.contains($0) }) else { continue }
            keep[i] = true
            live.formUnion(node.inputs.filter { !$0.isEmpty })
            live.formUnion(node.subgraphs.flatMap { $0.outerScopeReads() })
        }
        report.rewrites += keep.filter { !$0 }.count
        graph.nodes = graph.nodes.indices.filter { keep[$0] }.map { graph.nodes[$0] }
        let inputs = Set(graph.inputs.map(\.name))
        let initializerCount = graph.initializers.count + graph.sparseInitializers.count
        graph.initializers.removeAll { !live.contains($0.name) && !inputs.contains($0.name) }
        graph.sparseInitializers.removeAll { !live.contains($0.name) && !inputs.contains($0.name) }
        report.rewrites += initializerCount - graph.initializers.count - graph.sparseInitializers.count
        var defined = inputs.union(graph.initializers.map(\.name))
        for node in graph.nodes { defined.formUnion(node.outputs) }
        graph.valueInfo.removeAll { !defined.contains($0.name) }
        return report
    }
}
