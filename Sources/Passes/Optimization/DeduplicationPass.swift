import Foundation
import Graph

/// `deduplicate`: constants with the same type, shape and bytes become one, and nodes that
/// compute the same op with the same attributes from the same inputs (common subexpressions)
/// become one; readers of a duplicate read the first. Graph outputs and values read inside
/// subgraphs keep their names, so duplicates among those stay.
public struct DeduplicationPass: Pass {
    public let name = "deduplicate"
    public let summary = "identical constants and common subexpressions are computed and stored once"

    public init() {}

    public func run(on graph: inout Graph, context: PassContext) throws -> PassReport {
        var report = PassReport(pass: name)
        var editor = GraphEditor(graph, context: context)
        var firstConstant: [ConstantKey: String] = [:]
        for tensor in graph.initializers {
            guard editor.isConstant(tensor.name), case .bytes(let bytes) = tensor.storage else { continue }
            let key = ConstantKey(elementType: tensor.elementType, shape: tensor.shape, bytes: bytes)
            guard let first = firstConstant[key] else {
                firstConstant[key] = tensor.name
                continue
            }
            guard !editor.graphOutputs.contains(tensor.name), !editor.subgraphReads.contains(tensor.name),
                  !editor.readers(of: tensor.name).isEmpty else { continue }
            editor.redirectReads(of: tensor.name, to: first)
            report.rewrites += 1
        }
        var firstNode: [ExpressionKey: Int] = [:]
        for i in try graph.topologicalOrder() {
            let node = editor.node(i)
            guard !node.hasSubgraphs, node.isDefaultDomain, !ConstantFoldingPass.nondeterministic.contains(node.opType),
                  !node.outputs.isEmpty else { continue }
            let key = ExpressionKey(opType: node.opType, inputs: node.inputs, attributes: node.attributes, outputCount: node.outputs.count)
            guard let first = firstNode[key] else {
                firstNode[key] = i
                continue
            }
            let original = editor.node(first).outputs
            let pairs = zip(node.outputs, original).filter { !$0.0.isEmpty }
            guard pairs.allSatisfy({ !$0.1.isEmpty && !editor.graphOutputs.contains($0.0) && !editor.subgraphReads.contains($0.0) }) else { continue }
            editor.remove(i)
            for (duplicate, kept) in pairs { editor.redirectReads(of: duplicate, to: kept) }
            report.rewrites += 1
        }
        graph = editor.finish()
        return report
    }
}

/// A constant's identity: type, shape and bytes (hashing the bytes once per constant).
private struct ConstantKey: Hashable {
    var elementType: ElementType
    var shape: [Int]
    var bytes: Data
}

/// A computation's identity: op, inputs (after earlier redirects) and attributes.
private struct ExpressionKey: Hashable {
    var opType: String
    var inputs: [String]
    var attributes: [Attribute]
    var outputCount: Int
}
