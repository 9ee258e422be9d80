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
/// bias and activation to that reader (see `handFinishesToDepthwiseReaders`). The rewrite happens
/// on the session's private copy of the graph; the model itself is not changed (`convert
/// optimize` does that to files).
enum ConvFusion {
    /// A fused conv: what its kernel adds, and the ops it stands for ("Conv+BatchNormalization+Relu").
    struct Fused {
        var epilogue: ConvEpilogue
        var label: String
    }

    /// What fusing did to a graph, by node of the rewritten graph. (Arrays indexed by node rather
    /// than dictionaries keyed by it, here and in Session: the first dictionary keyed by Int in a
    /// process costs a runtime conformance scan, tens of microseconds of a small model's load.)
    struct Outcome {
        /// What each node fuses (nil: nothing).
        var fused: [Fused?]
        /// Each node's index in the graph before the rewrite (fusing removes nodes, keeping order).
        var originalIndex: [Int]
    }

    /// Rewrites `graph`, fusing the nodes after its convs into them.
    static func fuse(_ graph: inout Graph, opsetVersion: Int64) -> Outcome {
        // Loading a model runs this every time: nodes are looked at in place (a copy of a node
        // retains each of its fields), and tables are sized up front.
        var constants = ConstantTable(graph)
        // The node that reads each value, or -1 for a value read more than once.
        var reader: [String: Int] = [:]
        reader.reserveCapacity(graph.nodes.count * 2)
        for i in graph.nodes.indices {
            for name in graph.nodes[i].inputs where !name.isEmpty {
                if reader.updateValue(i, forKey: name) != nil { reader[name] = -1 }
            }
        }
        let graphOutputs = Set(graph.outputs.map(\.name))
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
        // Names in use, gathered when a folded weight first needs a fresh one.
        var usedNames: Set<String>?
        var removed = [Bool](repeating: false, count: graph.nodes.count)
        var removedCount = 0
        func remove(_ node: Int) {
            removed[node] = true
            removedCount += 1
        }
        /// The node that alone reads `value`, when `value` is not a graph output and that node
        /// is not already fused into another conv (a residual Add between two conv branches).
        func soleReader(of value: String) -> Int? {
            guard let r = reader[value], r >= 0, !removed[r], !graphOutputs.contains(value) else { return nil }
            return r
        }
        func floats(_ name: String?) -> [Float]? {
            guard let name, let tensor = constants[name], tensor.elementType == .float32,
                  case .bytes(let data) = tensor.storage, data.count == tensor.shape.reduce(1, *) * 4 else { return nil }
            // The bytes may sit at any alignment (a slice of a mapped file), so they are copied.
            var values = [Float](repeating: 0, count: data.count / 4)
            values.withUnsafeMutableBytes { _ = data.copyBytes(to: $0) }
            return values
        }
        func isFloatConstant(_ name: String?) -> Bool {
            guard let name, let tensor = constants[name], tensor.elementType == .float32 else { return false }
            return tensor.bytes?.count == tensor.elementCount * 4
        }
        func unique(_ base: String) -> String {
            if usedNames == nil {
                var names = Set(graph.initializers.map(\.name))
                for node in graph.nodes { names.formUnion(node.outputs) }
                names.formUnion(graph.inputs.map(\.name))
                usedNames = names
            }
            var name = base, n = 1
            while usedNames!.contains(name) {
                n += 1
                name = "\(base)_\(n)"
            }
            usedNames!.insert(name)
            return name
        }

        var fusedByConv = [Fused?](repeating: nil, count: graph.nodes.count)
        // The convs to rewrite, and their new forms (arrays of types the load path uses anyway:
        // each new element type costs its metadata the first time in a process).
        var rewrittenConvs: [Int] = [], rewrittenNodes: [Node] = []
        var foldedInitializers: [Tensor] = []
        for c in graph.nodes.indices where graph.nodes[c].opType == "Conv" {
            let conv = graph.nodes[c]
            guard conv.isDefaultDomain, conv.outputs.count == 1, let x = conv.input(0),
                  !constants.contains(x), conv.input(1) != nil else { continue }
            // Only BatchNorm folding needs the weights' values (read lazily: they are the bulk of a
            // model); the epilogue fuses onto weights computed at load (dequantized) as well.
            let weightShape = isFloatConstant(conv.input(1)) && (conv.input(2) == nil || isFloatConstant(conv.input(2)))
                ? constants[conv.inputs[1]]!.shape : nil
            let outputChannels = weightShape?.first ?? 0
            var weight: [Float] = [], bias: [Float]?
            var current = conv.outputs[0]
            var label = "Conv"
            var epilogue = ConvEpilogue()
            var summand: String?
            var foldsBatchNormalization = false

            if weightShape != nil, let b = soleReader(of: current),
               let folded = batchNormalization(graph.nodes[b], input: current, channels: outputChannels, floats: floats),
               let weights = floats(conv.input(1)) {
                weight = weights
                bias = floats(conv.input(2))
                let perChannel = weight.count / max(1, outputChannels)
                for o in 0..<outputChannels {
                    for k in 0..<perChannel { weight[o * perChannel + k] = Float(Double(weight[o * perChannel + k]) * folded.scale[o]) }
                }
                bias = (0..<outputChannels).map { o in Float(Double(bias?[o] ?? 0) * folded.scale[o] + folded.shift[o]) }
                remove(b)
                foldsBatchNormalization = true
                label += "+BatchNormalization"
                current = graph.nodes[b].outputs[0]
            }
            if let a = soleReader(of: current), isResidualCandidate(graph.nodes[a], input: current), let types = types(),
               let other = residual(graph.nodes[a], input: current, types: types),
               !constants.contains(other) {
                remove(a)
                label += "+Add"
                summand = other
                epilogue.addsSummand = true
                current = graph.nodes[a].outputs[0]
            }
            if let r = soleReader(of: current), let activation = activation(graph.nodes[r], input: current, opsetVersion: opsetVersion,
                                                                           floats: floats) {
                remove(r)
                label += "+" + graph.nodes[r].opType
                epilogue.activation = activation
                current = graph.nodes[r].outputs[0]
            }
            guard label != "Conv" else { continue }

            var inputs: [String]
            if foldsBatchNormalization {
                let base = conv.name.isEmpty ? conv.outputs[0] : conv.name
                let weightName = unique(base + ".fused_weight"), biasName = unique(base + ".fused_bias")
                let foldedWeight = Tensor(name: weightName, shape: constants[conv.inputs[1]]!.shape, floats: weight)
                let foldedBias = Tensor(name: biasName, shape: [outputChannels], floats: bias ?? [])
                foldedInitializers += [foldedWeight, foldedBias]
                constants.add(foldedWeight)
                constants.add(foldedBias)
                inputs = [x, weightName, biasName]
            } else {
                inputs = [x, conv.input(1)!, conv.input(2) ?? ""]
            }
            if let summand { inputs.append(summand) }
            var node = conv
            node.inputs = inputs
            node.outputs = [current]
            rewrittenConvs.append(c)
            rewrittenNodes.append(node)
            fusedByConv[c] = Fused(epilogue: epilogue, label: label)
        }
        guard removedCount > 0 else {
            return Outcome(fused: [Fused?](repeating: nil, count: graph.nodes.count), originalIndex: Array(graph.nodes.indices))
        }
        graph.initializers += foldedInitializers
        for (c, node) in zip(rewrittenConvs, rewrittenNodes) { graph.nodes[c] = node }
        handFinishesToDepthwiseReaders(&graph, fused: &fusedByConv, constants: constants, soleReader: soleReader)
        var originalIndex: [Int] = []
        originalIndex.reserveCapacity(graph.nodes.count - removedCount)
        for i in graph.nodes.indices where !removed[i] {
            let kept = originalIndex.count
            if kept != i {
                graph.nodes.swapAt(kept, i)
                fusedByConv.swapAt(kept, i)
            }
            originalIndex.append(i)
        }
        graph.nodes.removeLast(removedCount)
        fusedByConv.removeLast(removedCount)
        let outcome = Outcome(fused: fusedByConv, originalIndex: originalIndex)
        // Folded weights replace the originals; drop originals no remaining node reads.
        guard !foldedInitializers.isEmpty else { return outcome }
        var read = Set(graph.outputs.map(\.name))
        for node in graph.nodes { read.formUnion(node.inputs) }
        read.formUnion(graph.inputs.map(\.name))
        graph.initializers.removeAll { !read.contains($0.name) }
        return outcome
    }

    /// Per-channel scale and shift of an inference-mode BatchNormalization reading `input`, with
    /// constant float32 parameters for `channels` channels.
    private static func batchNormalization(
        _ node: Node, input: String, channels: Int, floats: (String?) -> [Float]?
    ) -> (scale: [Double], shift: [Double])? {
        guard node.opType == "BatchNormalization", node.isDefaultDomain, node.input(0) == input,
              node.outputs.dropFirst().allSatisfy(\.isEmpty), node.int("training_mode", default: 0) == 0,
              node.int("spatial", default: 1) == 1,
              let gamma = floats(node.input(1)), let beta = floats(node.input(2)),
              let mean = floats(node.input(3)), let variance = floats(node.input(4)),
              [gamma, beta, mean, variance].allSatisfy({ $0.count == channels }) else { return nil }
        let epsilon = Double(node.float("epsilon") ?? 1e-5)
        let scale = (0..<channels).map { Double(gamma[$0]) / (Double(variance[$0]) + epsilon).squareRoot() }
        let shift = (0..<channels).map { Double(beta[$0]) - Double(mean[$0]) * scale[$0] }
        return (scale, shift)
    }

    /// True for a two-input Add reading `input`: the nodes worth inferring shapes for.
    private static func isResidualCandidate(_ node: Node, input: String) -> Bool {
        node.opType == "Add" && node.isDefaultDomain && node.inputs.count == 2 && node.outputs.count == 1 && node.inputs.contains(input)
    }

    /// The other operand of an Add reading `input`, when it has exactly the type of `input`
    /// (equal dims, or the same symbols), so the sum has the conv output's shape.
    private static func residual(_ node: Node, input: String, types: InferredTypes) -> String? {
        guard node.opType == "Add", node.isDefaultDomain, node.inputs.count == 2, node.outputs.count == 1 else { return nil }
        let other = node.inputs[0] == input ? node.inputs[1] : node.inputs[0]
        guard node.inputs.contains(input), other != input, !other.isEmpty,
              let mine = types.type(of: input), let theirs = types.type(of: other),
              mine.elementType == .float32, theirs.elementType == .float32,
              let dims = mine.dims, dims == theirs.dims,
              dims.allSatisfy({ if case .unknown = $0 { false } else { true } }) else { return nil }
        return other
    }

    /// The activation a node applies to `input`, when the conv epilogue can apply it.
    private static func activation(
        _ node: Node, input: String, opsetVersion: Int64, floats: (String?) -> [Float]?
    ) -> ConvEpilogue.Activation? {
        guard node.isDefaultDomain, node.input(0) == input, node.outputs.count == 1 else { return nil }
        switch node.opType {
        case "Relu": return node.inputs.count == 1 ? .relu : nil
        case "LeakyRelu": return .leakyRelu(alpha: node.float("alpha") ?? 0.01)
        case "HardSigmoid": return .hardSigmoid(alpha: node.float("alpha") ?? 0.2, beta: node.float("beta") ?? 0.5)
        case "HardSwish": return .hardSwish
        case "Sigmoid": return .sigmoid
        case "Tanh": return .tanh
        case "Clip":
            var bounds: [Float?] = [node.float("min"), node.float("max")]
            if opsetVersion >= 11 {
                bounds = []
                for i in 1...2 {
                    guard let name = node.input(i) else {
                        bounds.append(nil)
                        continue
                    }
                    guard let value = floats(name), value.count == 1 else { return nil }
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
