import ArgumentParser
import Foundation
import Formats
import Graph
import Passes
import Runtime

/// `convert model.onnx --to mobile`: freeze and simplify, store weights, write, verify.
struct MobileExport {
    let command: ExportCommand

    /// How weights are stored, and how closely the converted model must then match the source.
    enum Storage: String, Encodable {
        case float32, float16, int8

        /// The pass that rewrites weights into this storage (none for float32).
        var passName: String? {
            switch self {
            case .float32: nil
            case .float16: "fp16-weights"
            case .int8: "int8-weights"
            }
        }

        /// float32 only reorders arithmetic (BatchNorm folding); lossy storage is judged against
        /// each output's range (docs/mobile-format.md, "Verification after conversion").
        var tolerance: Tolerance {
            switch self {
            case .float32: Tolerance(relative: 1e-4, absolute: 1e-5, ofRange: 1e-5)
            case .float16: Tolerance(relative: 1e-2, absolute: 0, ofRange: 1e-2)
            case .int8: Tolerance(relative: 5e-2, absolute: 0, ofRange: 5e-2)
            }
        }
    }

    struct Summary: Encodable {
        var input: String
        var output: String
        var storage: Storage
        var compression: String
        var sourceBytes: Int
        var fileBytes: Int
        var sourceSHA256: String
        var nodesBefore: Int
        var nodes: Int
        var opHistogram: [String: Int]
        var parameters: Int
        var macs: Int
        var countedInputShapes: [String: [Int]]
        var seconds: Double
        var stageSeconds: [String: Double]
        var verification: ComparisonReport?
        var passed: Bool
    }

    func run() throws {
        let input = command.input, output = command.mobileOutput
        guard URL(fileURLWithPath: input).standardizedFileURL != URL(fileURLWithPath: output).standardizedFileURL else {
            throw CLIError("\(output): the output would overwrite the input; give another -o")
        }
        let storage: Storage = command.fp16 ? .float16 : command.int8Weights ? .int8 : .float32
        let start = DispatchTime.now().uptimeNanoseconds
        var stages: [String: Double] = [:]
        func lap(_ stage: String, since: UInt64) -> UInt64 {
            let now = DispatchTime.now().uptimeNanoseconds
            stages[stage] = Double(now - since) / 1e9
            return now
        }

        // The digest runs beside loading and optimizing: it reads the whole source once more.
        let digest = SourceDigest(path: input)
        let source = try ModelInput.load(input)
        var mark = lap("load", since: start)
        var model = try source.inliningLocalFunctions()
        let shapes = try command.data.shapes.shapes(for: model.graph)
        let context = PassContext(opsetVersion: model.defaultOpsetVersion, inputShapes: shapes)
        let report = try Pipeline.standard.run(on: &model, context: context) { Stderr.progress("optimize: \($0)") }
        var notes = report.passes.flatMap(\.notes)
        if let name = storage.passName {
            let stored = try Pipeline.named([name]).run(on: &model, context: context)
            notes += stored.passes.flatMap(\.notes)
            Stderr.progress("storage: \(storage.rawValue) weights, \(stored.passes.map(\.nodesAdded).reduce(0, +)) dequantizing nodes added")
        }
        for note in notes { Stderr.note(note) }
        mark = lap("optimize", since: mark)

        let sha = try digest.wait()
        let options = PareWriteOptions(
            compression: command.compress == .zstd ? .zstd(level: 9) : .none, sourceSHA256: sha,
            preprocessing: try command.preprocessing())
        try PareFormat.write(model, to: URL(fileURLWithPath: output), options: options)
        mark = lap("write", since: mark)
        Stderr.progress("wrote \(output)")

        var verification: ComparisonReport?
        if !command.noVerify {
            Stderr.progress("verify: running \(input) and \(output) on the same inputs")
            let written = try PareFormat.read(contentsOf: URL(fileURLWithPath: output)).model
            let feeds = try command.data.feeds(for: source.graph, randomByDefault: true)
            verification = try Verification.run(reference: source, candidate: written, inputs: feeds,
                                                tolerance: storage.tolerance, options: command.threading.sessionOptions)
            mark = lap("verify", since: mark)
        }

        let counts = try? Counting.count(model, inputShapes: shapes)
        var histogram: [String: Int] = [:]
        for node in model.graph.nodes { histogram[node.isDefaultDomain ? node.opType : "\(node.domain).\(node.opType)", default: 0] += 1 }
        let summary = Summary(
            input: input, output: output, storage: storage, compression: command.compress?.rawValue ?? "none",
            sourceBytes: OptimizeCommand.fileSize(input), fileBytes: OptimizeCommand.fileSize(output), sourceSHA256: sha,
            nodesBefore: report.nodesBefore, nodes: model.graph.nodes.count, opHistogram: histogram,
            parameters: counts?.parameters ?? Counting.constantTotals(model.graph).parameters, macs: counts?.macs ?? 0,
            countedInputShapes: counts?.inputShapes ?? [:],
            seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, stageSeconds: stages,
            verification: verification, passed: verification?.passed ?? true)
        if command.json {
            try JSONOutput.print(summary)
        } else {
            print(Self.describe(summary))
        }
        if let verification, !verification.passed {
            for failing in verification.failing {
                FileHandle.standardError.write(Data("verify: output '\(failing.name)' differs: \(VerifyCommand.describeFailure(failing))\n".utf8))
            }
            FileHandle.standardError.write(Data("verify: FAILED; \(output) is kept for inspection\n".utf8))
            throw VerifyCommand.mismatch
        }
    }

    static func describe(_ s: Summary) -> String {
        let ops = s.opHistogram.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "\($0.key) \($0.value)" }
        let ratio = s.sourceBytes > 0 ? String(format: "%.2f×", Double(s.fileBytes) / Double(s.sourceBytes)) : "-"
        let shapes = s.countedInputShapes.sorted { $0.key < $1.key }.map { "\($0.key) \(formatShape($0.value))" }.joined(separator: ", ")
        let stageOrder = ["load", "optimize", "write", "verify"]
        var lines: [(String, String)] = [
            ("wrote", "\(s.output) (\(Format.bytes(s.fileBytes)); source \(s.input) \(Format.bytes(s.sourceBytes)), \(ratio))"),
            ("storage", "\(s.storage.rawValue) weights, compression \(s.compression)"),
            ("ops", "\(s.nodes) nodes (was \(s.nodesBefore)): \(ops.prefix(8).joined(separator: ", "))\(ops.count > 8 ? ", …" : "")"),
            ("parameters", "\(Format.count(s.parameters)) (\(Format.grouped(s.parameters)))"),
            ("MACs", s.macs > 0 ? "\(Format.count(s.macs)) at \(shapes)" : "unknown (give --input-shape)"),
            ("time", Format.seconds(s.seconds) + " (" + stageOrder.compactMap { stage in
                s.stageSeconds[stage].map { "\(stage) \(Format.seconds($0))" } }.joined(separator: ", ") + ")"),
        ]
        if let v = s.verification {
            let worst = v.outputs.map { o -> String in
                var text = "'\(o.name)' max abs err \(String(format: "%.3g", o.maxAbsoluteError)), cosine \(String(format: "%.6f", o.cosineSimilarity))"
                if let mask = o.mask { text += ", mask F1 \(String(format: "%.4f", mask.f1))" }
                return text
            }
            lines.append(("verify", (v.passed ? "PASS: " : "FAIL: ") + worst.joined(separator: "; ")))
        } else {
            lines.append(("verify", "skipped (--no-verify)"))
        }
        return lines.map { "\($0.0):".padding(toLength: 12, withPad: " ", startingAt: 0) + $0.1 }.joined(separator: "\n")
    }
}

/// The SHA-256 of a file, computed on a background thread.
final class SourceDigest: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<String, CLIError> = .failure(CLIError("digest not computed"))

    init(path: String) {
        DispatchQueue.global().async { [self] in
            if let handle = FileHandle(forReadingAtPath: path) {
                var hasher = SHA256()
                while let chunk = try? handle.read(upToCount: 1 << 22), !chunk.isEmpty {
                    chunk.withUnsafeBytes { hasher.update($0) }
                }
                try? handle.close()
                result = .success(hasher.finalize().map { String(format: "%02x", $0) }.joined())
            } else {
                result = .failure(CLIError("\(path): cannot read to compute its SHA-256"))
            }
            done.signal()
        }
    }

    func wait() throws -> String {
        done.wait()
        return try result.get()
    }
}
