import Foundation
import Graph

/// One weight stored in a smaller form: the initializers that replace it and the nodes that
/// compute its original value from them, under its original name, so its readers are unchanged.
struct WeightRewrite {
    /// The replaced initializer, which the last of `nodes` now produces.
    var original: String
    /// Initializers taking the replaced one's place in the initializer list.
    var tensors: [Tensor]
    /// The decompression, in evaluation order.
    var nodes: [Node]
}

/// What the weight storage passes (`fp16-weights`, `int8-weights`) share: which initializers they
/// may store differently, and how a rewrite is applied.
enum WeightStorage {
    /// Smaller tensors would cost more in the extra node than their smaller storage saves.
    static let minimumElements = 16

    /// Indices of the float32 initializers of `editor`'s graph a storage pass may replace, in
    /// initializer order: not graph inputs (a caller may override those, and an input cannot be
    /// a node's output), not graph outputs, with at least `minimumElements` elements, and read
    /// by something (dead ones are eliminate-dead's business).
    static func candidates(_ editor: GraphEditor) -> [Int] {
        editor.graph.initializers.indices.filter { i in
            let tensor = editor.graph.initializers[i]
            return tensor.elementType == .float32 && tensor.elementCount >= minimumElements
                && tensor.bytes?.count == tensor.elementCount * 4
                && !editor.graphInputs.contains(tensor.name) && !editor.graphOutputs.contains(tensor.name)
                && (!editor.readers(of: tensor.name).isEmpty || editor.subgraphReads.contains(tensor.name))
        }
    }

    /// The float32 elements of `tensor` (whose bytes `candidates` checked).
    static func floats(_ tensor: Tensor) -> [Float] {
        guard let data = tensor.bytes else { return [] }
        return data.withUnsafeBytes { raw in
            (0..<tensor.elementCount).map { raw.loadUnaligned(fromByteOffset: $0 &* 4, as: Float.self) }
        }
    }

    /// Replaces each rewritten initializer by its new tensors, in its place, and puts the
    /// decompression nodes first in the graph, in the order of `rewrites` (so the result does
    /// not depend on hashing, and stays topologically sorted).
    static func apply(_ rewrites: [WeightRewrite], to graph: inout Graph) {
        guard !rewrites.isEmpty else { return }
        let byName = Dictionary(uniqueKeysWithValues: rewrites.map { ($0.original, $0) })
        graph.initializers = graph.initializers.flatMap { byName[$0.name]?.tensors ?? [$0] }
        graph.nodes = rewrites.flatMap(\.nodes) + graph.nodes
    }
}
