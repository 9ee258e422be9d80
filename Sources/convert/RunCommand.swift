import ArgumentParser
import Foundation
import Formats
import Graph
import Passes
import Runtime

/// `convert run model.onnx --inputs in.npz --outputs out.npz`: runs a model on the CPU runtime.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a model on inputs from an .npz file (or random ones); save or summarize its outputs.",
        discussion: """
            Inputs are fed by name from --inputs (np.savez's format), or --random-inputs fills every \
            input with standard-normal values; a dynamic leading (batch) dim is then 1 unless \
            --input-shape says otherwise. With --outputs the outputs are written to an .npz file that \
            np.load reads; without it each output's type, shape, min, max and mean are printed.
            --repeat N runs the model once to warm up, then N times, and prints on stderr:
              load: 4.56 ms (open to ready to run)
              latency: min 12.34 ms, median 13.45 ms over N runs
            --reload N also loads the model N more times in this process, once the runs are done             and their session released (so peak memory stays one model's), and prints:
              reload: median 1.23 ms over N more loads in this process
            --profile times every node (over the --repeat runs, else one run after the warm-up) and \
            prints the time per op and the slowest nodes; fused nodes show as "Conv+Relu".
            """)

    @Argument(help: "The model to run (.onnx or .pare).")
    var model: String

    @OptionGroup var data: InputDataOptions

    @Option(help: ArgumentHelp("Write the outputs to this .npz file.", valueName: "outputs.npz"))
    var outputs: String?

    @OptionGroup var threading: ThreadOptions

    @Option(name: .customLong("repeat"), help: ArgumentHelp(
        "Time N runs after one warm-up run; the latency line goes to stderr.", valueName: "N"))
    var repeatCount: Int?

    @Option(name: .customLong("reload"), help: ArgumentHelp(
        "Also time N more loads of the model in this process (warm: libraries and page cache are).", valueName: "N"))
    var reloadCount: Int?

    @Flag(help: "Time every node and print the time per op and the slowest nodes.")
    var profile = false

    @Flag(name: .customLong("defer-checksums"), help: ArgumentHelp(
        "For a .pare file: check the weight blobs' checksums after the run instead of at load, as an app that loads in O(graph) time does (a corrupt file still fails)."))
    var deferChecksums = false

    @Flag(help: "Print the summary as JSON.")
    var json = false

    func validate() throws {
        if let repeatCount, repeatCount < 1 { throw ValidationError("--repeat must be at least 1") }
        if let reloadCount, reloadCount < 1 { throw ValidationError("--reload must be at least 1") }
    }

    struct Latency: Encodable {
        var runs: Int
        var minMs: Double
        var medianMs: Double
    }

    struct Summary: Encodable {
        var model: String
        var inputs: [ArrayStatistics]
        var outputs: [ArrayStatistics]
        var outputsFile: String?
        var threads: Int
        /// Milliseconds from opening the file to a session ready to run.
        var loadMs: Double
        /// With --reload N: the median time of N further loads in the same process.
        var reloadMs: Double?
        var latency: Latency?
        var profile: RunProfile?
    }

    func run() throws {
        var summary = try runModel()
        if let reloadCount {
            // Loads after the first are warm: the process, its libraries and the page cache are.
            // The first session is gone by now, so the peak memory stays one model's.
            var reloads: [Double] = []
            for _ in 0..<reloadCount { reloads.append(try openSession().milliseconds) }
            let median = Self.minimumAndMedian(reloads).median
            summary.reloadMs = median
            FileHandle.standardError.write(Data(String(format: "reload: median %.2f ms over %d more loads in this process\n",
                                                       median, reloadCount).utf8))
        }
        if json {
            try JSONOutput.print(summary)
            return
        }
        if let runProfile = summary.profile { print(runProfile.text() + "\n") }
        if let outputs {
            let size = (try? FileManager.default.attributesOfItem(atPath: outputs)[.size] as? Int) ?? 0
            let list = summary.outputs.map { "\($0.name) \(Format.type($0.elementType, $0.shape))" }.joined(separator: ", ")
            print("wrote \(outputs) (\(Format.bytes(size))): \(list)")
            return
        }
        print(Format.table(
            ["output", "type", "min", "max", "mean"],
            summary.outputs.map { stats in
                [stats.name, Format.type(stats.elementType, stats.shape),
                 stats.min.map(Format.value) ?? "-", stats.max.map(Format.value) ?? "-", stats.mean.map(Format.value) ?? "-"]
            }))
        for stats in summary.outputs where stats.nonFinite > 0 {
            Stderr.note("output '\(stats.name)' has \(stats.nonFinite) NaN or infinite elements (left out of min/max/mean)")
        }
    }

    /// Loads the model, runs it (and the --repeat runs), writes --outputs, and summarizes; the
    /// session lives only as long as this call.
    private func runModel() throws -> Summary {
        let (session, pareFile, loadMs) = try openSession()
        let feeds = try data.feeds(for: session.model.graph)
        var results = try session.run(feeds)
        var latency: Latency?
        var nodeTimings: [[NodeTiming]] = []
        func timedRun() throws -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            if profile {
                let profiled = try session.profile(feeds)
                results = profiled.outputs
                nodeTimings.append(profiled.timings)
            } else {
                results = try session.run(feeds)
            }
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        }
        if let repeatCount {
            var times: [Double] = []
            for _ in 0..<repeatCount { times.append(try timedRun()) }
            let (minimum, median) = Self.minimumAndMedian(times)
            latency = Latency(runs: repeatCount, minMs: minimum, medianMs: median)
            FileHandle.standardError.write(Data(String(
                format: "load: %.2f ms (open to ready to run)\nlatency: min %.2f ms, median %.2f ms over %d runs\n",
                loadMs, minimum, median, repeatCount).utf8))
        }
        if profile && repeatCount == nil { _ = try timedRun() }
        try pareFile?.verifyTensorData()
        let names = session.outputs.map(\.name)
        if let outputs {
            let tensors = names.compactMap { name in results[name].map { $0.tensor(name: name) } }
            try NPZ.write(tensors, to: URL(fileURLWithPath: outputs))
        }
        return Summary(
            model: model,
            inputs: session.inputs.compactMap { value in feeds[value.name].map { Compare.statistics($0, name: value.name) } },
            outputs: names.compactMap { name in results[name].map { Compare.statistics($0, name: name) } },
            outputsFile: outputs, threads: session.options.threads, loadMs: loadMs, reloadMs: nil, latency: latency,
            profile: profile ? RunProfile(nodeTimings) : nil)
    }

    private func openSession() throws -> (session: Session, pare: PareFile?, milliseconds: Double) {
        // The command line is read before the clock starts: its property wrappers cost a
        // microsecond or two, which is not the model's load.
        let (path, readOptions, sessionOptions) = (model, PareReadOptions(verifiesTensorData: !deferChecksums), threading.sessionOptions)
        let start = DispatchTime.now().uptimeNanoseconds
        let (session, pare) = try ModelInput.loadFile(path, options: readOptions) { model, pare in
            try Session(model: model, numbering: pare?.numbering, options: sessionOptions)
        }
        return (session, pare, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
    }

    /// The smallest value and the median (the mean of the middle two for an even count).
    static func minimumAndMedian(_ values: [Double]) -> (minimum: Double, median: Double) {
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return (sorted[0], sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2)
    }
}
