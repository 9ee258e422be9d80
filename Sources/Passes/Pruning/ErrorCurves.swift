import Dispatch
import Graph
import Runtime

/// For `--target-macs`: what removing channels from each group costs, as a curve over the number
/// removed, measured once on the original network before anything is pruned.
enum ErrorCurves {
    /// `costs[m]`: the cost after m + 1 removals of the lowest-scoring channels, each channel's
    /// filter L1 score as a share of the group's total (what `l1` removes).
    static func l1(_ group: ChannelGroup, analysis: ChannelAnalysis, graph: Graph, keep: Int) -> [Double] {
        let scores = ChannelPruner.l1Scores(group, analysis: analysis, graph: graph)
        let total = max(scores.reduce(0, +), .leastNonzeroMagnitude)
        var sum = 0.0
        return scores.sorted().prefix(group.channels - keep).map { sum += $0 / total; return sum }
    }

    /// Greedy-elimination curves (`ChannelElimination`) of each group in `keepDownTo` (group id →
    /// fewest channels), from consumer statistics of the original network on `samples`; groups
    /// whose consumers cannot be re-fitted get `l1` curves.
    static func reconstruction(_ model: Model, analysis: ChannelAnalysis, keepDownTo: [Int: Int], samples: [[String: NDArray]],
                               options: PruneOptions, timings: inout PruneTimings) throws -> [Int: [Double]] {
        let graph = model.graph
        var start = DispatchTime.now().uptimeNanoseconds
        let consumers = Array(Set(keepDownTo.keys.flatMap { analysis.consumers(ofGroup: $0) })).sorted { $0.node < $1.node }
        var layers: [Int: ConsumerLayer] = [:]
        for consumer in consumers { layers[consumer.node] = ConsumerLayer(consumer, graph: graph) }
        var statistics = layers.mapValues { LayerStatistics(layer: $0) }
        let names = Set(consumers.filter { layers[$0.node] != nil }.flatMap { [$0.input, graph.nodes[$0.node].outputs[0]] })
        if !names.isEmpty {
            let session = try Reconstruction.session(model, graph: graph, outputs: names.sorted(), threads: options.threads)
            for (s, sample) in samples.enumerated() {
                let values = try session.run(sample)
                BLAS.setThreads(options.threads)  // the session left BLAS single-threaded
                for consumer in consumers {
                    guard let layer = layers[consumer.node], let input = values[consumer.input],
                          let output = values[layer.node.outputs[0]] else { continue }
                    let positions = Reconstruction.sampledPositions(layer, outputShape: output.shape, sample: s, images: samples.count,
                                                                    options: options)
                    statistics[consumer.node]!.add(inputRows: try layer.inputRows(input, outputShape: output.shape, positions: positions),
                                                   outputRows: layer.outputRows(output, positions: positions), rows: positions.count)
                }
            }
        }
        timings.forwardPasses += seconds(since: start)

        start = DispatchTime.now().uptimeNanoseconds
        var curves: [Int: [Double]] = [:]
        let groupOf: (Int) -> Int = { analysis.groupOfSpace[$0] }
        for (id, keep) in keepDownTo.sorted(by: { $0.key < $1.key }) {
            let group = analysis.groups[id]
            let own = analysis.consumers(ofGroup: id)
            let fits = own.compactMap { statistics[$0.node].map(LayerFit.init) }
            let channelInputs = own.map { analysis.layouts[$0.input]!.features(ofGroup: id, channels: group.channels, group: groupOf) }
            if !own.isEmpty, fits.count == own.count, var elimination = ChannelElimination(fits: fits, channelInputs: channelInputs) {
                curves[id] = elimination.eliminate(channels: group.channels, keep: keep).costs
            } else {
                curves[id] = l1(group, analysis: analysis, graph: graph, keep: keep)
            }
        }
        timings.selection += seconds(since: start)
        return curves
    }

    private static func seconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
}
