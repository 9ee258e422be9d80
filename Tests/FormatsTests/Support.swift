import Foundation
import Graph
import Testing
@testable import Formats

/// Helpers shared by the codec tests: fixture paths, small models, and a readable model diff.
enum Fixtures {
    /// The repository's Samples folder, found from this file's location.
    static let samples = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Samples")

    static let sampleNames = [
        "unet_thesis.onnx", "resnet_mini.onnx", "mobilenet_mini.onnx", "bisenet_attention.onnx",
        "convnext_block.onnx", "constant_weights.onnx", "external_data/model.onnx",
        "torch_opset11.onnx", "torch_opset13.onnx", "torch_opset17.onnx", "ir_features.onnx",
    ]

    static func url(_ name: String) -> URL { samples.appendingPathComponent(name) }

    /// The fixture's URL when the file exists (the tests then fail by name when one is missing).
    static func existing(_ name: String) -> URL? {
        let url = url(name)
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    /// A fresh temporary folder.
    static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pare-formats-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func floats(_ values: [Float]) -> Data { values.withUnsafeBytes { Data($0) } }

    /// A tiny MatMul → Relu model with a [4, 4] weight, built as IR.
    static func tinyModel(weightCount: Int = 16, seed: Float = 0.5) -> Model {
        let side = Int(Double(weightCount).squareRoot())
        let weight = Tensor(name: "w", shape: [side, side], floats: (0..<side * side).map { Float($0) * seed - 1 })
        let graph = Graph(
            name: "tiny",
            nodes: [
                Node(name: "mm", opType: "MatMul", inputs: ["x", "w"], outputs: ["h"]),
                Node(name: "act", opType: "LeakyRelu", inputs: ["h"], outputs: ["y"],
                     attributes: [Attribute("alpha", .float(0.1))]),
            ],
            inputs: [Value(name: "x", .float32, [.symbol("batch"), .known(side)])],
            outputs: [Value(name: "y", .float32, [.symbol("batch"), .unknown])],
            initializers: [weight])
        return Model(producerName: "pare-tests", graph: graph)
    }

    /// Serializes a protobuf message built in a test.
    
}

/// Where two models differ, as a short list of paths (empty when equal).
func differences(_ a: Model, _ b: Model) -> [String] {
    var out: [String] = []
    func check<T: Equatable>(_ path: String, _ x: T, _ y: T) { if x != y { out.append(path) } }
    check("irVersion", a.irVersion, b.irVersion)
    check("opsetImports", a.opsetImports, b.opsetImports)
    check("producer", [a.producerName, a.producerVersion, a.domain], [b.producerName, b.producerVersion, b.domain])
    check("modelVersion", a.modelVersion, b.modelVersion)
    check("docString", a.docString, b.docString)
    check("metadata", a.metadata, b.metadata)
    check("carried", a.carried, b.carried)
    check("functions", a.functions, b.functions)
    out += graphDifferences("graph", a.graph, b.graph)
    return out
}

func graphDifferences(_ path: String, _ a: Graph, _ b: Graph) -> [String] {
    var out: [String] = []
    func check<T: Equatable>(_ name: String, _ x: T, _ y: T) { if x != y { out.append("\(path).\(name)") } }
    check("name", a.name, b.name)
    check("inputs", a.inputs, b.inputs)
    check("outputs", a.outputs, b.outputs)
    check("valueInfo", a.valueInfo, b.valueInfo)
    check("sparseInitializers", a.sparseInitializers, b.sparseInitializers)
    check("docString", a.docString, b.docString)
    check("metadata", a.metadata, b.metadata)
    check("carried", a.carried, b.carried)
    check("nodes.count", a.nodes.count, b.nodes.count)
    for (i, (x, y)) in zip(a.nodes, b.nodes).enumerated() where x != y {
        out.append("\(path).nodes[\(i)] \(x.displayName)")
    }
    check("initializers.count", a.initializers.count, b.initializers.count)
    for (x, y) in zip(a.initializers, b.initializers) where x != y {
        out.append("\(path).initializer '\(x.name)'")
    }
    return out
}

/// Expects `body` to throw a FormatError and returns its description.
func formatError(_ body: () throws(FormatError) -> Void) -> String? {
    do {
        try body()
        return nil
    } catch {
        return error.description
    }
}
