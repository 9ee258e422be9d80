import Graph

/// `fold-shapes`: replaces values that shape inference knows exactly by constants. `Shape` of a
/// tensor with static dims, and the `Gather`/`Unsqueeze`/`Concat`/arithmetic chains computed
/// from it, collapse to constants, so the `Reshape` or `Resize` at their end reads a constant.
/// A dimension that stays symbolic (a dynamic batch) keeps the chain that depends on it.
///
/// Shapes given in `PassContext.inputShapes` replace the declared input dims first, and the
/// pass writes them into the model's input declarations: a model folded for one shape declares
/// that shape.
public struct ShapeFoldingPass: Pass {
    public let name = "fold-shapes"
    public let summary = "shape computations (Shape → Gather → Concat → Reshape) with static dims become constants"

    public init() {}

    public func run(on graph: inout Graph, context: PassContext) throws -> PassReport {
        var report = PassReport(pass: name)
        for (index, input) in graph.inputs.enumerated() {
            guard let dims = context.inputShapes[input.name], let type = input.tensorType, type.dims != dims else { continue }
            graph.inputs[index].type = .tensor(TensorType(type.elementType, dims))
            report.rewrites += 1
        }
        // Initializers a caller may override are not known values.
        var visible = graph
        if context.keepsInitializerInputs {
            let inputs = Set(graph.inputs.map(\.name))
            visible.initializers.removeAll { inputs.contains($0.name) }
        }
        // Nor are weights stored compressed: constant folding never decompresses them, so nothing
        // computed from them (a Mul by an int8 weight's scale) may fold here either. They stay
        // visible as inputs of known type and shape.
        let compressed = Self.compressedWeights(visible)
        if !compressed.isEmpty {
            let declared = Set(visible.inputs.map(\.name))
            for tensor in visible.initializers where compressed.contains(tensor.name) && !declared.contains(tensor.name) {
                visible.inputs.append(Value(name: tensor.name, tensor.elementType, tensor.shape.map { .known($0) }))
            }
            visible.initializers.removeAll { compressed.contains($0.name) }
        }
        let inferred = try ShapeInference.infer(visible, opsetVersion: context.opsetVersion, inputShapes: context.inputShapes)
        var editor = GraphEditor(graph, context: context)
        for i in editor.liveIndices {
            let node = editor.node(i)
            // Only nodes computed from something not constant: constant folding handles the rest.
            guard ConstantFoldingPass.isFoldable(node) || Self.shapeOnly.contains(node.opType),
                  node.isDefaultDomain, !node.hasSubgraphs,
                  node.inputs.contains(where: { !$0.isEmpty && !editor.isConstant($0) }),
                  !node.outputs.contains(where: { editor.graphOutputs.contains($0) }) else { continue }
            var values: [Tensor] = []
            for output in node.outputs where !output.isEmpty {
                guard var value = inferred.values[output] else { break }
                value.name = output
                values.append(value)
            }
            guard values.count == node.outputs.filter({ !$0.isEmpty }).count, !values.isEmpty else { continue }
            editor.replaceByConstants(i, values: values)
            report.constantsFolded += 1
        }
        graph = editor.finish()
        return report
    }

    /// Initializers that a node decompresses (`ConstantFoldingPass.isWeightDecompression`).
    static func compressedWeights(_ graph: Graph) -> Set<String> {
        let types = Dictionary(graph.initializers.map { ($0.name, $0.elementType) }, uniquingKeysWith: { first, _ in first })
        var names: Set<String> = []
        for node in graph.nodes {
            guard let data = node.input(0), ConstantFoldingPass.isWeightDecompression(node, dataType: types[data]) else { continue }
            names.insert(data)
        }
        return names
    }

    /// Ops that only read their input's shape, foldable even when the runtime could not run them.
    static let shapeOnly: Set<String> = ["Shape", "Size"]
}
