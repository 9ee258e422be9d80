import Graph

/// `freeze`: makes a model's constants constants. Initializers that are also listed as graph
/// inputs (the legacy export style, which lets a caller override every weight) stop being inputs,
/// unless `PassContext.keepsInitializerInputs`; Constant nodes become initializers.
public struct FreezePass: Pass {
    public let name = "freeze"
    public let summary = "initializers listed as graph inputs become constants; Constant nodes become initializers"

    public init() {}

    public func run(on graph: inout Graph, context: PassContext) throws -> PassReport {
        var report = PassReport(pass: name)
        if !context.keepsInitializerInputs {
            let constants = Set(graph.initializers.map(\.name)).union(graph.sparseInitializers.map(\.name))
            let before = graph.inputs.count
            graph.inputs.removeAll { constants.contains($0.name) }
            report.rewrites += before - graph.inputs.count
        }
        var editor = GraphEditor(graph, context: context)
        for i in editor.liveIndices {
            let node = editor.node(i)
            guard node.opType == "Constant", node.isDefaultDomain, node.inputs.isEmpty, node.outputs.count == 1,
                  let output = node.outputs.first, !output.isEmpty,
                  // A graph output must stay produced by a node.
                  !editor.graphOutputs.contains(output),
                  let value = node.constantValue else { continue }
            editor.replaceByConstants(i, values: [value])
            report.rewrites += 1
        }
        graph = editor.finish()
        return report
    }
}
