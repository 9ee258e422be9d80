import Foundation
import Formats
import Graph
import Runtime
import Testing
@testable import Passes

/// The mobile format's acceptance figures: every sample, frozen, stored as float32, float16 and
/// int8, written to `.pare`, read back and run, against the frozen model and onnxruntime's outputs.
@Suite("Samples converted to .pare in each storage type")
struct MobileAcceptanceTests {
    enum Storage: String, CaseIterable, CustomTestStringConvertible {
        case float32, float16, int8
        var testDescription: String { rawValue }
        var pass: String? { self == .float16 ? "fp16-weights" : self == .int8 ? "int8-weights" : nil }
    }

    /// The model `convert model.onnx --to mobile` writes, read back from its bytes.
    static func converted(_ name: String, _ storage: Storage) throws -> (frozen: Model, pare: Model) {
        var model = try Samples.load("\(name).onnx").inliningLocalFunctions()
        let context = PassContext(opsetVersion: model.defaultOpsetVersion)
        _ = try Pipeline.standard.run(on: &model, context: context)
        let frozen = model
        if let pass = storage.pass { _ = try Pipeline.named([pass]).run(on: &model, context: context) }
        let bytes = try PareFormat.encode(model, options: PareWriteOptions(compression: storage == .float32 ? .none : .zstd(level: 3)))
        return (frozen, try PareFormat.decode(bytes, source: "\(name).pare").model)
    }

    @Test("outputs: float32 bit-identical to the frozen ONNX, float16 within 1e-2 of the range, int8 cosine ≥ 0.99",
          arguments: PipelineTests.samples, Storage.allCases)
    func sample(_ name: String, _ storage: Storage) throws {
        let (frozen, pare) = try Self.converted(name, storage)
        let inputs = try PipelineTests.arrays("\(name).inputs.npz")
        let outputs = try Session(model: pare).run(inputs)
        let expected = try PipelineTests.arrays("\(name).outputs.npz")
        switch storage {
        case .float32:
            let reference = try Session(model: frozen).run(inputs)
            for (output, array) in reference {
                let actual = try #require(outputs[output])
                #expect(actual.floatArray().map(\.bitPattern) == array.floatArray().map(\.bitPattern), "\(name) output '\(output)'")
            }
        case .float16, .int8:
            for (output, reference) in expected {
                let comparison = try Compare.arrays(reference: reference, candidate: try #require(outputs[output]), name: output)
                let range = Double(reference.floatArray().map { abs($0) }.max() ?? 0)
                print("\(name) \(storage.rawValue) '\(output)': max abs err \(comparison.maxAbsoluteError) (range \(range)), cosine \(comparison.cosineSimilarity)\(comparison.mask.map { ", mask F1 \($0.f1)" } ?? "")")
                if storage == .float16 {
                    #expect(comparison.maxAbsoluteError <= 1e-2 * range, "\(name) '\(output)'")
                } else {
                    #expect(comparison.cosineSimilarity >= 0.99, "\(name) '\(output)'")
                }
            }
        }
    }

    @Test("the U-Net's masks: float16 F1 ≥ 0.99, int8 F1 ≥ 0.98 against onnxruntime", arguments: [Storage.float16, .int8])
    func unetMask(_ storage: Storage) throws {
        let (_, pare) = try Self.converted("unet_thesis", storage)
        let outputs = try Session(model: pare).run(try PipelineTests.arrays("unet_thesis.inputs.npz"))
        let expected = try PipelineTests.arrays("unet_thesis.outputs.npz")
        let comparison = try Compare.arrays(reference: try #require(expected["output"]), candidate: try #require(outputs["output"]), name: "output")
        let mask = try #require(comparison.mask)
        print("unet_thesis \(storage.rawValue): mask F1 \(mask.f1), IoU \(mask.iou)")
        #expect(mask.f1 >= (storage == .float16 ? 0.99 : 0.98))
    }
}
