import Graph
import Runtime

/// `fold-constants`: evaluates every node whose inputs are all constants with the runtime's own
/// kernels and replaces it by its result, unless the result would take more than
/// `PassContext.foldingSlackBytes` bytes beyond its inputs (folding never inflates a model: an
/// Expand to a large shape or a DequantizeLinear of int8 weights stays a node).
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
                  let inputs = Self.constantInputs(node, editor) else { continue }
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
