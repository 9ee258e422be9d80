import Graph
import Runtime

/// `fold-constants`: evaluates every node whose inputs are all constants with the runtime's own
/// kernels and replaces it by its result, unless the result would take more than
/// `PassContext.foldingSlackBytes` bytes beyond its inputs (folding never inflates a model: an
/// Expand to a large shape stays a node). Weight decompression (`isWeightDecompression`) is
/// never folded, whatever its size.
public struct ConstantFoldingPass: Pass {
    public let name = "fold-constants"
    public let summary = "nodes whose inputs are all constants are computed once and become constants"

    /// Ops whose result is not a function of their inputs.
    static let nondeterministic: Set<String> = ["RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli"]

    public init() {}

    public func run(on graph: inout Graph, context: PassContext) throws -> PassReport {
        var report = PassReport(pass: name)
        var editor = GraphEditor(graph, context: context)
        for i in try graph.topologicalOrder() {
            let node = editor.node(i)
            guard Self.isFoldable(node), node.inputs.contains(where: { !$0.isEmpty }),
                  node.outputs.allSatisfy({ !editor.graphOutputs.contains($0) }),
                  let inputs = Self.constantInputs(node, editor),
                  !Self.isWeightDecompression(node, dataType: inputs.first??.elementType) else { continue }
            let values: [Tensor]
            do {
                values = try NodeEvaluator.evaluate(node, inputs: inputs, opsetVersion: context.opsetVersion)
            } catch {
                // The model will fail the same way when it runs; folding leaves that to the run.
                report.notes.append("left \(node.displayName) unfolded: \(error)")
                continue
            }
            let inputBytes = inputs.reduce(0) { $0 + ($1?.byteCount ?? 0) }
            let outputBytes = values.reduce(0) { $0 + $1.byteCount }
            guard outputBytes <= inputBytes + context.foldingSlackBytes else {
                report.notes.append("left \(node.displayName) unfolded: its result (\(outputBytes) bytes) is larger than its inputs")
                continue
            }
            editor.replaceByConstants(i, values: values)
            report.constantsFolded += 1
        }
        graph = editor.finish()
        return report
    }

    /// Ops folding may evaluate: deterministic, default domain, no subgraph, not a Constant
    /// (the freeze pass turns those into initializers without running anything).
    static func isFoldable(_ node: Node) -> Bool {
        node.isDefaultDomain && node.opType != "Constant" && !nondeterministic.contains(node.opType) && NodeEvaluator.canEvaluate(node)
    }

    /// Element types a weight is stored in and Cast to a float type from.
    static let compressedCastTypes: Set<ElementType> = [.float16, .bfloat16, .int8, .uint8, .int4, .uint4]

    /// True when `node`, reading a constant of `dataType` as input 0, decompresses a stored
    /// weight: a DequantizeLinear of integers, a Cast of float16/bfloat16 to float32, or a Cast
    /// of 8- or 4-bit integers to a float type. Folding one only inflates the model, and breaks
    /// the QDQ patterns runtimes fuse (DequantizeLinear → Conv); runtimes evaluate it at load.
    /// Casts of other types (a shape's int64 to float) are ordinary folds.
    static func isWeightDecompression(_ node: Node, dataType: ElementType?) -> Bool {
        guard node.isDefaultDomain, let dataType else { return false }
        switch node.opType {
        case "DequantizeLinear":
            return dataType.isInteger
        case "Cast":
            guard compressedCastTypes.contains(dataType), let to = node.int("to").flatMap({ ElementType(rawValue: Int($0)) }) else { return false }
            return dataType == .float16 || dataType == .bfloat16 ? to == .float32 : to.isFloatingPoint
        default:
            return false
        }
    }

    /// Every input's constant value (nil for absent optional inputs), or nil when an input is
    /// not a constant or holds strings.
    private static func constantInputs(_ node: Node, _ editor: GraphEditor) -> [Tensor?]? {
        var values: [Tensor?] = []
        for name in node.inputs {
            if name.isEmpty { values.append(nil); continue }
            guard let value = editor.constant(name), value.elementType != .string else { return nil }
            values.append(value)
        }
        return values
    }
}
