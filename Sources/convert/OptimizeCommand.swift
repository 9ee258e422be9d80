import ArgumentParser
import Foundation
import Formats
import Graph
import Passes

/// `convert optimize model.onnx -o out.onnx`: freezes and simplifies a model (docs/optimize.md).
struct OptimizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optimize",
        abstract: "Freeze and simplify a model: fold constants, shapes and BatchNorms, remove no-ops and dead nodes.",
        discussion: """
            Runs the standard pipeline (every pass, in the order --list-passes shows) until a \
            round changes nothing, or only the passes given with --passes. The outputs of the \
            optimized model agree with the original's to float rounding; check it with \
            `convert verify model.onnx out.onnx`.
            """)

    @Argument(help: "The model to optimize (.onnx).")
    var input: String?

    @Option(name: .shortAndLong, help: "Output file (.onnx), written atomically.")
    var output: String?

    @Option(help: ArgumentHelp("Run only these passes, in this order (see --list-passes).", valueName: "a,b,c"))
    var passes: String?

    @OptionGroup var shapes: InputShapeOptions

    @Flag(help: "Keep initializers that are listed as graph inputs overridable (no freezing of them).")
    var keepInputs = false

    @Flag(help: "Print what each pass changed.")
    var report = false

    @Flag(help: "Print the result as JSON.")
    var json = false

    @Flag(help: "List the passes and exit.")
    var listPasses = false

    func validate() throws {
        if listPasses { return }
        guard input != nil else { throw ValidationError("missing the model to optimize: convert optimize model.onnx -o out.onnx") }
        guard output != nil else { throw ValidationError("missing the output file: -o out.onnx") }
    }

    struct Summary: Encodable {
        var input: String
        var output: String
        var fileBytesBefore: Int
        var fileBytesAfter: Int
        var report: PipelineReport
    }

    func run() throws {
        if listPasses {
            print(Format.table(["pass", "what it does"], (Pipeline.allPasses + Pipeline.weightStoragePasses).map { [$0.name, $0.summary] }))
            return
        }
        guard let input, let output else { return }
        var model = try ModelInput.load(input)
        let pipeline = try passes.map { try Pipeline.named($0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }) }
            ?? .standard
        let context = PassContext(opsetVersion: model.defaultOpsetVersion, inputShapes: try shapes.shapes(for: model.graph),
                                  keepsInitializerInputs: keepInputs)
        let result = try pipeline.run(on: &model, context: context) { Stderr.progress("optimize: \($0)") }
        try ONNXFormat.write(model, to: URL(fileURLWithPath: output))
        for note in result.passes.flatMap(\.notes) { Stderr.note(note) }
        let summary = Summary(input: input, output: output, fileBytesBefore: Self.fileSize(input), fileBytesAfter: Self.fileSize(output),
                              report: result)
        if json {
            try JSONOutput.print(summary)
            return
        }
        print(Self.describe(summary))
        if report {
            print()
            print(Format.table(
                ["pass", "nodes removed", "nodes added", "constants folded", "rewrites", "bytes saved", "time"],
                result.passes.map {
                    [$0.pass, String($0.nodesRemoved), String($0.nodesAdded), String($0.constantsFolded), String($0.rewrites), Format.bytes($0.bytesSaved),
                     Format.seconds($0.seconds)]
                }))
        }
    }

    static func describe(_ summary: Summary) -> String {
        let r = summary.report
        let ops = Set(r.opsBefore.keys).union(r.opsAfter.keys).sorted()
        let changes = ops.compactMap { op -> String? in
            let delta = (r.opsAfter[op] ?? 0) - (r.opsBefore[op] ?? 0)
            return delta == 0 ? nil : "\(op) \(delta > 0 ? "+" : "")\(delta)"
        }
        let lines: [(String, String)] = [
            ("wrote", "\(summary.output) (\(Format.bytes(summary.fileBytesAfter)), was \(Format.bytes(summary.fileBytesBefore)))"),
            ("nodes", "\(r.nodesBefore) → \(r.nodesAfter) in \(r.rounds) round\(r.rounds == 1 ? "" : "s"), \(Format.seconds(r.seconds))"),
            ("constants", "\(Format.bytes(r.constantBytesBefore)) → \(Format.bytes(r.constantBytesAfter))"),
            ("op changes", changes.isEmpty ? "none" : changes.joined(separator: ", ")),
        ]
        return lines.map { "\($0.0):".padding(toLength: 12, withPad: " ", startingAt: 0) + $0.1 }.joined(separator: "\n")
    }

    static func fileSize(_ path: String) -> Int {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    }
}
