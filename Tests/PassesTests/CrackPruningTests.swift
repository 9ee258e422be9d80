import Foundation
import Formats
import Graph
import Passes
import Runtime
import Testing

/// Pruning a trained model: the crack-segmentation U-Net of Samples/crack (trained by
/// make_crack_unet.py), scored against the ground-truth masks of its 20 held-out images.
@Suite("Pruning the trained crack U-Net") struct CrackPruningTests {
    /// The held-out images (one batch) and their masks.
    struct HeldOut {
        var images: NDArray
        var masks: [UInt8]
    }

    static func heldOut() throws -> HeldOut {
        let images = try #require(try NPZ.read(contentsOf: Samples.url("crack/crack_unet.inputs.npz")).first { $0.name == "input" })
        let masks = try #require(try NPZ.read(contentsOf: Samples.url("crack/crack_unet.masks.npz")).first { $0.name == "mask" })
        #expect(images.shape == [20, 1, 128, 192] && masks.shape == images.shape)
        let maskArray = try NDArray(masks)
        #expect(maskArray.elementType == .uint8)
        return HeldOut(images: try NDArray(images), masks: Array(UnsafeBufferPointer(start: maskArray.pointer(as: UInt8.self), count: maskArray.count)))
    }

    /// F1 of `output > 0.5` against the ground truth, over all held-out pixels.
    static func f1(_ model: Model, on heldOut: HeldOut) throws -> Double {
        let output = try Session(model: model, options: SessionOptions(threads: 2)).run(["input": heldOut.images])["output"]
        let probabilities = try #require(output?.floatArray())
        var truePositives = 0, falsePositives = 0, falseNegatives = 0
        for (p, m) in zip(probabilities, heldOut.masks) {
            switch (p > 0.5, m != 0) {
            case (true, true): truePositives += 1
            case (true, false): falsePositives += 1
            case (false, true): falseNegatives += 1
            case (false, false): break
            }
        }
        return 2 * Double(truePositives) / Double(2 * truePositives + falsePositives + falseNegatives)
    }

    static func prune(_ model: Model, method: PruneOptions.Method) throws -> (model: Model, report: PruneReport) {
        let tensors = try NPZ.read(contentsOf: Samples.url("crack/crack_calibration.npz"))
        let calibration = try CalibrationSet.from(tensors, inputs: model.graph.runtimeInputs, source: "crack_calibration.npz")
        #expect(calibration.samples.count == 32)
        var options = PruneOptions(threads: 2)
        options.method = method
        options.ratio = 0.5
        return try ChannelPruner.prune(model, calibration: calibration, options: options)
    }

    /// The acceptance: at ratio 0.5 with 32 calibration images, `reconstruct` stays within
    /// 3 F1 points of the unpruned model and beats `l1`; parameters and MACs drop 2× or more.
    @Test func reconstructKeepsTheCrackF1AndBeatsL1() throws {
        let model = try Samples.load("crack/crack_unet.onnx")
        let heldOut = try Self.heldOut()
        let unpruned = try Self.f1(model, on: heldOut)
        // crack_unet.json records 0.9817 from onnxruntime's outputs.
        #expect(abs(unpruned - 0.9817) < 0.002, "unpruned F1 \(unpruned)")

        let (reconstructed, report) = try Self.prune(model, method: .reconstruct)
        let (magnitude, _) = try Self.prune(model, method: .l1)
        let reconstructedF1 = try Self.f1(reconstructed, on: heldOut), magnitudeF1 = try Self.f1(magnitude, on: heldOut)
        #expect(reconstructedF1 >= unpruned - 0.03, "reconstruct F1 \(reconstructedF1) vs unpruned \(unpruned)")
        #expect(reconstructedF1 > magnitudeF1, "reconstruct F1 \(reconstructedF1) vs l1 \(magnitudeF1)")
        #expect(Double(report.parametersBefore) >= 2 * Double(report.parametersAfter))
        #expect(Double(report.macsBefore) >= 2 * Double(report.macsAfter))
        #expect(report.groups.filter { $0.channelsAfter < $0.channelsBefore }.count == 12, "every group but the output's")
    }
}
