import Foundation
import Formats
import Graph
import Runtime
import Testing

/// Every sample model runs on the runtime and matches what onnxruntime computed for it
/// (Samples/M.inputs.npz → Samples/M.outputs.npz, made by Samples/make_samples.py).
@Suite("Sample models against onnxruntime")
struct SampleOutputsTests {
    static let samples = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Samples")

    /// The samples with reference data: the models with M.inputs.npz and M.outputs.npz beside them.
    static let models: [String] = {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: samples.path)) ?? []
        return files.filter { $0.hasSuffix(".onnx") }.map { String($0.dropLast(5)) }
            .filter { files.contains("\($0).inputs.npz") && files.contains("\($0).outputs.npz") }
            .sorted()
    }()

    /// onnxruntime's float32 results may differ from ours by rounding: |a − b| ≤ 1e-5 + 1e-4·|b|.
    static let rtol: Float = 1e-4, atol: Float = 1e-5

    struct Case: CustomTestStringConvertible, Sendable {
        var model: String
        var threads: Int
        var testDescription: String { "\(model), \(threads) thread\(threads == 1 ? "" : "s")" }
    }

    static let cases = models.flatMap { model in [1, 2].map { Case(model: model, threads: $0) } }

    @Test("the samples with reference data are all here")
    func samplesFound() {
        // The README's list: the ten models that make_samples.py runs through onnxruntime.
        #expect(Self.models.count >= 10, "found \(Self.models)")
        #expect(Self.models.contains("unet_thesis") && Self.models.contains("torch_opset17"))
    }

    @Test("outputs match onnxruntime", arguments: cases)
    func matchesOnnxruntime(_ sample: Case) throws {
        let model = try ONNXFormat.read(contentsOf: Self.samples.appendingPathComponent("\(sample.model).onnx"))
        let inputs = try NPZ.read(contentsOf: Self.samples.appendingPathComponent("\(sample.model).inputs.npz"))
        let expected = try NPZ.read(contentsOf: Self.samples.appendingPathComponent("\(sample.model).outputs.npz"))
        let session = try Session(model: model, options: SessionOptions(threads: sample.threads))
        var feeds: [String: NDArray] = [:]
        for tensor in inputs { feeds[tensor.name] = try NDArray(tensor) }
        let outputs = try session.run(feeds)
        #expect(Set(outputs.keys) == Set(expected.map(\.name)))
        for reference in expected {
            let actual = try #require(outputs[reference.name], "no output '\(reference.name)'")
            #expect(actual.shape == reference.shape, "output '\(reference.name)'")
            #expect(actual.elementType == reference.elementType, "output '\(reference.name)'")
            guard actual.shape == reference.shape, actual.elementType == .float32 else { continue }
            let b = try #require(reference.floatValues())
            let a = actual.floats
            var mismatches = 0
            var first: String?
            for i in 0..<b.count where !(abs(a[i] - b[i]) <= Self.atol + Self.rtol * abs(b[i])) {
                mismatches += 1
                if first == nil { first = "element \(i): \(a[i]), onnxruntime \(b[i])" }
            }
            #expect(mismatches == 0, "output '\(reference.name)': \(mismatches) of \(b.count) elements differ; first at \(first ?? "")")
        }
    }
}
