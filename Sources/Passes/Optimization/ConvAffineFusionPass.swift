import Graph

/// `fuse-conv-affine`: a constant per-channel Add or Sub after a Conv, ConvTranspose or Gemm
/// becomes part of its bias; a constant per-channel Mul or Div scales its weights and bias. The
/// constant must broadcast along the channel axis only, so the output shape stays the same.
public struct ConvAffineFusionPass: Pass {
    public let name = "fuse-conv-affine"
    public let summary = "constant per-channel Add/Sub/Mul/Div after Conv/ConvTranspose/Gemm folds into its weights and bias"

    public init() {}

    public func run(on graph: inout Graph, context: PassContext) throws -> PassReport {
        var report = PassReport(pass: name)
        var editor = GraphEditor(taking: &graph, context: context)
        for i in editor.liveIndices {
            let node = editor.node(i)
            guard node.isDefaultDomain, ["Add", "Sub", "Mul", "Div"].contains(node.opType), node.inputs.count == 2,
                  let output = node.outputs.first, !output.isEmpty else { continue }
            // The non-constant operand comes from a conv-like producer; Sub and Div only fold
            // a constant on their right.
            let slots = node.opType == "Add" || node.opType == "Mul" ? [0, 1] : [0]
            for slot in slots {
                let x = node.inputs[slot], k = node.inputs[1 - slot]
                guard let constant = editor.constant(k).flatMap(RealTensor.init),
                      let p = editor.producer[x], !editor.isRemoved(p), editor.soleReader(of: x) == i,
                      editor.node(p).outputs.first == x,
                      let affine = Self.affine(node.opType, constant, producer: editor.node(p), editor),
                      affine.foldIntoProducer(p, &editor) else { continue }
                editor.remove(i)
                editor.setOutput(node: p, slot: 0, to: output)
                report.rewrites += 1
                break
            }
        }
        graph = editor.finish()
        return report
    }

    /// The per-channel map `op` with constant `k` applies to the producer's output, or nil when
    /// `k` does not broadcast along the channel axis alone (or divides by zero).
    private static func affine(_ op: String, _ k: RealTensor, producer: Node, _ editor: GraphEditor) -> ChannelAffine? {
        guard let weight = producer.input(1).flatMap(editor.constantLayout) else { return nil }
        let rank: Int, channels: Int
        switch producer.opType {
        case "Conv":
            rank = weight.shape.count
            channels = weight.shape.first ?? 0
        case "ConvTranspose":
            rank = weight.shape.count
            channels = weight.shape.count > 1 ? weight.shape[1] * Int(producer.int("group", default: 1)) : 0
        case "Gemm":
            guard weight.shape.count == 2 else { return nil }
            rank = 2
            channels = producer.int("transB", default: 0) != 0 ? weight.shape[0] : weight.shape[1]
        default:
            return nil
        }
        guard rank >= 2, channels > 0, let values = k.perChannel(rank: rank, channels: channels) else { return nil }
        let ones = [Double](repeating: 1, count: channels), zeros = [Double](repeating: 0, count: channels)
        switch op {
        case "Add": return ChannelAffine(scale: ones, shift: values)
        case "Sub": return ChannelAffine(scale: ones, shift: values.map { -$0 })
        case "Mul": return ChannelAffine(scale: values, shift: zeros)
        case "Div": return values.contains(0) ? nil : ChannelAffine(scale: values.map { 1 / $0 }, shift: zeros)
        default: return nil
        }
    }
}
