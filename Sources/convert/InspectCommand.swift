import ArgumentParser
import Foundation
import Formats
import Graph
import Passes

/// `convert inspect model.onnx`: what a model is, at a glance.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Summarize a model: inputs, outputs, opsets, producer, op histogram, parameters.")

    @Argument(help: "The model to inspect (.onnx or .pare).")
    var input: String

    @Flag(help: "Print the summary as JSON.")
    var json = false

    struct Summary: Codable {
        struct Tensor: Codable {
            var name: String
            var type: String
            var shape: [String]?
        }
        var file: String
        var fileBytes: Int
        var irVersion: Int64
        var producer: String
        var opsets: [String: Int64]
        var inputs: [Tensor]
        var outputs: [Tensor]
        var nodes: Int
        var opHistogram: [String: Int]
        var initializers: Int
        var parameters: Int
        var weightBytes: Int
        var functions: [String]
        var metadata: [String: String]
        /// For a `.pare` file: its format version, sections and how each tensor is stored.
        var pare: PareDetails?
    }

    struct PareDetails: Codable {
        var formatVersion: String
        var sections: [PareSection]
        var tensors: [PareTensorEntry]
        /// Tensor count and stored bytes per element type and compression ("float16, zstd").
        var storage: [String: StorageTotal]
    }

    struct StorageTotal: Codable {
        var tensors: Int
        var storedBytes: Int
        var decodedBytes: Int
    }

    func run() throws {
        let (model, pare) = try ModelInput.loadFile(input)
        var summary = Self.summarize(model, path: input)
        summary.pare = pare.map(Self.details)
        if json {
            try JSONOutput.print(summary)
            return
        }
        func describe(_ t: Summary.Tensor) -> String {
            "  \(t.name): \(t.type)[\(t.shape?.joined(separator: "×") ?? "?")]"
        }
        var lines = [
            "model:        \(summary.file) (\(Format.bytes(summary.fileBytes)))",
            "producer:     \(summary.producer.isEmpty ? "unknown" : summary.producer)",
            "IR version:   \(summary.irVersion)",
            "opsets:       " + summary.opsets.sorted(by: { $0.key < $1.key })
                .map { "\($0.key.isEmpty ? "ai.onnx" : $0.key) \($0.value)" }.joined(separator: ", "),
            "inputs:",
        ]
        lines += summary.inputs.map(describe)
        lines.append("outputs:")
        lines += summary.outputs.map(describe)
        lines += [
            "nodes:        \(summary.nodes)",
            "initializers: \(summary.initializers)",
            "parameters:   \(Format.count(summary.parameters)) (\(Format.grouped(summary.parameters)))",
            "weight bytes: \(Format.bytes(summary.weightBytes))",
        ]
        if !summary.functions.isEmpty { lines.append("functions:    \(summary.functions.joined(separator: ", "))") }
        for (key, value) in summary.metadata.sorted(by: { $0.key < $1.key }) { lines.append("metadata:     \(key) = \(value)") }
        if let pare = summary.pare {
            lines.append("format:       .pare \(pare.formatVersion), sections " + pare.sections.map { "\($0.kind) \(Format.bytes($0.length))" }.joined(separator: ", "))
            for (kind, total) in pare.storage.sorted(by: { $0.key < $1.key }) {
                lines.append("storage:      \(kind): \(total.tensors) tensors, \(Format.bytes(total.storedBytes)) stored (\(Format.bytes(total.decodedBytes)) decoded)")
            }
        }
        lines.append("")
        lines.append(Format.table(
            ["op type", "count"],
            summary.opHistogram.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { [$0.key, String($0.value)] }))
        print(lines.joined(separator: "\n"))
    }

    static func summarize(_ model: Model, path: String) -> Summary {
        let graph = model.graph
        func tensor(_ value: Value) -> Summary.Tensor {
            guard let type = value.tensorType else { return .init(name: value.name, type: "non-tensor", shape: nil) }
            return .init(name: value.name, type: type.elementType.description, shape: type.dims?.map(\.description))
        }
        var histogram: [String: Int] = [:]
        for node in graph.nodes {
            histogram[node.isDefaultDomain ? node.opType : "\(node.domain).\(node.opType)", default: 0] += 1
        }
        var opsets: [String: Int64] = [:]
        for opset in model.opsetImports { opsets[opset.domain] = opset.version }
        let totals = Counting.constantTotals(graph)
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        var metadata: [String: String] = [:]
        for entry in model.metadata { metadata[entry.key] = entry.value }
        return Summary(
            file: path, fileBytes: size, irVersion: model.irVersion,
            producer: [model.producerName, model.producerVersion].filter { !$0.isEmpty }.joined(separator: " "),
            opsets: opsets, inputs: graph.runtimeInputs.map(tensor), outputs: graph.outputs.map(tensor),
            nodes: graph.nodes.count, opHistogram: histogram, initializers: graph.initializers.count,
            parameters: totals.parameters, weightBytes: totals.weightBytes,
            functions: model.functions.map { "\($0.domain).\($0.name)" }, metadata: metadata, pare: nil)
    }

    static func details(_ file: PareFile) -> PareDetails {
        var storage: [String: StorageTotal] = [:]
        for t in file.tensors {
            let key = t.compression == "none" ? t.elementType : "\(t.elementType), \(t.compression)"
            var total = storage[key] ?? StorageTotal(tensors: 0, storedBytes: 0, decodedBytes: 0)
            total.tensors += 1
            total.storedBytes += t.storedBytes
            total.decodedBytes += t.decodedBytes
            storage[key] = total
        }
        return PareDetails(formatVersion: "\(file.majorVersion).\(file.minorVersion)", sections: file.sections,
                           tensors: file.tensors, storage: storage)
    }
}
