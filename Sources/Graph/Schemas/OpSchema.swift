/// Everything Pare knows about one operator, found by its op type and domain: how its output
/// shapes follow from its inputs, and what it costs. Adding an op means adding one schema entry
/// (and, for execution, one kernel file in Runtime).
public struct OpSchema: Sendable {
    public typealias ShapeRule = @Sendable (inout InferenceContext) throws(GraphError) -> Void
    public typealias CostRule = @Sendable (CostContext) -> OpCost?

    public let opType: String
    /// "" for the default ONNX domain.
    public let domain: String
    /// Sets `context.outputs` (and, for shape-computing ops, `context.outputValues`).
    public let inferShapes: ShapeRule
    /// MACs and FLOPs for one execution; nil when the shapes it needs are unknown.
    public let cost: CostRule
    /// How channels pass through the op, for channel pruning (`.opaque` unless the op says).
    public private(set) var channels: ChannelRule

    public init(_ opType: String, domain: String = "", shape: @escaping ShapeRule, cost: @escaping CostRule,
                channels: ChannelRule = .opaque) {
        self.opType = opType
        self.domain = domain
        self.inferShapes = shape
        self.cost = cost
        self.channels = channels
    }

    /// This schema with channel rule `rule`.
    func channels(_ rule: ChannelRule) -> OpSchema {
        var copy = self
        copy.channels = rule
        return copy
    }
}

/// The cost of running one node once.
public struct OpCost: Sendable, Hashable {
    /// Multiply-accumulates (dot-product work only; see docs/counting.md).
    public var macs: Int
    /// Floating-point operations: 2·MACs plus bias and elementwise work.
    public var flops: Int

    public init(macs: Int = 0, flops: Int = 0) {
        self.macs = macs
        self.flops = flops
    }

    public static let zero = OpCost()
}

/// What a cost rule sees of a node whose shapes have been inferred.
public struct CostContext: Sendable {
    public let node: Node
    public let inputs: [TensorType?]
    public let outputs: [TensorType?]

    public init(node: Node, inputs: [TensorType?], outputs: [TensorType?]) {
        self.node = node
        self.inputs = inputs
        self.outputs = outputs
    }

    /// Static shape of input `i`, when known.
    public func inputShape(_ i: Int) -> [Int]? { i < inputs.count ? inputs[i]?.staticShape : nil }

    /// Static shape of output `i`, when known.
    public func outputShape(_ i: Int) -> [Int]? { i < outputs.count ? outputs[i]?.staticShape : nil }

    /// True when input `i` is present (not omitted).
    public func hasInput(_ i: Int) -> Bool { node.input(i) != nil }
}
