import Foundation
import Graph

/// Removes channels from a graph: applies an analysis's edits for the channels a choice keeps.
enum ChannelRemoval {
    /// Keeps, for each group in `kept`, only the listed channels (sorted), everywhere they appear.
    /// `replacements` (node index → input index → tensor) are re-fitted weights whose input
    /// channels are already pruned; they stand in for the constants before the other edits (a
    /// layer that also produces the group's channels still loses those outputs).
    /// - Throws: `PruneError.invalidEdit` when a constant does not have the shape the analysis expected.
    static func apply(_ kept: [Int: [Int]], replacements: [Int: [Int: Tensor]] = [:], analysis: ChannelAnalysis,
                      to graph: inout Graph, opsetVersion: Int64) throws(PruneError) {
        let group: (Int) -> Int = { analysis.groupOfSpace[$0] }
        func keptFeatures(_ value: String) -> (kept: [Int], extent: Int)? {
            guard let layout = analysis.layouts[value] else { return nil }
            let features = layout.keptFeatures(kept, group: group)
            return features.count == layout.extent ? nil : (features, layout.extent)
        }
        let initializerIndex = Dictionary(graph.initializers.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        var working = replacements
        func current(_ node: Int, _ input: Int) throws(PruneError) -> Tensor {
            if let tensor = working[node]?[input] { return tensor }
            let name = graph.nodes[node].inputs[input]
            guard let i = initializerIndex[name] else {
                throw .invalidEdit("input '\(name)' of \(graph.nodes[node].displayName) is not a constant")
            }
            return graph.initializers[i]
        }

        for edit in analysis.edits {
            switch edit {
            case let .slice(node, input, axis, value):
                guard let (features, extent) = keptFeatures(value) else { continue }
                let tensor = try current(node, input)
                guard axis < tensor.shape.count, tensor.shape[axis] == extent else { continue }
                working[node, default: [:]][input] = try sliced(tensor, axis: axis, keeping: features)
            case let .extent(node, input, entry, value):
                guard let (features, _) = keptFeatures(value) else { continue }
                var tensor = try current(node, input)
                guard var values = tensor.int64Values(), entry < values.count else {
                    throw .invalidEdit("\(graph.nodes[node].displayName): input \(input) is not an integer vector")
                }
                values[entry] = Int64(features.count)
                tensor = Tensor(name: tensor.name, shape: tensor.shape, int64s: values)
                working[node, default: [:]][input] = tensor
            case let .group(node, value):
                guard let (features, _) = keptFeatures(value) else { continue }
                setAttribute(&graph.nodes[node], Attribute("group", .int(Int64(features.count))))
            case let .channelRange(node, entry, value, segments):
                guard keptFeatures(value) != nil, let layout = analysis.layouts[value] else { continue }
                func keptCount(_ range: Range<Int>) -> Int64 {
                    Int64(ChannelLayout(axis: layout.axis, segments: Array(layout.segments[range])).keptFeatures(kept, group: group).count)
                }
                let start = keptCount(0..<segments.lowerBound), end = start + keptCount(segments)
                if opsetVersion >= 10 {
                    for (input, bound) in [(1, start), (2, end)] {
                        let tensor = try current(node, input)
                        guard var values = tensor.int64Values(), entry < values.count else {
                            throw .invalidEdit("\(graph.nodes[node].displayName): input \(input) is not an integer vector")
                        }
                        values[entry] = bound
                        // Slice's index inputs share one type, int32 or int64: keep it.
                        let storage: Data = tensor.elementType == .int32
                            ? values.map { Int32(clamping: $0) }.withUnsafeBytes { Data($0) } : values.withUnsafeBytes { Data($0) }
                        working[node, default: [:]][input] = Tensor(name: tensor.name, elementType: tensor.elementType, shape: tensor.shape,
                                                                    storage: .bytes(storage))
                    }
                } else {
                    for (name, bound) in [("starts", start), ("ends", end)] {
                        guard var values = graph.nodes[node].ints(name), entry < values.count else {
                            throw .invalidEdit("\(graph.nodes[node].displayName): attribute '\(name)' has no entry \(entry)")
                        }
                        values[entry] = bound
                        setAttribute(&graph.nodes[node], Attribute(name, .ints(values)))
                    }
                }
            case let .splitSizes(node, _):
                let outputs = graph.nodes[node].outputs
                guard outputs.contains(where: { keptFeatures($0) != nil }) else { continue }
                let sizes = outputs.map { name in Int64(analysis.layouts[name].map { $0.keptFeatures(kept, group: group).count } ?? 0) }
                graph.nodes[node].attributes.removeAll { $0.name == "num_outputs" || $0.name == "split" }
                if opsetVersion >= 13 {
                    let name = uniqueName("\(graph.nodes[node].displayName).split", in: graph)
                    graph.initializers.append(Tensor(name: name, shape: [sizes.count], int64s: sizes))
                    if graph.nodes[node].inputs.count < 2 { graph.nodes[node].inputs.append(name) } else { graph.nodes[node].inputs[1] = name }
                } else {
                    setAttribute(&graph.nodes[node], Attribute("split", .ints(sizes)))
                }
            }
        }
        write(working, into: &graph)
        updateValueInfo(&graph, analysis: analysis, kept: kept)
    }

    /// Puts changed constants back: in place when the node is the initializer's only reader,
    /// under a new name otherwise (other readers keep the original).
    private static func write(_ working: [Int: [Int: Tensor]], into graph: inout Graph) {
        var readers: [String: Int] = [:]
        for node in graph.nodes { for name in node.inputs where !name.isEmpty { readers[name, default: 0] += 1 } }
        let outputs = Set(graph.outputs.map(\.name))
        var index = Dictionary(graph.initializers.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        for node in working.keys.sorted() {
            for (input, tensor) in working[node]!.sorted(by: { $0.key < $1.key }) {
                let name = graph.nodes[node].inputs[input]
                if readers[name] == 1 && !outputs.contains(name), let i = index[name] {
                    var replacement = tensor
                    replacement.name = name
                    graph.initializers[i] = replacement
                } else {
                    var replacement = tensor
                    replacement.name = uniqueName("\(name).pruned", in: graph)
                    index[replacement.name] = graph.initializers.count
                    graph.initializers.append(replacement)
                    graph.nodes[node].inputs[input] = replacement.name
                    readers[name, default: 1] -= 1
                }
            }
        }
        let used = Set(graph.nodes.flatMap(\.inputs)).union(outputs)
        let declaredInputs = Set(graph.inputs.map(\.name))
        graph.initializers.removeAll { !used.contains($0.name) && !declaredInputs.contains($0.name) }
    }

    /// Declared types of pruned values get their new channel extents.
    private static func updateValueInfo(_ graph: inout Graph, analysis: ChannelAnalysis, kept: [Int: [Int]]) {
        for k in graph.valueInfo.indices {
            guard let layout = analysis.layouts[graph.valueInfo[k].name],
                  var type = graph.valueInfo[k].tensorType, var dims = type.dims, layout.axis < dims.count else { continue }
            dims[layout.axis] = .known(layout.keptFeatures(kept, group: { analysis.groupOfSpace[$0] }).count)
            type.dims = dims
            graph.valueInfo[k].type = .tensor(type)
        }
    }

    /// `tensor` keeping only `indices` (ascending) along `axis`.
    static func sliced(_ tensor: Tensor, axis: Int, keeping indices: [Int]) throws(PruneError) -> Tensor {
        guard let data = tensor.bytes, tensor.elementCount > 0, data.count % tensor.elementCount == 0 else {
            throw .invalidEdit("tensor '\(tensor.name)' cannot be sliced (element type \(tensor.elementType))")
        }
        let elementSize = data.count / tensor.elementCount
        let outer = tensor.shape[..<axis].reduce(1, *)
        let inner = tensor.shape[(axis + 1)...].reduce(1, *) * elementSize
        let extent = tensor.shape[axis]
        var result = Data(count: outer * indices.count * inner)
        data.withUnsafeBytes { (source: UnsafeRawBufferPointer) in
            result.withUnsafeMutableBytes { (target: UnsafeMutableRawBufferPointer) in
                var to = 0
                for o in 0..<outer {
                    for index in indices {
                        let from = (o * extent + index) * inner
                        target.baseAddress!.advanced(by: to).copyMemory(from: source.baseAddress!.advanced(by: from), byteCount: inner)
                        to += inner
                    }
                }
            }
        }
        var shape = tensor.shape
        shape[axis] = indices.count
        return Tensor(name: tensor.name, elementType: tensor.elementType, shape: shape, storage: .bytes(result),
                      docString: tensor.docString, metadata: tensor.metadata)
    }

    private static func setAttribute(_ node: inout Node, _ attribute: Attribute) {
        if let i = node.attributes.firstIndex(where: { $0.name == attribute.name }) {
            node.attributes[i] = attribute
        } else {
            node.attributes.append(attribute)
        }
    }

    private static func uniqueName(_ base: String, in graph: Graph) -> String {
        let taken = Set(graph.initializers.map(\.name)).union(graph.nodes.flatMap(\.outputs)).union(graph.inputs.map(\.name))
        if !taken.contains(base) { return base }
        var k = 2
        while taken.contains("\(base)\(k)") { k += 1 }
        return "\(base)\(k)"
    }
}
