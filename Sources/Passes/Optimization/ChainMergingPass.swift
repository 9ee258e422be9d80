import Graph

/// `merge-chains`: two Transposes in a row become one (or none, when they cancel), and a
/// Reshape of a Reshape, Flatten, Squeeze or Unsqueeze reads the original tensor directly,
/// since only its element order matters. The first node of a chain goes when nothing else
/// reads it.
public struct ChainMergingPass: Pass {
    public let name = "merge-chains"
    public let summary = "Transpose pairs compose (or cancel) and Reshape chains collapse to one Reshape"

    static let reshapeLike: Set<String> = ["Reshape", "Flatten", "Squeeze", "Unsqueeze"]

    public init() {}

    public func run(on graph: inout Graph, context: PassContext) throws -> PassReport {
        var report = PassReport(pass: name)
        var editor = GraphEditor(graph, context: context)
        for i in try graph.topologicalOrder() where !editor.isRemoved(i) {
            let node = editor.node(i)
            guard node.isDefaultDomain, let input = node.input(0), let first = editor.producer[input], !editor.isRemoved(first),
                  editor.node(first).isDefaultDomain, editor.node(first).outputs.first == input,
                  let source = editor.node(first).input(0) else { continue }
            let previous = editor.node(first)
            switch (previous.opType, node.opType) {
            case ("Transpose", "Transpose"):
                guard let p1 = previous.ints("perm"), let p2 = node.ints("perm"), p1.count == p2.count,
                      p2.allSatisfy({ $0 >= 0 && Int($0) < p1.count }) else { continue }
                // transpose(transpose(x, p1), p2) = transpose(x, q) with q[i] = p1[p2[i]].
                let composed = p2.map { p1[Int($0)] }
                if composed.enumerated().allSatisfy({ Int64($0.offset) == $0.element }) {
                    guard let output = node.outputs.first, editor.bypass(i, input: source, output: output) else { continue }
                } else {
                    editor.setInput(node: i, slot: 0, to: source)
                    editor.setAttribute(node: i, Attribute("perm", .ints(composed)))
                }
                report.rewrites += 1
            case (let op, "Reshape") where Self.reshapeLike.contains(op):
                // A 0 in the target copies a dim of the Reshape's own input, which would change.
                guard let shape = node.input(1).flatMap(editor.constant)?.int64Values(),
                      node.int("allowzero", default: 0) != 0 || !shape.contains(0) else { continue }
                editor.setInput(node: i, slot: 0, to: source)
                report.rewrites += 1
            default:
                continue
            }
            if !editor.isUsed(input) { editor.remove(first) }
        }
        graph = editor.finish()
        return report
    }
}
