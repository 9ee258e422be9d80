import Graph

/// A model's multiply-accumulates as a function of how many channels each group keeps, for
/// `--target-macs`. MACs come only from dot-product nodes (Conv, ConvTranspose, Gemm, MatMul); each
/// one's count scales with the kept share of its contracted input features (when the analysis
/// made it a consumer of those channels) and with the kept share of its output channels. A
/// depthwise conv contracts one feature per output whatever the channel count, so only its
/// output share counts.
struct MACEstimate {
    /// One dot-product node: its MACs unpruned, and per side the share of features each group holds.
    private struct Term {
        var macs: Double
        var input: [(group: Int, share: Double)]
        var output: [(group: Int, share: Double)]
    }

    private let terms: [Term]
    /// Channels of each group before pruning.
    let channels: [Int]
    /// Terms that involve each group.
    private let termsOfGroup: [[Int]]

    /// From the per-node counts of `Counting.count(model)` (in topological order) on the graph
    /// `analysis` describes.
    init(graph: Graph, nodeCounts: [NodeCount], analysis: ChannelAnalysis) throws {
        let order = try graph.topologicalOrder()
        guard order.count == nodeCounts.count else {
            throw PruneError.invalidEdit("the MAC count covers \(nodeCounts.count) nodes, the graph has \(order.count)")
        }
        channels = analysis.groups.map(\.channels)
        let consumed = Dictionary(analysis.consumers.map { ($0.node, $0.input) }, uniquingKeysWith: { a, _ in a })
        func shares(_ value: String?) -> [(group: Int, share: Double)] {
            guard let value, let layout = analysis.layouts[value], layout.extent > 0 else { return [] }
            var byGroup: [Int: Double] = [:]
            for segment in layout.segments {
                guard let space = segment.space else { continue }
                byGroup[analysis.groupOfSpace[space], default: 0] += Double(segment.extent) / Double(layout.extent)
            }
            return byGroup.sorted { $0.key < $1.key }.map { (group: $0.key, share: $0.value) }
        }
        var terms: [Term] = []
        for (i, count) in zip(order, nodeCounts) {
            guard let macs = count.macs, macs > 0 else { continue }
            let node = graph.nodes[i]
            terms.append(Term(macs: Double(macs), input: shares(consumed[i]), output: shares(node.outputs.first)))
        }
        self.terms = terms
        var termsOfGroup = [[Int]](repeating: [], count: channels.count)
        for (t, term) in terms.enumerated() {
            for g in Set(term.input.map(\.group) + term.output.map(\.group)) { termsOfGroup[g].append(t) }
        }
        self.termsOfGroup = termsOfGroup
    }

    /// Total MACs when group g keeps `kept[g]` channels.
    func macs(kept: [Int]) -> Double {
        terms.reduce(0) { $0 + value($1, kept: kept) }
    }

    /// The MACs saved by group `g` going from `kept[g]` to `newCount` channels.
    func saving(group g: Int, to newCount: Int, kept: [Int]) -> Double {
        var changed = kept
        changed[g] = newCount
        return termsOfGroup[g].reduce(0) { $0 + value(terms[$1], kept: kept) - value(terms[$1], kept: changed) }
    }

    private func value(_ term: Term, kept: [Int]) -> Double {
        func fraction(_ shares: [(group: Int, share: Double)]) -> Double {
            shares.reduce(1) { $0 - $1.share + $1.share * Double(kept[$1.group]) / Double(max(channels[$1.group], 1)) }
        }
        return term.macs * fraction(term.input) * fraction(term.output)
    }
}
