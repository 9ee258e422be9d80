import ArgumentParser
import Foundation
import Formats
import Graph

/// Loads the model file a command names, with errors that name the file.
enum ModelInput {
    static func load(_ path: String) throws -> Model {
        let url = URL(fileURLWithPath: path)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw CLIError("\(path): no such file")
        }
        return try ONNXFormat.read(contentsOf: url)
    }
}

/// `--input-shape name=1x3x320x480` (repeatable), or `1x3x320x480` for a model with one input.
struct InputShapeOptions: ParsableArguments {
    @Option(
        name: .customLong("input-shape"),
        help: ArgumentHelp(
            "Shape of an input, as name=1x3x320x480 (repeat for several inputs; the name may be left out when the model has one input).",
            valueName: "name=shape"))
    var specs: [String] = []

    /// The shapes, keyed by input name, checked against the model's runtime inputs.
    func shapes(for graph: Graph) throws -> [String: [Dim]] {
        let inputs = graph.runtimeInputs
        var result: [String: [Dim]] = [:]
        for spec in specs {
            let name: String
            let dimsText: Substring
            if let eq = spec.lastIndex(of: "=") {
                name = String(spec[..<eq])
                dimsText = spec[spec.index(after: eq)...]
            } else if inputs.count == 1 {
                name = inputs[0].name
                dimsText = Substring(spec)
            } else {
                throw ValidationError(
                    "--input-shape \(spec): the model has \(inputs.count) inputs (\(inputs.map(\.name).joined(separator: ", "))); write name=shape")
            }
            let parts = dimsText.split(separator: "x", omittingEmptySubsequences: false)
            let dims = parts.compactMap { Int($0) }
            guard !parts.isEmpty, dims.count == parts.count, dims.allSatisfy({ $0 > 0 }) else {
                throw ValidationError("--input-shape \(spec): expected positive integers joined by 'x', like 1x3x320x480")
            }
            result[name] = dims.map { .known($0) }
        }
        return result
    }
}
