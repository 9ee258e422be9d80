import Graph

/// `eliminate-noops`: removes nodes that pass their input through unchanged: Identity, Dropout
/// in inference (mask unread), Cast to the type it already has, Transpose with the identity
/// permutation, Pad by nothing, and Reshape, Flatten, Squeeze, Unsqueeze, Expand, Slice (unit
/// steps) and Tile whose output shape shape inference proves equal to the input's. A
/// single-input Concat, Sum, Max, Min or Mean goes too. Readers then read the input directly.
public struct NoOpEliminationPass: Pass {
    public let name = "eliminate-noops"
    public let summary = "Identity, inference Dropout and Reshape/Transpose/Cast/Pad/Slice/Expand that change nothing are removed"

    public init() {}

    public func run(on graph: inout Graph, context: PassContext) throws -> PassReport {
        var report = PassReport(pass: name)
        let inferred = try? ShapeInference.infer(graph, opsetVersion: context.opsetVersion, inputShapes: context.inputShapes)
        var editor = GraphEditor(graph, context: context)
        for i in editor.liveIndices {
            let node = editor.node(i)
            guard node.isDefaultDomain, let input = node.input(0), let output = node.outputs.first, !output.isEmpty,
                  Self.isNoOp(node, editor, inferred) else { continue }
            if editor.bypass(i, input: input, output: output) { report.rewrites += 1 }
        }
        graph = editor.finish()
        return report
    }

    static func isNoOp(_ node: Node, _ editor: GraphEditor, _ inferred: InferredTypes?) -> Bool {
        let extraOutputsUnused = node.outputs.dropFirst().allSatisfy { $0.isEmpty || !editor.isUsed($0) }
        switch node.opType {
        case "Identity":
            return true
        case "Dropout":
            // Inference Dropout is the identity; a training_mode input must be a constant false.
            guard extraOutputsUnused else { return false }
            if let mode = node.input(2) {
                guard let value = editor.constant(mode)?.int64Values(), value == [0] else { return false }
            }
            // (Opset 6's is_test attribute is ignored, as every inference runtime does.)
            return true
        case "Cast":
            guard let to = node.int("to"), let type = inferred?.type(of: node.inputs[0]) else { return false }
            return ElementType(rawValue: Int(to)) == type.elementType
        case "Transpose":
            if let perm = node.ints("perm") { return perm.enumerated().allSatisfy { Int64($0.offset) == $0.element } }
            return (inferred?.type(of: node.inputs[0])?.rank).map { $0 <= 1 } ?? false
        case "Pad":
            let pads = node.input(1).map { editor.constant($0)?.int64Values() } ?? node.ints("pads")
            return pads?.allSatisfy { $0 == 0 } ?? false
        case "Concat", "Sum", "Max", "Min", "Mean":
            return node.inputs.count == 1
        case "Slice":
            if let steps = node.input(4) {
                guard let values = editor.constant(steps)?.int64Values(), values.allSatisfy({ $0 == 1 }) else { return false }
            }
            return sameShape(node, inferred)
        case "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Expand", "Tile":
            return sameShape(node, inferred)
        default:
            return false
        }
    }

    /// True when input 0 and output 0 have the same dims, each known or the same symbol.
    private static func sameShape(_ node: Node, _ inferred: InferredTypes?) -> Bool {
        guard let a = inferred?.type(of: node.inputs[0])?.dims, let b = inferred?.type(of: node.outputs[0])?.dims,
              a.count == b.count else { return false }
        return zip(a, b).allSatisfy { x, y in
            switch (x, y) {
            case (.known(let u), .known(let v)): u == v
            case (.symbol(let u), .symbol(let v)): u == v
            default: false
            }
        }
    }
}
