import Foundation
import Formats
import Graph
import Runtime
import Testing
@testable import Passes

@Suite("The optimization pipeline on the samples")
struct PipelineTests {
    static let samples = ["unet_thesis", "resnet_mini", "mobilenet_mini", "bisenet_attention", "convnext_block",
                          "constant_weights", "ir_features", "torch_opset11", "torch_opset13", "torch_opset17"]

    static func arrays(_ file: String) throws -> [String: NDArray] {
        var result: [String: NDArray] = [:]
        for tensor in try NPZ.read(contentsOf: Samples.url(file)) { result[tensor.name] = try NDArray(tensor) }
        return result
    }

    @Test("every sample keeps computing onnxruntime's outputs, with no BatchNormalization, Dropout or Identity left", arguments: samples)
    func sample(_ name: String) throws {
        let model = try Samples.load("\(name).onnx")
        let (result, report) = try optimized(model)
        for op in ["BatchNormalization", "Dropout", "Identity", "Constant"] { #expect(opCount(result, op) == 0, "\(op) left in \(name)") }
        #expect(report.nodesAfter <= report.nodesBefore)
        let session = try Session(model: result, options: SessionOptions(threads: 1))
        let outputs = try session.run(try Self.arrays("\(name).inputs.npz"))
        let expected = try Self.arrays("\(name).outputs.npz")
        let comparison = try Compare.outputs(reference: expected, candidate: outputs, names: model.graph.outputs.map(\.name))
        #expect(comparison.passed, "\(name): \(comparison.failing.map { "\($0.name) max rel \($0.maxRelativeError)" })")

        // A second run finds nothing left to do, and the file round-trips.
        let again = try optimized(result).report
        #expect(again.nodesAfter == again.nodesBefore && again.rounds == 1)
        let reread = try ONNXFormat.decode(try ONNXFormat.encode(result), baseDirectory: nil, source: name)
        #expect(reread.graph.nodes.count == result.graph.nodes.count)
    }

    @Test("the sample's node counts are at most what onnx-simplifier leaves (committed figures)")
    func againstOnnxSimplifier() throws {
        let figures = Samples.folder.deletingLastPathComponent().appendingPathComponent("docs/optimize-comparison.json")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: figures)) as? [String: Any]
        let models = try #require(json?["models"] as? [[String: Any]])
        var checked = 0
        for entry in models {
            guard let source = entry["source"] as? String, source.hasPrefix("Samples/"),
                  let onnxsim = (entry["onnxsim"] as? [String: Any])?["nodes"] as? Int else { continue }
            let model = try ONNXFormat.read(contentsOf: Samples.folder.deletingLastPathComponent().appendingPathComponent(source))
            let nodes = try optimized(model).model.graph.nodes.count
            #expect(nodes <= onnxsim, "\(source): Pare leaves \(nodes) nodes, onnx-simplifier \(onnxsim)")
            checked += 1
        }
        #expect(checked >= 8)
    }

    @Test("an unknown pass name is an error listing the passes")
    func unknownPass() throws {
        #expect(throws: PassError.self) { try Pipeline.named(["freeze", "fold-everything"]) }
        do {
            _ = try Pipeline.named(["fold-everything"])
        } catch {
            #expect(error.description.contains("fold-everything") && error.description.contains("fold-batchnorm"))
        }
        #expect(try Pipeline.named(["sort", "freeze"]).passes.map(\.name) == ["sort", "freeze"])
        #expect(Set(Pipeline.allPasses.map(\.name)).count == Pipeline.allPasses.count)
    }
}
