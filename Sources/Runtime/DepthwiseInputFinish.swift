import Graph

extension ConvFusion {
    /// Moves the bias and activation of a fused conv into its reader when that reader is a
    /// depthwise conv, as in every MobileNet block (expansion 1×1 conv, then depthwise 3×3). The
    /// depthwise 3×3 kernel copies each input plane into a padded scratch anyway, and applying
    /// `clamp(x + bias)` during that copy is nearly free, where the producer's own pass over its
    /// output cost half a millisecond of MobileNetV2's 8.8. Other depthwise convs finish each
    /// input plane in place just before their stencil reads it.
    ///
    /// A producer qualifies when it adds no residual and its activation is Relu or Clip (or
    /// none: bias only), its bias is absent or a float32 constant, and its output is read only by
    /// the depthwise conv's input 0 (not a graph output: `soleReader` ensures both). The reader
    /// qualifies when it is a 2-D Conv whose weight is a float32 constant of shape [C, 1, kH, kW]
    /// with group C: one output channel per input channel, so each input plane is read by one
    /// output. The producer's bias becomes a trailing input of the reader.
    static func handFinishesToDepthwiseReaders(
        _ nodes: UnsafeBufferPointer<Node>, outcome: inout Outcome, numbering: inout ValueNumbering, constants: ConstantTable,
        soleReader: (Int) -> Int?
    ) {
        for producer in outcome.fused.indices where outcome.fused[producer] != nil {
            guard let epilogue = outcome.fused[producer]?.epilogue, !epilogue.addsSummand, !epilogue.leavesFinishToReader,
                  let bounds = clampBounds(epilogue.activation) else { continue }
            let producerInputs = numbering.nodeInputs[producer]
            let bias = producerInputs.count > 2 ? producerInputs[2] : -1
            if bias >= 0 && constants.elementType(bias) != .float32 { continue }
            guard let output = numbering.nodeOutputs[producer].first, let reader = soleReader(output),
                  outcome.fused[reader]?.epilogue.inputFinish == nil, nodes[reader].opType == "Conv",
                  outcome.withNodePointer(reader, of: nodes, { isDepthwise($0, inputs: numbering.nodeInputs[reader], reading: output, constants: constants) })
            else { continue }
            var biasInput: Int?
            if bias >= 0 {
                let producerBias = outcome.withNode(producer, of: nodes) { $0.inputs[2] }
                let slot = Outcome.replace(reader, of: nodes, in: &outcome.replacements, replacementOf: &outcome.replacementOf)
                biasInput = outcome.replacements[slot].inputs.count
                outcome.replacements[slot].inputs.append(producerBias)
                numbering.nodeInputs.append(bias, toNode: reader)
            }
            outcome.fused[producer]!.epilogue.leavesFinishToReader = true
            var readerFused = outcome.fused[reader] ?? Fused(epilogue: ConvEpilogue())
            readerFused.epilogue.inputFinish = .init(lower: bounds.lower, upper: bounds.upper, biasInput: biasInput)
            outcome.fused[reader] = readerFused
        }
    }

    /// The clamp an activation is, when it is one: none (−∞, ∞), Relu [0, ∞) or Clip.
    private static func clampBounds(_ activation: ConvEpilogue.Activation?) -> (lower: Float, upper: Float)? {
        switch activation {
        case nil: return (-.infinity, .infinity)
        case .relu: return (0, .infinity)
        case .clip(let lower, let upper): return (lower ?? -.infinity, upper ?? .infinity)
        default: return nil
        }
    }

    /// True for a 2-D depthwise Conv reading value `input` (`inputs`: the node's input ids) with
    /// one output channel per input channel.
    private static func isDepthwise(_ node: UnsafePointer<Node>, inputs: NodeValueIDs.IDs, reading input: Int, constants: ConstantTable) -> Bool {
        guard node.pointee.opType == "Conv", node.pointee.isDefaultDomain, inputs.count >= 2, inputs[0] == input, node.pointee.outputs.count == 1,
              constants.elementType(inputs[1]) == .float32, let shape = constants.shape(inputs[1]),
              shape.count == 4, shape[1] == 1, shape[0] > 1 else { return false }
        return node.pointee.int("group", default: 1) == Int64(shape[0])
    }
}
