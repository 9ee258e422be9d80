import Foundation
import Formats
import Graph
import Runtime
import Testing
@testable import Passes

@Suite("BatchNorm folding and conv affine fusion")
struct BatchNormFoldingTests {
    let pads1 = Attribute("pads", .ints([1, 1, 1, 1]))

    @Test("Conv → BatchNormalization folds into the conv, with and without a bias", arguments: [true, false])
    func convBatchNorm(bias: Bool) throws {
        var s = Sketch(inputs: [("x", [1, 3, 6, 6])])
        var inputs = ["x", s.constant("w", [4, 3, 3, 3])]
        if bias { inputs.append(s.constant("b", [4])) }
        s.node("Conv", inputs, ["c"], [pads1])
        s.node("BatchNormalization", ["c"] + s.batchNormParameters("bn", 4), ["y"], [Attribute("epsilon", .float(1e-3))])
        s.outputs(["y"])
        let (result, report) = try optimized(s.model, [BatchNormFoldingPass(), DeadCodeEliminationPass()])
        #expect(result.graph.nodes.map(\.opType) == ["Conv"])
        #expect(result.graph.nodes[0].outputs == ["y"])
        #expect(result.graph.nodes[0].inputs.count == 3)
        #expect(report.passes[0].rewrites == 1 && report.passes[0].nodesRemoved == 1)
        // The weight keeps its name when the conv was its only reader.
        #expect(result.graph.nodes[0].inputs[1] == "w")
        try expectEquivalent(s.model, result)
    }

    @Test("weights mapped from a file (external data, .pare) are rescaled in the process's own copy, not the file")
    func mappedWeightsFold() throws {
        var s = Sketch(inputs: [("x", [1, 3, 6, 6])])
        s.node("Conv", ["x", s.constant("w", [64, 3, 3, 3])], ["c"], [pads1])
        s.node("BatchNormalization", ["c"] + s.batchNormParameters("bn", 64), ["y"])
        s.outputs(["y"])
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pare-mapped-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let onnx = folder.appendingPathComponent("m.onnx"), pare = folder.appendingPathComponent("m.pare")
        try ONNXFormat.write(s.model, to: onnx, options: ONNXWriteOptions(externalData: .always(minimumBytes: 0)))
        try PareFormat.write(s.model, to: pare)
        let weightsBefore = try Data(contentsOf: folder.appendingPathComponent("m.onnx.data"))
        let pareBefore = try Data(contentsOf: pare)
        for format in ["onnx", "pare"] {
            // Only this model holds the mapped weights, so folding rescales them in place.
            var model = format == "onnx" ? try ONNXFormat.read(contentsOf: onnx) : try PareFormat.read(contentsOf: pare).model
            _ = try Pipeline([BatchNormFoldingPass(), DeadCodeEliminationPass()]).run(on: &model, context: PassContext(opsetVersion: 17))
            #expect(model.graph.nodes.map(\.opType) == ["Conv"])
            try expectEquivalent(s.model, model)
        }
        #expect(try Data(contentsOf: folder.appendingPathComponent("m.onnx.data")) == weightsBefore)
        #expect(try Data(contentsOf: pare) == pareBefore)
    }

    @Test("grouped ConvTranspose → BatchNormalization and Gemm → BatchNormalization fold", arguments: [false, true])
    func convTransposeAndGemm(transB: Bool) throws {
        var s = Sketch(inputs: [("x", [1, 4, 3, 3]), ("v", [2, 5])])
        s.node("ConvTranspose", ["x", s.constant("wt", [4, 3, 2, 2])], ["t"], [Attribute("group", .int(2)), Attribute("strides", .ints([2, 2]))])
        s.node("BatchNormalization", ["t"] + s.batchNormParameters("bn1", 6), ["y"])
        s.node("Gemm", ["v", s.constant("wg", transB ? [6, 5] : [5, 6]), s.constant("cg", [6])], ["g"],
               [Attribute("transB", .int(transB ? 1 : 0)), Attribute("beta", .float(0.5)), Attribute("alpha", .float(2))])
        s.node("BatchNormalization", ["g"] + s.batchNormParameters("bn2", 6), ["z"])
        s.outputs(["y", "z"])
        let result = try optimized(s.model).model
        #expect(opCount(result, "BatchNormalization") == 0)
        #expect(result.graph.nodes.count == 2)
        try expectEquivalent(s.model, result)
    }

    @Test("BatchNormalization folds into the unpadded grouped conv after it, not into a padded one")
    func foldsForward() throws {
        var s = Sketch(inputs: [("x", [1, 4, 5, 5])])
        s.node("Relu", ["x"], ["r"])
        s.node("BatchNormalization", ["r"] + s.batchNormParameters("bn", 4), ["n"])
        s.node("Conv", ["n", s.constant("w", [6, 2, 3, 3]), s.constant("b", [6])], ["y"], [Attribute("group", .int(2))])
        s.outputs(["y"])
        let result = try optimized(s.model).model
        #expect(result.graph.nodes.map(\.opType) == ["Relu", "Conv"])
        try expectEquivalent(s.model, result)

        var padded = s
        padded.graph.nodes[2].attributes.append(pads1)
        #expect(opCount(try optimized(padded.model).model, "BatchNormalization") == 1)
    }

    @Test("BatchNormalization stays when the conv output has another reader, in training mode, or with fed statistics")
    func leftAlone() throws {
        var s = Sketch(inputs: [("x", [1, 3, 4, 4]), ("mean", [4])])
        s.node("Conv", ["x", s.constant("w", [4, 3, 3, 3])], ["c"], [pads1])
        let p = s.batchNormParameters("bn", 4)
        s.node("BatchNormalization", ["c"] + p, ["y"])
        s.node("Relu", ["c"], ["side"])
        s.node("Conv", ["x", s.constant("w2", [4, 3, 3, 3])], ["c2"], [pads1])
        s.node("BatchNormalization", ["c2", p[0], p[1], "mean", p[3]], ["y2"])
        s.outputs(["y", "side", "y2"])
        let result = try optimized(s.model).model
        #expect(opCount(result, "BatchNormalization") == 2)

        var training = Sketch(inputs: [("x", [2, 3, 4, 4])])
        training.node("Conv", ["x", training.constant("w", [4, 3, 1, 1])], ["c"])
        training.node("BatchNormalization", ["c"] + training.batchNormParameters("bn", 4), ["y", "rm", "rv"],
                      [Attribute("training_mode", .int(1))])
        training.outputs(["y", "rm"])
        #expect(opCount(try optimized(training.model).model, "BatchNormalization") == 1)
    }

    @Test("a per-channel Mul, Div, Add and Sub after a conv fold into it; a full-shape Add stays")
    func convAffine() throws {
        var s = Sketch(inputs: [("x", [1, 3, 5, 5])])
        s.node("Conv", ["x", s.constant("w", [4, 3, 3, 3])], ["c"], [pads1])
        s.node("Mul", [s.constant("scale", [4, 1, 1]), "c"], ["m"])
        s.node("Div", ["m", s.constant("div", [1, 4, 1, 1], offset: 2)], ["d"])
        s.node("Add", ["d", s.constant("shift", [1, 4, 1, 1])], ["a"])
        s.node("Sub", ["a", s.constant("k", [1], [0.25])], ["y"])
        s.node("Conv", ["x", s.constant("w2", [4, 3, 3, 3])], ["c2"], [pads1])
        s.node("Add", ["c2", s.constant("full", [1, 4, 5, 5])], ["y2"])
        s.outputs(["y", "y2"])
        let (result, report) = try optimized(s.model)
        #expect(result.graph.nodes.map(\.opType) == ["Conv", "Conv", "Add"])
        #expect(report.passes.first { $0.pass == "fuse-conv-affine" }?.rewrites == 4)
        try expectEquivalent(s.model, result)
    }
}
