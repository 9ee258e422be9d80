import Foundation
import Graph

/// `int8-weights` (lossy, not in the standard pipeline): symmetric per-output-channel int8
/// quantization of the weights of Conv, ConvTranspose, Gemm and MatMul. Per channel c,
/// scale = max|w_c| / 127 (1 for an all-zero channel) and q = w / scale rounded to nearest even,
/// clamped to ±127. The weight becomes an int8 initializer `<name>_quantized` and a float32
/// `<name>_scale`, and `DequantizeLinear(q, scale, axis)` computes q·scale under the weight's own
/// name. Before opset 13, where DequantizeLinear has no axis, `Cast(to = float)` and a `Mul` by
/// the scale shaped to broadcast along the channel axis compute the same float32 values.
///
/// Only weights every reader of which reads them as its weight (input 1) along the same channel
/// axis: Conv (axis 0), ConvTranspose (axis 1), Gemm (rank 2; axis 0 with transB = 1, else 1) and
/// MatMul (rank 2; axis 1). Left float32: graph inputs and outputs, weights with another reader
/// (a note says which), small ones (the scales and node would outweigh the savings), and weights
/// with non-finite values.
public struct Int8WeightsPass: Pass {
    public let name = "int8-weights"
    public let summary = "lossy, not run by default: Conv/ConvTranspose/Gemm/MatMul weights become int8 per output channel, dequantized at load"

    public init() {}

    public func run(on graph: inout Graph, context: PassContext) throws -> PassReport {
        var report = PassReport(pass: name)
        var editor = GraphEditor(graph, context: context)
        var rewrites: [WeightRewrite] = []
        for i in WeightStorage.candidates(editor) {
            let tensor = graph.initializers[i]
            guard let axis = Self.channelAxis(of: tensor, editor, &report) else { continue }
            let channels = tensor.shape[axis]
            // The scales (4 bytes a channel) must leave something saved over 4 bytes an element.
            guard channels * 4 + tensor.elementCount < tensor.elementCount * 4 else { continue }
            guard let quantized = ChannelQuantization(tensor, axis: axis) else {
                report.notes.append("kept \(tensor.name) float32: it holds values int8 per-channel scales cannot represent")
                continue
            }
            rewrites.append(rewrite(tensor, axis: axis, quantized, opset: context.opsetVersion, &editor))
            report.rewrites += 1
        }
        WeightStorage.apply(rewrites, to: &graph)
        return report
    }

    /// The channel axis along which every reader of `tensor` reads it as its weight, or nil
    /// (with a note when some reader does but another reads it otherwise).
    static func channelAxis(of tensor: Tensor, _ editor: GraphEditor, _ report: inout PassReport) -> Int? {
        let readers = editor.readers(of: tensor.name).sorted()
        let axes = readers.map { weightAxis(editor.node($0), tensor.name, rank: tensor.shape.count) }
        guard let axis = axes.lazy.compactMap({ $0 }).first else { return nil }
        guard !editor.subgraphReads.contains(tensor.name), axes.allSatisfy({ $0 == axis }) else {
            let others = Set(zip(readers, axes).filter { $0.1 != axis }.map { editor.node($0.0).opType }).sorted()
            report.notes.append("kept \(tensor.name) float32: it is also read by \(others.isEmpty ? "a subgraph" : others.joined(separator: ", ")), not as a weight along axis \(axis)")
            return nil
        }
        return axis
    }

    /// The output-channel axis of `name` for `node` when the node reads it only as its weight
    /// (input 1) and it has the rank the op needs; nil otherwise.
    static func weightAxis(_ node: Node, _ name: String, rank: Int) -> Int? {
        guard node.isDefaultDomain, node.inputs.indices.filter({ node.inputs[$0] == name }) == [1] else { return nil }
        switch node.opType {
        case "Conv": return rank >= 3 ? 0 : nil
        case "ConvTranspose": return rank >= 3 ? 1 : nil
        case "Gemm": return rank == 2 ? (node.int("transB", default: 0) != 0 ? 0 : 1) : nil
        case "MatMul": return rank == 2 ? 1 : nil
        default: return nil
        }
    }

    /// The initializers and nodes that store `tensor` quantized and compute it back.
    private func rewrite(_ tensor: Tensor, axis: Int, _ quantized: ChannelQuantization, opset: Int64,
                         _ editor: inout GraphEditor) -> WeightRewrite {
        let values = Tensor(name: editor.freshName(tensor.name + "_quantized"), elementType: .int8, shape: tensor.shape,
                            storage: .bytes(quantized.values.withUnsafeBytes { Data($0) }))
        // DequantizeLinear takes a 1-D scale and an axis; the Mul needs it shaped to broadcast.
        var scaleShape = [quantized.scales.count]
        if opset < 13 {
            scaleShape = [Int](repeating: 1, count: tensor.shape.count)
            scaleShape[axis] = quantized.scales.count
        }
        let scale = Tensor(name: editor.freshName(tensor.name + "_scale"), elementType: .float32, shape: scaleShape,
                           storage: .bytes(quantized.scales.withUnsafeBytes { Data($0) }))
        guard opset < 13 else {
            let dequantize = Node(name: tensor.name + "_dequantize", opType: "DequantizeLinear", inputs: [values.name, scale.name],
                                  outputs: [tensor.name], attributes: [Attribute("axis", .int(Int64(axis)))])
            return WeightRewrite(original: tensor.name, tensors: [values, scale], nodes: [dequantize])
        }
        let widened = editor.freshName(tensor.name + "_unscaled")
        let cast = Node(name: widened, opType: "Cast", inputs: [values.name], outputs: [widened],
                        attributes: [Attribute("to", .int(Int64(ElementType.float32.rawValue)))])
        let mul = Node(name: tensor.name + "_scaled", opType: "Mul", inputs: [widened, scale.name], outputs: [tensor.name])
        return WeightRewrite(original: tensor.name, tensors: [values, scale], nodes: [cast, mul])
    }
}

/// Symmetric int8 quantization of a float32 tensor per slice along one axis.
struct ChannelQuantization {
    /// One scale per slice: max|w| / 127 in float32, or 1 for an all-zero slice.
    var scales: [Float]
    /// The quantized elements, in the tensor's order.
    var values: [Int8]

    /// Quantizes `tensor`; nil when it holds a non-finite value, or a slice so small its scale
    /// would be subnormal (and lose the precision the ±127 range relies on).
    init?(_ tensor: Tensor, axis: Int) {
        let floats = WeightStorage.floats(tensor)
        let channels = tensor.shape[axis], inner = tensor.shape[(axis + 1)...].reduce(1, *)
        guard channels > 0, inner > 0, floats.allSatisfy(\.isFinite) else { return nil }
        var largest = [Float](repeating: 0, count: channels)
        for (i, w) in floats.enumerated() {
            let c = (i / inner) % channels
            largest[c] = max(largest[c], abs(w))
        }
        scales = largest.map { $0 == 0 ? 1 : $0 / 127 }
        guard scales.allSatisfy(\.isNormal) else { return nil }
        // The quotient in Double is exact enough that |w − q·scale| ≤ scale/2 holds for every
        // element (a float32 quotient can round across a tie).
        let scales = scales
        values = floats.enumerated().map { i, w in
            let q = (Double(w) / Double(scales[(i / inner) % channels])).rounded(.toNearestOrEven)
            return Int8(max(-127, min(127, q)))
        }
    }
}
