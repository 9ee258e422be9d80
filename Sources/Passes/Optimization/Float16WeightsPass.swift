import Foundation
import Graph

/// `fp16-weights` (lossy, not in the standard pipeline): stores each float32 weight of the main
/// graph as float16, rounded to nearest even, and computes the float32 value back with a
/// `Cast(to = float)` under the weight's own name, so its readers are unchanged. Runtimes
/// evaluate the Cast once at load; `fold-constants` never folds it back.
///
/// Left float32: initializers under `WeightStorage.minimumElements` elements, graph inputs
/// and outputs, scales of QuantizeLinear/DequantizeLinear, and tensors with a finite value
/// beyond the float16 range (±65504), which would become infinity (a note names them).
public struct Float16WeightsPass: Pass {
    public let name = "fp16-weights"
    public let summary = "lossy, not run by default: float32 weights are stored as float16 and Cast back to float32"

    /// Ops whose float inputs are quantization parameters, not weights.
    static let quantizationOps: Set<String> = ["QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear"]

    /// The largest finite float16.
    static let largestHalf: Float = 65504

    public init() {}

    public func run(on graph: inout Graph, context: PassContext) throws -> PassReport {
        var report = PassReport(pass: name)
        var editor = GraphEditor(graph, context: context)
        var rewrites: [WeightRewrite] = []
        for i in WeightStorage.candidates(editor) {
            let tensor = graph.initializers[i]
            // Quantization parameters stay constants: runtimes fuse QDQ nodes only with constant scales.
            guard !editor.readers(of: tensor.name).contains(where: { Self.quantizationOps.contains(editor.node($0).opType) }) else { continue }
            let values = WeightStorage.floats(tensor)
            let largest = values.reduce(Float(0)) { $1.isFinite ? max($0, abs($1)) : $0 }
            guard largest <= Self.largestHalf else {
                report.notes.append("kept \(tensor.name) float32: it holds \(largest), beyond the float16 range (65504)")
                continue
            }
            let halves = values.map(floatToHalf)
            var stored = Tensor(name: editor.freshName(tensor.name + "_fp16"), elementType: .float16, shape: tensor.shape,
                                storage: .bytes(halves.withUnsafeBytes { Data($0) }))
            stored.docString = tensor.docString
            let cast = Node(name: tensor.name + "_cast", opType: "Cast", inputs: [stored.name], outputs: [tensor.name],
                            attributes: [Attribute("to", .int(Int64(ElementType.float32.rawValue)))])
            rewrites.append(WeightRewrite(original: tensor.name, tensors: [stored], nodes: [cast]))
            report.rewrites += 1
        }
        WeightStorage.apply(rewrites, to: &graph)
        return report
    }
}
