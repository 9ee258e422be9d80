import Graph

/// `sort`: puts nodes in topological order, keeping the existing order wherever it is already
/// valid (a stable sort), so diffs of the model stay small.
public struct TopologicalSortPass: Pass {
    public let name = "sort"
    public let summary = "nodes are re-sorted topologically, stably"

    public init() {}

    public func run(on graph: inout Graph, context: PassContext) throws -> PassReport {
        let before = graph.nodes
        try graph.sortTopologically()
        return PassReport(pass: name, rewrites: before == graph.nodes ? 0 : 1)
    }
}
