import ArgumentParser
import Foundation
import Formats
import Graph

/// `convert model.onnx --to onnx|mobile -o out`: re-encodes a model in another format.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Convert a model to another format (the default command).")

    enum Target: String, ExpressibleByArgument, CaseIterable {
        case onnx, mobile
    }

    @Argument(help: "The model to convert (.onnx).")
    var input: String

    @Option(name: .customLong("to"), help: "Target format: onnx or mobile.")
    var target: Target

    @Option(name: .shortAndLong, help: "Output file.")
    var output: String?

    func run() throws {
        switch target {
        case .mobile:
            throw CLIError("--to mobile: the mobile format (.pare) is not built yet in this version of Pare; use --to onnx")
        case .onnx:
            guard let output else { throw ValidationError("--to onnx needs an output file: -o out.onnx") }
            let start = Date()
            let model = try ModelInput.load(input)
            try ONNXFormat.write(model, to: URL(fileURLWithPath: output))
            let size = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0
            print("wrote \(output) (\(Format.bytes(size)), \(model.graph.nodes.count) nodes) in \(Format.seconds(Date().timeIntervalSince(start)))")
        }
    }
}
