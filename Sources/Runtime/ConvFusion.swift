import Graph

/// Fuses, at session creation, the nodes that follow a Conv into the conv's kernel:
///
///     Conv → [BatchNormalization] → [Add(residual)] → [activation]
///
/// A BatchNormalization with constant parameters is folded into the conv's weight and bias; a
/// residual Add whose other operand has the conv output's shape becomes an input the conv adds
/// to each output block; Relu, LeakyRelu, Clip, HardSigmoid, HardSwish, Sigmoid and Tanh run on
/// the block while it is in cache. Each fused value must have the next node as its only reader
/// and must not be a graph output. A fused conv read only by a depthwise 3×3 conv then leaves its
/// bias and activation to that reader (see `handFinishesToDepthwiseReaders`). The graph is not
/// rewritten: the outcome says which nodes are gone and what replaces the fused convs, and the
/// session runs that (`convert optimize` rewrites files).
enum ConvFusion {
    /// A fused conv: what its kernel adds, and the ops it stands for ("Conv+BatchNormalization+Relu").
    /// Plain data (no strings): an array of one per node is made at each load.
    struct Fused {
        var epilogue: ConvEpilogue
        var foldsBatchNormalization = false

        /// What the fused node stands for, as "Conv+BatchNormalization+Relu" (built when asked:
        /// only profiles show it).
        var label: String {
            var label = "Conv"
            if foldsBatchNormalization { label += "+BatchNormalization" }
            if epilogue.addsSummand { label += "+Add" }
            if let activation = epilogue.activation { label += "+" + activation.opType }
            if epilogue.leavesFinishToReader { label += " (finish in reader)" }
            return label
        }
    }

    /// What fusing does to a graph, by node index. (Arrays indexed by node rather than
    /// dictionaries keyed by it, here and in Session: the first dictionary keyed by Int in a
    /// process costs a runtime conformance scan, tens of microseconds of a small model's load.)
    /// Kept nodes are not copied: copying each node of a small model was a tenth of its load.
    struct Outcome {
        /// What each node fuses (nil: nothing).
        var fused: [Fused?]
        /// The nodes fused into a conv, which no longer run.
        var removed: [Bool]
        /// The new form of each rewritten conv (its inputs, and its output: the last fused node's),
        /// at `replacementOf[node]` (-1 for a node not rewritten; empty when none is). Only the
        /// rewritten nodes are held: an entry for every node cost a node's copy each. (Not an
        /// array of optional nodes: testing one of those for nil copied the node.)
        var replacements: [Node], replacementOf: [Int]
        /// Weights BatchNormalization folding made, and their value ids (ids without names).
        var foldedWeights: [Tensor], foldedIDs: [Int]
        /// Per initializer: false for those only removed nodes or replaced weights read (nil: all are read).
        var readsInitializer: [Bool]?

        /// Node `i` as it runs (a copy).
        func node(_ i: Int, of graph: Graph) -> Node { graph.nodes.withUnsafeBufferPointer { withNode(i, of: $0) { $0 } } }

        /// Calls `body` with node `i` as it runs, without copying it.
        func withNode<R>(_ i: Int, of nodes: UnsafeBufferPointer<Node>, _ body: (Node) throws -> R) rethrows -> R {
            try withNodePointer(i, of: nodes) { try body($0.pointee) }
        }

        /// Calls `body` with the address of node `i` as it runs (valid during the call).
        func withNodePointer<R>(_ i: Int, of nodes: UnsafeBufferPointer<Node>, _ body: (UnsafePointer<Node>) throws -> R) rethrows -> R {
            guard !replacementOf.isEmpty, case let slot = replacementOf[i], slot >= 0 else { return try body(nodes.baseAddress! + i) }
            return try replacements.withUnsafeBufferPointer { try body($0.baseAddress! + slot) }
        }

        /// Makes node `i` a replaced one, a copy of `nodes[i]` unless it already is, and returns
        /// its position in `replacements`, where it is edited in place.
        static func replace(_ i: Int, of nodes: UnsafeBufferPointer<Node>, in replacements: inout [Node], replacementOf: inout [Int]) -> Int {
            if replacementOf.isEmpty { replacementOf = Array(repeating: -1, count: nodes.count) }
            if replacementOf[i] < 0 {
                replacementOf[i] = replacements.count
                replacements.append(nodes[i])
            }
            return replacementOf[i]
        }

        /// No fusion: every node runs as it is.
        static func none(nodeCount: Int) -> Outcome {
            Outcome(fused: Array(repeating: nil, count: nodeCount), removed: Array(repeating: false, count: nodeCount),
                    replacements: [], replacementOf: [], foldedWeights: [], foldedIDs: [], readsInitializer: nil)
        }
    }

    /// Fuses the nodes after `graph`'s convs into them, and keeps `numbering` (of `graph`) in
    /// step: a rewritten conv's ids are its new inputs and output, and folded weights get ids.
    static func fuse(_ graph: Graph, numbering: inout ValueNumbering, opsetVersion: Int64) -> Outcome {
        // Nodes are read through a buffer pointer and handed to helpers by address: handing
        // `graph.nodes[i]`, or a buffer's element, to a function copied the node (a retain of
        // each field), a tenth of a small model's load.
        graph.nodes.withUnsafeBufferPointer { nodes in fuse(graph, nodes: nodes, numbering: &numbering, opsetVersion: opsetVersion) }
    }

    private static func fuse(_ graph: Graph, nodes: UnsafeBufferPointer<Node>, numbering: inout ValueNumbering,
                             opsetVersion: Int64) -> Outcome {
        // Loading a model runs this every time: values are looked up by id, nodes are looked at
        // in place (a copy of a node retains each of its fields), and tables are sized up front.
        var constants = ConstantTable(graph, numbering: numbering)
        // The node that reads each value: -2 for none, -1 for a value read more than once.
        var readers = [Int](repeating: -2, count: numbering.count)
        for (i, inputs) in numbering.nodeInputs.enumerated() {
            for id in inputs where id >= 0 { readers[id] = readers[id] == -2 ? i : -1 }
        }
        var graphOutputs = [Bool](repeating: false, count: numbering.count)
        for id in numbering.outputIDs { graphOutputs[id] = true }
        // Constants from here on: the closures below read them without access checks.
        let reader = readers, isGraphOutput = graphOutputs
        // Shapes (symbolic where inputs are) decide whether a residual operand matches the output.
        // They are inferred at the first residual candidate (inference is most of a small model's
        // load time, and models without residual Adds never need it), on the graph as it was:
        // rewrites are collected and made after the search.
        var inferred: InferredTypes??
        func types() -> InferredTypes? {
            if let inferred { return inferred }
            let result = try? ShapeInference.infer(graph, opsetVersion: opsetVersion)
            inferred = .some(result)
            return result
        }
        var removed = [Bool](repeating: false, count: nodes.count)
        var removedCount = 0
        func remove(_ node: Int) {
            removed[node] = true
            removedCount += 1
        }
        /// The node that alone reads value `id`, when the value is not a graph output and that
        /// node is not already fused into another conv (a residual Add between two conv branches).
        func soleReader(of id: Int) -> Int? {
            guard id >= 0, id < reader.count, case let r = reader[id], r >= 0, !removed[r], !isGraphOutput[id] else { return nil }
            return r
        }
        func floats(_ id: Int) -> [Float]? {
            guard constants.isFloat32(id), let tensor = constants[id], case .bytes(let data) = tensor.storage else { return nil }
            // The bytes may sit at any alignment (a slice of a mapped file), so they are copied.
            var values = [Float](repeating: 0, count: data.count / 4)
            values.withUnsafeMutableBytes { _ = data.copyBytes(to: $0) }
            return values
        }
        /// A name no value has yet, and an id looked up by id only (the numbering's name table
        /// stays as it is: it may be the one the file was read with).
        var madeNames: [String] = []
        func unique(_ base: String) -> (name: String, id: Int) {
            var name = base, n = 1
            while numbering[name] != nil || madeNames.contains(name) {
                n += 1
                name = "\(base)_\(n)"
            }
            madeNames.append(name)
            return (name, numbering.newID())
        }

        var fusedByConv = [Fused?](repeating: nil, count: nodes.count)
        // The new form of each rewritten conv, by node (see `Outcome.replacements`).
        var replacements: [Node] = [], replacementOf: [Int] = []
        var foldedInitializers: [Tensor] = [], foldedIDs: [Int] = []
        for c in nodes.indices where nodes[c].opType == "Conv" {
            let convInputs = numbering.nodeInputs[c], convOutputs = numbering.nodeOutputs[c]
            guard nodes[c].isDefaultDomain, convOutputs.count == 1, convInputs.count >= 2, case let x = convInputs[0], x >= 0,
                  !constants.contains(x), convInputs[1] >= 0 else { continue }
            let w = convInputs[1], b = convInputs.count > 2 ? convInputs[2] : -1
            // Only BatchNorm folding needs the weights' values (read lazily: they are the bulk of a
            // model); the epilogue fuses onto weights computed at load (dequantized) as well.
            let weightShape = constants.isFloat32(w) && (b < 0 || constants.isFloat32(b)) ? constants.shape(w) : nil
            let outputChannels = weightShape?.first ?? 0
            var weight: [Float] = [], bias: [Float]?
            // The value the fused chain ends in so far, and the node that produces it.
            var current = convOutputs[0], producer = c
            var fused = Fused(epilogue: ConvEpilogue())
            var summand: (name: String, id: Int)?

            if weightShape != nil, let n = soleReader(of: current),
               let folded = batchNormalization(nodes.baseAddress! + n, inputs: numbering.nodeInputs[n], reading: current,
                                               channels: outputChannels, floats: floats),
               let weights = floats(w) {
                weight = weights
                bias = b < 0 ? nil : floats(b)
                let perChannel = weight.count / max(1, outputChannels)
                for o in 0..<outputChannels {
                    for k in 0..<perChannel { weight[o * perChannel + k] = Float(Double(weight[o * perChannel + k]) * folded.scale[o]) }
                }
                bias = (0..<outputChannels).map { o in Float(Double(bias?[o] ?? 0) * folded.scale[o] + folded.shift[o]) }
                remove(n)
                fused.foldsBatchNormalization = true
                (current, producer) = (numbering.nodeOutputs[n][0], n)
            }
            if let a = soleReader(of: current), isResidualCandidate(nodes.baseAddress! + a, inputs: numbering.nodeInputs[a], reading: current),
               let types = types(),
               let other = residual(nodes.baseAddress! + a, input: nodes[producer].outputs[0], types: types),
               case let addInputs = numbering.nodeInputs[a], case let otherID = addInputs[0] == current ? addInputs[1] : addInputs[0],
               otherID >= 0, !constants.contains(otherID) {
                remove(a)
                summand = (other, otherID)
                fused.epilogue.addsSummand = true
                (current, producer) = (numbering.nodeOutputs[a][0], a)
            }
            if let r = soleReader(of: current),
               let activation = activation(nodes.baseAddress! + r, inputs: numbering.nodeInputs[r], outputs: numbering.nodeOutputs[r],
                                           reading: current, opsetVersion: opsetVersion, floats: floats) {
                remove(r)
                fused.epilogue.activation = activation
                (current, producer) = (numbering.nodeOutputs[r][0], r)
            }
            guard producer != c else { continue }

            let slot = Outcome.replace(c, of: nodes, in: &replacements, replacementOf: &replacementOf)
            let original = nodes[c].inputs
            // A conv with a bias that only gains an activation keeps its inputs (no arrays to make).
            var inputIDs: [Int]? = nil
            if fused.foldsBatchNormalization {
                let base = nodes[c].name.isEmpty ? nodes[c].outputs[0] : nodes[c].name
                let foldedWeight = unique(base + ".fused_weight"), foldedBias = unique(base + ".fused_bias")
                let weightTensor = Tensor(name: foldedWeight.name, shape: weightShape!, floats: weight)
                let biasTensor = Tensor(name: foldedBias.name, shape: [outputChannels], floats: bias ?? [])
                foldedInitializers += [weightTensor, biasTensor]
                foldedIDs += [foldedWeight.id, foldedBias.id]
                constants.add(weightTensor, id: foldedWeight.id)
                constants.add(biasTensor, id: foldedBias.id)
                replacements[slot].inputs = [original[0], foldedWeight.name, foldedBias.name]
                inputIDs = [x, foldedWeight.id, foldedBias.id]
            } else if summand != nil || original.count != 3 {
                replacements[slot].inputs = [original[0], original[1], b < 0 ? "" : original[2]]
                inputIDs = [x, w, b]
            }
            if let summand {
                replacements[slot].inputs.append(summand.name)
                inputIDs?.append(summand.id)
            }
            replacements[slot].outputs = [nodes[producer].outputs[0]]
            if let inputIDs { numbering.nodeInputs.replace(c, with: inputIDs) }
            fusedByConv[c] = fused
            numbering.nodeOutputs.replace(c, with: CollectionOfOne(current))
        }
        var outcome = Outcome(fused: consume fusedByConv, removed: removed, replacements: consume replacements, replacementOf: consume replacementOf,
                              foldedWeights: foldedInitializers, foldedIDs: foldedIDs, readsInitializer: nil)
        guard removedCount > 0 else { return outcome }
        handFinishesToDepthwiseReaders(nodes, outcome: &outcome, numbering: &numbering, constants: constants, soleReader: soleReader)
        // Folded weights replace the originals; originals no remaining node reads are left out.
        guard !foldedInitializers.isEmpty else { return outcome }
        var read = [Bool](repeating: false, count: numbering.count)
        for i in nodes.indices where !removed[i] { for id in numbering.nodeInputs[i] where id >= 0 { read[id] = true } }
        for id in numbering.inputIDs + numbering.outputIDs { read[id] = true }
        outcome.readsInitializer = numbering.initializerIDs.map { read[$0] }
        return outcome
    }

    /// Per-channel scale and shift of an inference-mode BatchNormalization reading value `input`
    /// (`inputs`: the node's input ids), with constant float32 parameters for `channels` channels.
    private static func batchNormalization(
        _ node: UnsafePointer<Node>, inputs: NodeValueIDs.IDs, reading input: Int, channels: Int, floats: (Int) -> [Float]?
    ) -> (scale: [Double], shift: [Double])? {
        guard node.pointee.opType == "BatchNormalization", node.pointee.isDefaultDomain, inputs.count >= 5, inputs[0] == input,
              node.pointee.outputs.dropFirst().allSatisfy(\.isEmpty), node.pointee.int("training_mode", default: 0) == 0,
              node.pointee.int("spatial", default: 1) == 1,
              let gamma = floats(inputs[1]), let beta = floats(inputs[2]),
              let mean = floats(inputs[3]), let variance = floats(inputs[4]),
              [gamma, beta, mean, variance].allSatisfy({ $0.count == channels }) else { return nil }
        let epsilon = Double(node.pointee.float("epsilon") ?? 1e-5)
        let scale = (0..<channels).map { Double(gamma[$0]) / (Double(variance[$0]) + epsilon).squareRoot() }
        let shift = (0..<channels).map { Double(beta[$0]) - Double(mean[$0]) * scale[$0] }
        return (scale, shift)
    }

    /// True for a two-input Add reading value `input`: the nodes worth inferring shapes for.
    private static func isResidualCandidate(_ node: UnsafePointer<Node>, inputs: NodeValueIDs.IDs, reading input: Int) -> Bool {
        node.pointee.opType == "Add" && node.pointee.isDefaultDomain && inputs.count == 2 && node.pointee.outputs.count == 1 && inputs.contains(input)
    }

    /// The other operand of an Add reading `input`, when it has exactly the type of `input`
    /// (equal dims, or the same symbols), so the sum has the conv output's shape.
    private static func residual(_ node: UnsafePointer<Node>, input: String, types: InferredTypes) -> String? {
        guard node.pointee.opType == "Add", node.pointee.isDefaultDomain, node.pointee.inputs.count == 2, node.pointee.outputs.count == 1 else { return nil }
        let other = node.pointee.inputs[0] == input ? node.pointee.inputs[1] : node.pointee.inputs[0]
        guard node.pointee.inputs.contains(input), other != input, !other.isEmpty,
              let mine = types.type(of: input), let theirs = types.type(of: other),
              mine.elementType == .float32, theirs.elementType == .float32,
              let dims = mine.dims, dims == theirs.dims,
              dims.allSatisfy({ if case .unknown = $0 { false } else { true } }) else { return nil }
        return other
    }

    /// The activation a node applies to value `input` (`inputs`, `outputs`: the node's value
    /// ids), when the conv epilogue can apply it.
    private static func activation(
        _ node: UnsafePointer<Node>, inputs: NodeValueIDs.IDs, outputs: NodeValueIDs.IDs, reading input: Int, opsetVersion: Int64, floats: (Int) -> [Float]?
    ) -> ConvEpilogue.Activation? {
        guard node.pointee.isDefaultDomain, inputs.first == input, outputs.count == 1, outputs[0] >= 0 else { return nil }
        switch node.pointee.opType {
        case "Relu": return inputs.count == 1 ? .relu : nil
        case "LeakyRelu": return .leakyRelu(alpha: node.pointee.float("alpha") ?? 0.01)
        case "HardSigmoid": return .hardSigmoid(alpha: node.pointee.float("alpha") ?? 0.2, beta: node.pointee.float("beta") ?? 0.5)
        case "HardSwish": return .hardSwish
        case "Sigmoid": return .sigmoid
        case "Tanh": return .tanh
        case "Clip":
            var bounds: [Float?] = [node.pointee.float("min"), node.pointee.float("max")]
            if opsetVersion >= 11 {
                bounds = []
                for i in 1...2 {
                    guard i < inputs.count, inputs[i] >= 0 else {
                        bounds.append(nil)
                        continue
                    }
                    guard let value = floats(inputs[i]), value.count == 1 else { return nil }
                    bounds.append(value[0])
                }
            }
            // A NaN bound makes every output NaN, which the vector clamp does not reproduce.
            if bounds.contains(where: { $0?.isNaN == true }) { return nil }
            return .clip(lower: bounds[0], upper: bounds[1])
        default: return nil
        }
    }
}
