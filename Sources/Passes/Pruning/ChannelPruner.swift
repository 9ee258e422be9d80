import Dispatch
import Graph
import Runtime

/// Channel pruning on the ONNX graph (`convert prune-graph`): finds the channel groups, chooses
/// the channels to keep by the method asked, removes the rest everywhere they appear and, for
/// `reconstruct` and `thinet`, re-fits each consumer's weights by least squares, group by group,
/// with inputs from the already-pruned network and targets from the original.
public enum ChannelPruner {
    /// The exact passes pruning runs first, so that constants are initializers and shape
    /// computations are folded: they change no output value.
    public static var preparation: Pipeline {
        Pipeline([FreezePass(), ShapeFoldingPass(), ConstantFoldingPass(), DeadCodeEliminationPass(), TopologicalSortPass()])
    }

    /// The channel groups of `model` after preparation (what `--dry-run` prints).
    public static func analyze(_ model: Model) throws -> (model: Model, analysis: ChannelAnalysis) {
        var prepared = try model.inliningLocalFunctions()
        _ = try preparation.run(on: &prepared, context: PassContext(opsetVersion: prepared.defaultOpsetVersion))
        return (prepared, try ChannelAnalysis(prepared.graph, opsetVersion: prepared.defaultOpsetVersion))
    }

    /// Prunes `model`. `calibration` feeds the forward passes (unused by `l1`, except to verify);
    /// `progress` hears of each group as it is pruned.
    /// - Throws: `PruneError` for bad options or data; runtime and graph errors as they come.
    public static func prune(_ model: Model, calibration: CalibrationSet, options: PruneOptions,
                             progress: @escaping (PruneProgress) -> Void = { _ in }) throws -> (model: Model, report: PruneReport) {
        let start = DispatchTime.now().uptimeNanoseconds
        guard options.ratio >= 0, options.ratio < 1, options.ratioFor.values.allSatisfy({ $0 >= 0 && $0 < 1 }) else {
            throw PruneError.invalidOptions("ratios must be in [0, 1): removing every channel of a layer would disconnect the network")
        }
        if let target = options.targetMACs, !(target > 0 && target < 1) {
            throw PruneError.invalidOptions("--target-macs must be in (0, 1): the fraction of the model's MACs to keep, got \(target)")
        }
        guard options.roundTo >= 1, (options.samplesPerImage ?? 1) >= 1 else {
            throw PruneError.invalidOptions("--round-to and --samples-per-image must be at least 1")
        }
        var (prepared, analysis) = try analyze(model)
        try checkNames(options, analysis: analysis)

        // Samples: the last ones are held out for verification.
        let total = calibration.samples.count
        let heldOut = min(options.heldOut ?? (total >= 2 ? max(1, total / 8) : 0), max(0, total - 1))
        let fitting = Array(calibration.samples.prefix(total - heldOut))
        let verifying = Array(calibration.samples.suffix(heldOut))
        if options.method != .l1 && fitting.isEmpty {
            throw PruneError.calibration("\(options.method.rawValue) needs calibration samples (give --calibration or --random-calibration)")
        }

        // The plan: every prunable group that loses channels, in the order its consumers run.
        var timings = PruneTimings()
        let before = try Counting.count(prepared)
        let keeps: [Int]
        if let target = options.targetMACs {
            keeps = try budget(target: target, prepared: prepared, analysis: analysis, count: before, samples: fitting,
                               options: options, timings: &timings, progress: progress)
        } else {
            keeps = analysis.groups.map { options.kept(of: $0.channels, ratio: options.ratio(names: $0.names)) }
        }
        let position = Dictionary(uniqueKeysWithValues: try prepared.graph.topologicalOrder().enumerated().map { ($1, $0) })
        var reports: [GroupPruneReport] = []
        var order: [(key: String, keep: Int, rank: Int)] = []
        for group in analysis.groups {
            let keep = keeps[group.id]
            guard group.isPrunable, keep < group.channels else {
                let note = !group.isPrunable ? group.blockers.first
                    : options.targetMACs == nil ? "kept whole (ratio \(options.ratio(names: group.names)))" : "kept whole (cheaper to prune elsewhere)"
                reports.append(GroupPruneReport(group: group.id, producers: group.producers, channelsBefore: group.channels,
                                                channelsAfter: group.channels, reconstructionError: nil, seconds: 0, note: note))
                continue
            }
            let consumers = analysis.consumers(ofGroup: group.id).map { position[$0.node] ?? Int.max }
            order.append((group.producers[0], keep, consumers.min() ?? Int.max))
        }
        let plan = order.sorted { $0.rank < $1.rank }.map { (key: $0.key, keep: $0.keep) }

        var graph = prepared.graph
        let opset = prepared.defaultOpsetVersion
        if options.method == .l1 {
            var kept: [Int: [Int]] = [:]
            for (step, (key, keep)) in plan.enumerated() {
                let group = analysis.groups.first { $0.producers.contains(key) }!
                kept[group.id] = largest(l1Scores(group, analysis: analysis, graph: graph), keep: keep)
                reports.append(GroupPruneReport(group: group.id, producers: group.producers, channelsBefore: group.channels,
                                                channelsAfter: keep, reconstructionError: nil, seconds: 0, note: nil))
                progress(.prunedGroup(reports.last!, step: step + 1, steps: plan.count))
            }
            try ChannelRemoval.apply(kept, analysis: analysis, to: &graph, opsetVersion: opset)
        } else {
            var state = try Reconstruction(original: prepared, samples: fitting, plan: plan, analysis: analysis, options: options,
                                           timings: &timings, progress: progress)
            for (step, (key, keep)) in plan.enumerated() {
                let groupStart = DispatchTime.now().uptimeNanoseconds
                analysis = try ChannelAnalysis(graph, opsetVersion: opset)
                guard let group = analysis.groups.first(where: { $0.producers.contains(key) }) else {
                    throw PruneError.invalidEdit("the group of \(key) disappeared while pruning")
                }
                let error = try state.pruneGroup(group, keep: keep, analysis: analysis, graph: &graph, timings: &timings)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - groupStart) / 1e9
                reports.append(GroupPruneReport(group: group.id, producers: group.producers, channelsBefore: group.channels,
                                                channelsAfter: keep, reconstructionError: error, seconds: seconds, note: nil))
                progress(.prunedGroup(reports.last!, step: step + 1, steps: plan.count))
            }
        }
        var pruned = prepared
        pruned.graph = graph
        _ = try Pipeline([DeadCodeEliminationPass()]).run(on: &pruned, context: PassContext(opsetVersion: opset))

        let after = try Counting.count(pruned)
        let verification = try verify(original: prepared, pruned: pruned, samples: verifying, threads: options.threads)
        timings.total = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let report = PruneReport(
            method: options.method, ratio: options.ratio, targetMACs: options.targetMACs, calibrationSamples: fitting.count, heldOutSamples: verifying.count,
            groups: reports.sorted { $0.group < $1.group }, parametersBefore: before.parameters, parametersAfter: after.parameters,
            macsBefore: before.macs, macsAfter: after.macs, verification: verification, timings: timings)
        return (pruned, report)
    }

    /// Channels kept per group for `--target-macs`: skipped, `--ratio-for` and unprunable groups are
    /// fixed, the others shrink (down to `PruneOptions.minimumKeptFraction`) by `ChannelBudget`.
    private static func budget(target: Double, prepared: Model, analysis: ChannelAnalysis, count: ModelCount,
                               samples: [[String: NDArray]], options: PruneOptions, timings: inout PruneTimings,
                               progress: (PruneProgress) -> Void) throws -> [Int] {
        var fixed: [Int: Int] = [:], floors: [Int: Int] = [:]
        for group in analysis.groups {
            let names = group.names
            if !group.isPrunable {
                fixed[group.id] = group.channels
            } else if let ratio = options.override(names: names) {
                fixed[group.id] = options.kept(of: group.channels, ratio: ratio)
            } else {
                floors[group.id] = max(1, Int((Double(group.channels) * PruneOptions.minimumKeptFraction).rounded(.up)))
            }
        }
        progress(.measuringCosts(samples: options.method == .l1 ? 0 : samples.count, groups: floors.count))
        var curves: [Int: [Double]] = [:]
        if options.method == .l1 {
            for (id, floor) in floors { curves[id] = ErrorCurves.l1(analysis.groups[id], analysis: analysis, graph: prepared.graph, keep: floor) }
        } else {
            curves = try ErrorCurves.reconstruction(prepared, analysis: analysis, keepDownTo: floors, samples: samples,
                                                    options: options, timings: &timings)
        }
        let estimate = try MACEstimate(graph: prepared.graph, nodeCounts: count.nodes, analysis: analysis)
        return try ChannelBudget.allocate(estimate: estimate, target: target * estimate.macs(kept: estimate.channels), fixed: fixed,
                                          curves: curves, roundTo: options.roundTo)
    }

    /// Every name in `--ratio-for` and `--skip` must name a group's producer or value.
    private static func checkNames(_ options: PruneOptions, analysis: ChannelAnalysis) throws(PruneError) {
        let known = analysis.groups.reduce(into: Set<String>()) { $0.formUnion($1.names) }
        for name in Array(options.ratioFor.keys) + options.skip where !known.contains(name) {
            let examples = analysis.groups.filter(\.isPrunable).prefix(5).map { "'\($0.producerNodes[0])'" }.joined(separator: ", ")
            throw .invalidOptions("no channel group has a layer or value named '\(name)' (prunable groups are named by their layers, e.g. \(examples); see --dry-run)")
        }
    }

    /// Σ over producers of each channel's filter L1 norm, each producer scaled by its largest.
    static func l1Scores(_ group: ChannelGroup, analysis: ChannelAnalysis, graph: Graph) -> [Double] {
        var scores = [Double](repeating: 0, count: group.channels)
        for edit in analysis.edits {
            guard case let .slice(node, input, axis, value) = edit, input == 1, graph.nodes[node].outputs.first == value,
                  group.producers.contains(graph.nodes[node].displayName),
                  let weight = graph.initializer(named: graph.nodes[node].inputs[1]), let w = weight.floatValues(),
                  weight.shape[axis] == group.channels else { continue }
            let inner = weight.shape[(axis + 1)...].reduce(1, *), extent = weight.shape[axis]
            var norms = [Double](repeating: 0, count: extent)
            for (i, x) in w.enumerated() { norms[(i / inner) % extent] += Double(abs(x)) }
            let top = norms.max() ?? 0
            for c in 0..<extent { scores[c] += top > 0 ? norms[c] / top : 0 }
        }
        return scores
    }

    /// Runs both models on the held-out samples and compares each output.
    static func verify(original: Model, pruned: Model, samples: [[String: NDArray]], threads: Int) throws -> [PruneVerification] {
        guard !samples.isEmpty else { return [] }
        let reference = try Session(model: original, options: SessionOptions(threads: threads))
        let candidate = try Session(model: pruned, options: SessionOptions(threads: threads))
        var results: [String: (dot: Double, rr: Double, cc: Double, worst: Double, tp: Int, fp: Int, fn: Int, mask: Bool)] = [:]
        for sample in samples {
            let expected = try reference.run(sample), actual = try candidate.run(sample)
            for output in original.graph.outputs {
                guard let r = expected[output.name], let c = actual[output.name] else { continue }
                let comparison = try Compare.arrays(reference: r, candidate: c, name: output.name)
                let rv = try Compare.values(r, name: output.name), cv = try Compare.values(c, name: output.name)
                var entry = results[output.name] ?? (0, 0, 0, 1, 0, 0, 0, true)
                for (a, b) in zip(rv, cv) { entry.dot += a * b; entry.rr += a * a; entry.cc += b * b }
                entry.worst = min(entry.worst, comparison.cosineSimilarity)
                if let mask = comparison.mask {
                    entry.tp += mask.truePositives; entry.fp += mask.falsePositives; entry.fn += mask.falseNegatives
                } else {
                    entry.mask = false
                }
                results[output.name] = entry
            }
        }
        return original.graph.outputs.compactMap { output in
            guard let e = results[output.name] else { return nil }
            let cosine = e.rr > 0 && e.cc > 0 ? e.dot / (e.rr.squareRoot() * e.cc.squareRoot()) : (e.rr == e.cc ? 1 : 0)
            let denominator = 2 * e.tp + e.fp + e.fn
            return PruneVerification(
                output: output.name, samples: samples.count, cosineSimilarity: cosine, worstCosineSimilarity: e.worst,
                maskF1: e.mask ? (denominator == 0 ? 1 : Double(2 * e.tp) / Double(denominator)) : nil,
                maskIoU: e.mask ? (e.tp + e.fp + e.fn == 0 ? 1 : Double(e.tp) / Double(e.tp + e.fp + e.fn)) : nil)
        }
    }
}
