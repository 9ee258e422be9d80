import ArgumentParser
import Foundation
import Formats
import Graph
import Passes

/// `convert prune-graph model.onnx --ratio 0.5 --calibration inputs.npz -o pruned.onnx`: channel
/// pruning with reconstruction (docs/pruning.md).
struct PruneGraphCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune-graph",
        abstract: "Remove channels from a conv net and re-fit the next layers on calibration data.",
        discussion: """
            Finds the channel groups (channels that must go together: residual Adds, Concat \
            offsets, depthwise convs, Flatten→Gemm), removes --ratio of each prunable group's \
            channels (or, with --target-macs, as many as it takes where they cost least), and re-fits the layers that read them by least squares so that their \
            outputs stay close to the original's (--method reconstruct; He et al. 2017). Progress \
            goes to stderr, the report to stdout. --dry-run prints the groups without pruning.
            """)

    @Argument(help: "The model to prune (.onnx or .pare).")
    var input: String

    @Option(name: .shortAndLong, help: "Output file: .onnx, or .pare for the mobile format. Written atomically.")
    var output: String?

    @Option(help: "Fraction of each prunable group's channels to remove, in [0, 1). (default: 0.5)")
    var ratio: Double?

    @Option(help: ArgumentHelp("Instead of --ratio: keep this fraction of the model's MACs, in (0, 1), removing channels where the measured reconstruction error rises least per MAC saved.", valueName: "fraction"))
    var targetMacs: Double?

    @Option(help: ArgumentHelp("A different ratio for one group, named by a layer that produces it (repeatable).", valueName: "name=ratio"))
    var ratioFor: [String] = []

    @Option(help: ArgumentHelp("Leave this group whole, named by a layer that produces it (repeatable).", valueName: "name"))
    var skip: [String] = []

    @Option(help: "How to choose channels: reconstruct (drop the channels whose loss the least-squares re-fit compensates best), lasso (He et al. LASSO + least squares), thinet (greedy + least squares), l1 (filter norm, no re-fit).")
    var method: PruneOptions.Method = .reconstruct

    @Option(help: ArgumentHelp("Calibration inputs (.npz): samples stacked on axis 0 under the input names, or for a one-input model one or more arrays of samples.", valueName: "file"))
    var calibration: String?

    @Option(help: ArgumentHelp("Use this many random normal samples instead of data (quick checks only: channels are chosen for noise).", valueName: "N"))
    var randomCalibration: Int?

    @Option(help: ArgumentHelp("Output positions sampled per calibration image and layer (default: 16 rows per weight column of the layer over all images, at least 64 per image).", valueName: "N"))
    var samplesPerImage: Int?

    @Option(help: ArgumentHelp("Calibration samples held out to verify the result (default: one in eight).", valueName: "N"))
    var heldOut: Int?

    @Option(help: "Round kept channel counts up to a multiple of this.")
    var roundTo = 1

    @Option(help: "Seed for sampled positions and random calibration.")
    var seed: UInt64 = 0

    @Option(help: ArgumentHelp("Also write the report as JSON to this file.", valueName: "file"))
    var report: String?

    @Flag(help: "Print the channel groups and why any cannot be pruned; change nothing.")
    var dryRun = false

    @Flag(help: "Print the result as JSON.")
    var json = false

    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        guard dryRun || output != nil else { throw ValidationError("missing the output file: -o pruned.onnx (or --dry-run)") }
        if let ratio, !(ratio >= 0 && ratio < 1) { throw ValidationError("--ratio must be in [0, 1), got \(ratio)") }
        if let targetMacs, !(targetMacs > 0 && targetMacs < 1) {
            throw ValidationError("--target-macs is the fraction of the MACs to keep, in (0, 1), got \(targetMacs)")
        }
        if ratio != nil && targetMacs != nil { throw ValidationError("give --ratio or --target-macs, not both") }
        guard (samplesPerImage ?? 1) >= 1 else { throw ValidationError("--samples-per-image must be at least 1") }
        guard roundTo >= 1 else { throw ValidationError("--round-to must be at least 1") }
        if let randomCalibration, randomCalibration < 1 { throw ValidationError("--random-calibration must be at least 1") }
        if calibration != nil && randomCalibration != nil { throw ValidationError("give --calibration or --random-calibration, not both") }
        _ = try ratioOverrides()
    }

    func ratioOverrides() throws -> [String: Double] {
        var result: [String: Double] = [:]
        for entry in ratioFor {
            guard let equals = entry.lastIndex(of: "="), let value = Double(entry[entry.index(after: equals)...]),
                  value >= 0, value < 1, equals != entry.startIndex else {
                throw ValidationError("--ratio-for takes name=ratio with a ratio in [0, 1), got '\(entry)'")
            }
            result[String(entry[..<equals])] = value
        }
        return result
    }

    func run() throws {
        let model = try ModelInput.load(input)
        if dryRun { return try printGroups(model) }
        var options = PruneOptions(threads: threads.sessionOptions.threads)
        options.method = method
        options.ratio = ratio ?? options.ratio
        options.targetMACs = targetMacs
        options.ratioFor = try ratioOverrides()
        options.skip = skip
        options.roundTo = roundTo
        options.samplesPerImage = samplesPerImage
        options.heldOut = heldOut
        options.seed = seed
        let samples = try calibrationSet(for: model)
        let (pruned, result) = try ChannelPruner.prune(model, calibration: samples, options: options) { Stderr.progress("prune-graph: \(Self.describe($0))") }
        let url = URL(fileURLWithPath: output!)
        if url.pathExtension.lowercased() == "pare" {
            try PareFormat.write(pruned, to: url)
        } else {
            try ONNXFormat.write(pruned, to: url)
        }
        if let report {
            try writeFileAtomically(try JSONOutput.encode(result), to: URL(fileURLWithPath: report))
        }
        if json { return try JSONOutput.print(result) }
        print(Self.describe(result, output: output!))
    }

    private func calibrationSet(for model: Model) throws -> CalibrationSet {
        let inputs = model.graph.runtimeInputs
        if let calibration {
            let tensors = try NPZ.read(contentsOf: URL(fileURLWithPath: calibration))
            return try CalibrationSet.from(tensors, inputs: inputs, source: calibration)
        }
        if method == .l1 && randomCalibration == nil {
            Stderr.note("no --calibration: the L1 criterion needs none, but the result is not verified on data")
            return CalibrationSet(samples: [])
        }
        let count = randomCalibration ?? 16
        Stderr.note("no --calibration: using \(count) random normal samples; channels chosen on noise can differ from those real data would keep. Give --calibration inputs.npz with real inputs.")
        return try CalibrationSet.random(inputs: inputs, count: count, seed: seed)
    }

    private func printGroups(_ model: Model) throws {
        let (_, analysis) = try ChannelPruner.analyze(model)
        if json { return try JSONOutput.print(analysis.groups) }
        let rows = analysis.groups.map { group in
            [String(group.id), String(group.channels), group.producers.joined(separator: ", "),
             group.consumers.isEmpty ? "-" : group.consumers.joined(separator: ", "),
             group.isPrunable ? "yes" : "no: \(group.blockers.joined(separator: "; "))"]
        }
        print(Format.table(["group", "channels", "producers", "consumers", "prunable"], rows))
        let prunable = analysis.groups.filter(\.isPrunable)
        print("\n\(prunable.count) of \(analysis.groups.count) groups prunable, \(prunable.reduce(0) { $0 + $1.channels }) of \(analysis.groups.reduce(0) { $0 + $1.channels }) channels")
    }

    /// A progress line.
    static func describe(_ progress: PruneProgress) -> String {
        switch progress {
        case let .measuringCosts(samples, groups):
            return samples == 0 ? "ranking the channels of \(groups) groups by filter L1 norm for --target-macs"
                : "measuring what removing channels costs in \(groups) groups on \(samples) calibration samples (for --target-macs)"
        case let .recordingTargets(samples, layers):
            return "running the original model on \(samples) calibration samples for \(layers) layers' targets"
        case let .prunedGroup(g, step, steps):
            let error = g.reconstructionError.map { String(format: ", reconstruction error %.4f", $0) } ?? ""
            return "[\(step)/\(steps)] \(g.producers.joined(separator: ", ")): \(g.channelsBefore) → \(g.channelsAfter) channels\(error) (\(Format.seconds(g.seconds)))"
        }
    }

    static func describe(_ r: PruneReport, output: String) -> String {
        var lines: [String] = []
        let changed = r.groups.filter { $0.channelsAfter < $0.channelsBefore }
        lines.append(Format.table(
            ["group", "producers", "channels", "recon. error", "time"],
            changed.map { g in
                [String(g.group), g.producers.joined(separator: ", "), "\(g.channelsBefore) → \(g.channelsAfter)",
                 g.reconstructionError.map { String(format: "%.4f", $0) } ?? "-", Format.seconds(g.seconds)]
            }))
        lines.append("")
        func ratio(_ a: Int, _ b: Int) -> String { b == 0 ? "" : String(format: " (%.2fx smaller)", Double(a) / Double(b)) }
        lines.append("wrote:      \(output)")
        let target = r.targetMACs.map { "target MACs \($0)" } ?? "ratio \(r.ratio)"
        lines.append("method:     \(r.method.rawValue), \(target), \(changed.count) of \(r.groups.count) groups pruned")
        lines.append("parameters: \(r.parametersBefore) → \(r.parametersAfter)\(ratio(r.parametersBefore, r.parametersAfter))")
        lines.append("MACs:       \(r.macsBefore) → \(r.macsAfter)\(ratio(r.macsBefore, r.macsAfter))")
        for v in r.verification {
            var text = "held-out:   '\(v.output)' on \(v.samples) samples: cosine \(String(format: "%.5f", v.cosineSimilarity)) (worst \(String(format: "%.5f", v.worstCosineSimilarity)))"
            if let f1 = v.maskF1, let iou = v.maskIoU { text += String(format: ", mask F1 %.4f, IoU %.4f", f1, iou) }
            lines.append(text)
        }
        let t = r.timings
        lines.append("time:       \(Format.seconds(t.total)) (forward passes \(Format.seconds(t.forwardPasses)), statistics \(Format.seconds(t.statistics)), selection \(Format.seconds(t.selection)), least squares \(Format.seconds(t.leastSquares)))")
        return lines.joined(separator: "\n")
    }
}

extension PruneOptions.Method: ExpressibleByArgument {}
