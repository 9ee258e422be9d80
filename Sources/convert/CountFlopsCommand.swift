import ArgumentParser
import Foundation
import Graph
import Passes

/// `convert count-flops model.onnx`: parameters, MACs, FLOPs and memory (docs/counting.md).
struct CountFlopsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "count-flops",
        abstract: "Count parameters, MACs, FLOPs, weight bytes and peak activation memory.")

    @Argument(help: "The model to count (.onnx).")
    var input: String

    @OptionGroup var shapes: InputShapeOptions

    @Flag(help: "Also list every node: name, op, output shape, parameters, MACs, FLOPs.")
    var perNode = false

    @Flag(help: "Print the result as JSON.")
    var json = false

    @Flag(help: "Count the model as deployed: after the standard optimize pipeline (freeze, folding, BatchNorm folding, no-op removal).")
    var afterFreeze = false

    func run() throws {
        var model = try ModelInput.load(input)
        let inputShapes = try shapes.shapes(for: model.graph)
        if afterFreeze {
            let report = try Pipeline.standard.run(on: &model, context: PassContext(opsetVersion: model.defaultOpsetVersion, inputShapes: inputShapes))
            Stderr.note("counting after the optimize pipeline: \(report.nodesBefore) → \(report.nodesAfter) nodes")
        }
        let result = try Counting.count(model, inputShapes: inputShapes)
        for note in result.notes { Stderr.note(note) }
        if json {
            var output = result
            if !perNode { output.nodes = [] }
            try JSONOutput.print(output)
            return
        }
        print(Self.summary(result, path: input))
        print()
        print(Format.table(
            ["op type", "count", "params", "MACs", "FLOPs"],
            result.perOpType.map {
                [$0.opType, String($0.count), Format.count($0.parameters), Format.count($0.macs),
                 $0.notCounted > 0 ? "not counted" : Format.count($0.flops)]
            }))
        if perNode {
            print()
            print(Format.table(
                ["node", "op", "output", "params", "MACs", "FLOPs"],
                result.nodes.map {
                    [$0.name.isEmpty ? "-" : $0.name, $0.opType, $0.outputShape.map(formatShape) ?? "?",
                     Format.grouped($0.parameters), $0.macs.map(Format.grouped) ?? "?", $0.flops.map(Format.grouped) ?? "?"]
                }))
        }
    }

    static func summary(_ result: ModelCount, path: String) -> String {
        let inputs = result.inputShapes.sorted(by: { $0.key < $1.key })
            .map { "\($0.key) \(formatShape($0.value))" }.joined(separator: ", ")
        let lines: [(String, String)] = [
            ("model", path),
            ("inputs", inputs.isEmpty ? "none" : inputs),
            ("parameters", "\(Format.count(result.parameters)) (\(Format.grouped(result.parameters)))"),
            ("weight parameters", "\(Format.count(result.weightParameters)) (\(Format.grouped(result.weightParameters))) in Conv/ConvTranspose/Gemm/MatMul weights"),
            ("weight bytes", Format.bytes(result.weightBytes)),
            ("MACs", "\(Format.count(result.macs)) (\(Format.grouped(result.macs)))"),
            ("FLOPs", "\(Format.count(result.flops)) (\(Format.grouped(result.flops)))"),
            ("peak activations", Format.bytes(result.peakActivationBytes)),
        ]
        var text = lines.map { "\($0.0):".padding(toLength: 19, withPad: " ", startingAt: 0) + $0.1 }.joined(separator: "\n")
        if !result.complete { text += "\nincomplete:        some nodes could not be counted (see notes on stderr)" }
        return text
    }
}
