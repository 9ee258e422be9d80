import Graph

/// A graph transformation: a value with a name and no hidden state, which rewrites a graph in
/// place and says what it changed. Passes never change what the model computes (beyond float
/// rounding where they fold arithmetic into weights), except the lossy weight storage passes
/// (`Pipeline.weightStoragePasses`), which run only when named.
public protocol Pass: Sendable {
    /// The name `--passes` uses, e.g. `fold-constants`.
    var name: String { get }
    /// One line on what the pass does, for `convert optimize --list-passes`.
    var summary: String { get }
    /// Rewrites `graph`. The report's node and byte counts are filled in by `PassReport.measure`;
    /// the pass itself reports its rewrites, folded constants and notes.
    func run(on graph: inout Graph, context: PassContext) throws -> PassReport
}

/// What passes know beyond the graph: the opset and the user's choices.
public struct PassContext: Sendable {
    /// The model's default-domain opset version (`Model.defaultOpsetVersion`).
    public var opsetVersion: Int64
    /// Static shapes for runtime inputs (`--input-shape`), which shape folding bakes into the model.
    public var inputShapes: [String: [Dim]]
    /// Keep initializers that are also graph inputs as inputs a caller may override, so nothing
    /// reads them as constants (`--keep-inputs`).
    public var keepsInitializerInputs: Bool
    /// Constant folding replaces a node only when its outputs take at most this many bytes more
    /// than its inputs, so folding never inflates the model (an Expand or ConstantOfShape of a
    /// large shape stays a node).
    public var foldingSlackBytes: Int

    public init(opsetVersion: Int64, inputShapes: [String: [Dim]] = [:], keepsInitializerInputs: Bool = false,
                foldingSlackBytes: Int = 4096) {
        self.opsetVersion = opsetVersion
        self.inputShapes = inputShapes
        self.keepsInitializerInputs = keepsInitializerInputs
        self.foldingSlackBytes = foldingSlackBytes
    }
}

/// What one pass changed (summed over the rounds of a pipeline).
public struct PassReport: Sendable, Hashable, Codable {
    public var pass: String
    public var nodesRemoved = 0
    public var nodesAdded = 0
    /// Nodes replaced by their computed value.
    public var constantsFolded = 0
    /// Rewrites the pass made (folds, fusions, bypasses, merged duplicates).
    public var rewrites = 0
    /// Constant bytes (initializers and Constant nodes) before minus after; negative when the
    /// pass added constants.
    public var bytesSaved = 0
    /// Time the pass took, summed over rounds.
    public var seconds: Double = 0
    /// Things worth telling the user, e.g. why a candidate was left alone.
    public var notes: [String] = []

    public init(pass: String, constantsFolded: Int = 0, rewrites: Int = 0, notes: [String] = []) {
        self.pass = pass
        self.constantsFolded = constantsFolded
        self.rewrites = rewrites
        self.notes = notes
    }

    /// True when the pass changed the graph.
    public var changed: Bool { nodesRemoved > 0 || nodesAdded > 0 || constantsFolded > 0 || rewrites > 0 || bytesSaved != 0 }

    /// Fills the node and byte counts from the graph's op counts and constant bytes before the
    /// pass (`GraphSize`) and the graph after it, per op type: a node rewritten in place (a conv
    /// that absorbed a BatchNorm) counts as neither removed nor added. Only the figures are
    /// kept, not the graph, so a pass may rewrite weights that nothing else references in place.
    /// The after-figures are returned for the next pass to start from.
    @discardableResult
    mutating func measure(opsBefore old: [String: Int], constantBytesBefore: Int, after: Graph) -> (ops: [String: Int], constantBytes: Int) {
        let new = GraphSize.opCounts(after), bytes = GraphSize.constantBytes(after)
        nodesRemoved = old.reduce(0) { $0 + max(0, $1.value - (new[$1.key] ?? 0)) }
        nodesAdded = new.reduce(0) { $0 + max(0, $1.value - (old[$1.key] ?? 0)) }
        bytesSaved = constantBytesBefore - bytes
        return (new, bytes)
    }

    /// Adds another report of the same pass (a later round).
    public mutating func accumulate(_ other: PassReport) {
        nodesRemoved += other.nodesRemoved
        nodesAdded += other.nodesAdded
        constantsFolded += other.constantsFolded
        rewrites += other.rewrites
        bytesSaved += other.bytesSaved
        seconds += other.seconds
        notes += other.notes.filter { !notes.contains($0) }
    }
}

/// Sizes of a graph's parts, for reports.
public enum GraphSize {
    /// Bytes of constants: initializers, sparse initializers and Constant node values.
    public static func constantBytes(_ graph: Graph) -> Int {
        var total = graph.initializers.reduce(0) { $0 + $1.byteCount }
        total += graph.sparseInitializers.reduce(0) { $0 + $1.values.byteCount + $1.indices.byteCount }
        for node in graph.nodes where node.opType == "Constant" && node.isDefaultDomain {
            total += node.tensor("value")?.byteCount ?? 0
        }
        return total
    }

    /// Node counts by op type (custom domains as `domain.OpType`).
    public static func opCounts(_ graph: Graph) -> [String: Int] {
        var counts: [String: Int] = [:]
        for node in graph.nodes { counts[node.isDefaultDomain ? node.opType : "\(node.domain).\(node.opType)", default: 0] += 1 }
        return counts
    }
}
