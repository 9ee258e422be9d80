import ArgumentParser
import Foundation
import Graph
import Passes
import Runtime

/// `convert verify original.onnx converted.onnx`: runs both models on the same inputs and says
/// whether every output agrees within tolerance. Exit status 0 = pass, 1 = mismatch, 2 = error.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check that a converted model computes what the original computes.",
        discussion: """
            Both models run on the CPU runtime on the same inputs (--inputs, or random standard-normal \
            ones, seed 0 unless --seed says otherwise). Per output it reports max absolute and \
            relative error, cosine similarity, SNR in dB and, for single-channel probability maps, \
            pixel F1 and IoU of the masks thresholded at 0.5.
            An output passes when every element satisfies |candidate - reference| <= atol + rtol * \
            |reference| (numpy.allclose(candidate, reference, rtol, atol); NaN never passes).
            Exit status: 0 when every output passes, 1 when some output does not (named on stderr), \
            2 for any other error (unreadable file, models whose outputs differ in names or shapes); \
            64 for command-line mistakes.
            """)

    @Argument(help: "The reference model (the original).")
    var reference: String

    @Argument(help: "The model to check against it (the converted one).")
    var candidate: String

    @OptionGroup var data: InputDataOptions

    @Option(help: "Relative tolerance (numpy.allclose's rtol).")
    var rtol: Double = 1e-4

    @Option(help: "Absolute tolerance (numpy.allclose's atol).")
    var atol: Double = 1e-5

    @OptionGroup var threading: ThreadOptions

    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        guard rtol >= 0, atol >= 0, rtol.isFinite, atol.isFinite else {
            throw ValidationError("--rtol and --atol must be finite and not negative")
        }
    }

    /// Exit status for a run that found outputs outside tolerance.
    static let mismatch = ExitCode(1)
    /// Exit status for every other failure, distinct from a mismatch.
    static let failure = ExitCode(2)

    struct Summary: Encodable {
        var reference: String
        var candidate: String
        var inputs: String
        var tolerance: Tolerance
        var outputs: [OutputComparison]
        var passed: Bool
    }

    func run() throws {
        let report: ComparisonReport
        do {
            report = try compare()
        } catch let error as ValidationError {
            throw error
        } catch {
            FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
            throw Self.failure
        }
        if json {
            try JSONOutput.print(Summary(
                reference: reference, candidate: candidate, inputs: data.source, tolerance: report.tolerance,
                outputs: report.outputs, passed: report.passed))
        } else {
            print(Self.table(report, reference: reference, candidate: candidate, inputs: data.source))
        }
        guard report.passed else {
            for output in report.failing {
                FileHandle.standardError.write(Data("verify: output '\(output.name)' differs: \(Self.describeFailure(output))\n".utf8))
            }
            throw Self.mismatch
        }
    }

    /// Loads both models, feeds them the same inputs and compares their outputs.
    func compare() throws -> ComparisonReport {
        let original = try Self.loadModel(reference)
        let converted = try Self.loadModel(candidate)
        let feeds = try data.feeds(for: original.graph, randomByDefault: true)
        return try Verification.run(
            reference: original, candidate: converted, inputs: feeds,
            tolerance: Tolerance(relative: rtol, absolute: atol), options: threading.sessionOptions)
    }

    /// The one place verify turns a path into a model, so other formats plug in here.
    static func loadModel(_ path: String) throws -> Model {
        try ModelInput.load(path)
    }

    static func describeFailure(_ output: OutputComparison) -> String {
        var text = "\(output.mismatches) of \(output.elementCount) elements outside tolerance; max abs error \(Format.value(output.maxAbsoluteError))"
        if let worst = output.worst {
            text += " at [\(worst.index.map(String.init).joined(separator: ", "))] (reference \(Format.value(worst.reference)), candidate \(Format.value(worst.candidate)))"
        }
        return text
    }

    static func table(_ report: ComparisonReport, reference: String, candidate: String, inputs: String) -> String {
        func error(_ x: Double) -> String { x == 0 || !x.isFinite ? Format.value(x) : String(format: "%.3e", x) }
        let header = [
            "reference:  \(reference)",
            "candidate:  \(candidate)",
            "inputs:     \(inputs)",
            "tolerance:  |candidate - reference| <= \(Format.value(report.tolerance.absolute)) + \(Format.value(report.tolerance.relative)) * |reference|",
        ]
        let rows = report.outputs.map { output -> [String] in
            [output.name, Format.type(output.candidateType, output.shape),
             error(output.maxAbsoluteError), error(output.maxRelativeError),
             output.cosineSimilarity.isFinite ? String(format: "%.6f", output.cosineSimilarity) : Format.value(output.cosineSimilarity),
             output.snrDB.isFinite ? String(format: "%.1f", output.snrDB) : Format.value(output.snrDB),
             output.mask.map { String(format: "%.4f", $0.f1) } ?? "-",
             output.mask.map { String(format: "%.4f", $0.iou) } ?? "-",
             "\(output.mismatches)/\(output.elementCount)",
             output.passed ? "pass" : "FAIL"]
        }
        let table = Format.table(
            ["output", "type", "max abs err", "max rel err", "cosine", "SNR dB", "F1", "IoU", "mismatches", "result"], rows)
        let failing = report.failing.count
        let verdict = failing == 0
            ? "PASS: \(report.outputs.count) output\(report.outputs.count == 1 ? "" : "s") within tolerance"
            : "FAIL: \(failing) of \(report.outputs.count) output\(report.outputs.count == 1 ? "" : "s") outside tolerance"
        return (header + ["", table, "", verdict]).joined(separator: "\n")
    }
}
