import Graph

/// Channels that must be pruned as one unit: every output channel of its producers, and the same
/// channel wherever it flows (through activations, BatchNorm, pooling, residual Adds, Concat
/// offsets, depthwise convs, Flatten blocks) up to the layers that contract it.
public struct ChannelGroup: Sendable, Hashable, Codable {
    public var id: Int
    /// Channels in the group (before pruning).
    public var channels: Int
    /// Nodes whose output channels these are (convs, transposed convs, Gemm/MatMul).
    public var producers: [String]
    /// Nodes that contract the channels (the next layers): what reconstruction re-fits.
    public var consumers: [String]
    /// Values that carry the channels.
    public var values: [String]
    /// The producers' node names (or, for a nameless node, its first output): what `--skip` and
    /// `--ratio-for` accept besides the labels in `producers` and the names in `values`.
    public var producerNodes: [String] = []
    /// Why the group cannot be pruned; empty when it can.
    public var blockers: [String]

    public var isPrunable: Bool { blockers.isEmpty }

    /// Every name a user may give for this group.
    public var names: Set<String> { Set(producers + producerNodes + values) }
}

/// A change that removing channels makes to a node: the layout named decides which features stay.
enum ChannelEdit: Sendable, Hashable {
    /// Constant input `input` is sliced along `axis` (when its extent there is the layout's).
    case slice(node: Int, input: Int, axis: Int, layoutOf: String)
    /// Entry `entry` of the 1-D integer constant `input` becomes the layout's new extent.
    case extent(node: Int, input: Int, entry: Int, layoutOf: String)
    /// A depthwise convolution's `group` becomes the layout's new extent.
    case group(node: Int, layoutOf: String)
    /// A channel-axis Split's sizes become its outputs' new extents.
    case splitSizes(node: Int, axis: Int)
    /// A channel-axis Slice keeps `segments` of its input's layout: entry `entry` of its starts
    /// and ends becomes the kept features before them and through them.
    case channelRange(node: Int, entry: Int, layoutOf: String, segments: Range<Int>)
}

/// A node that contracts channels: the layer whose output reconstruction re-fits.
struct ChannelConsumer: Sendable, Hashable {
    enum Kind: Sendable, Hashable { case conv, convTranspose, gemm, matMul }
    var node: Int
    var kind: Kind
    /// The value whose channels it contracts (input 0).
    var input: String
}

/// The channel groups of a graph, and what pruning each one changes: computed once on the IR
/// from each op's `ChannelRule`.
public struct ChannelAnalysis: Sendable {
    public let groups: [ChannelGroup]
    let layouts: [String: ChannelLayout]
    let edits: [ChannelEdit]
    let consumers: [ChannelConsumer]
    /// The group of each channel space.
    let groupOfSpace: [Int]

    /// Analyzes `graph` (whose shapes must be inferable; static input shapes give the most groups).
    /// - Throws: shape inference errors, naming the node at fault.
    public init(_ graph: Graph, opsetVersion: Int64) throws(GraphError) {
        var builder = try AnalysisBuilder(graph, opsetVersion: opsetVersion)
        builder.run()
        self = builder.finish()
    }

    fileprivate init(groups: [ChannelGroup], layouts: [String: ChannelLayout], edits: [ChannelEdit],
                     consumers: [ChannelConsumer], groupOfSpace: [Int]) {
        self.groups = groups
        self.layouts = layouts
        self.edits = edits
        self.consumers = consumers
        self.groupOfSpace = groupOfSpace
    }

    /// The consumers that contract group `id`'s channels.
    func consumers(ofGroup id: Int) -> [ChannelConsumer] {
        consumers.filter { consumer in layouts[consumer.input]?.segments.contains { $0.space.map { groupOfSpace[$0] } == id } == true }
    }
}

/// The propagation: walks nodes in order, giving each value a layout and recording edits.
private struct AnalysisBuilder {
    let graph: Graph
    let opset: Int64
    let types: InferredTypes
    let initializers: [String: Tensor]
    var layouts: [String: ChannelLayout] = [:]
    var edits: [ChannelEdit] = []
    var consumers: [ChannelConsumer] = []
    var spaceCount: [Int] = []
    var spaceProducer: [String] = []
    var spaceProducerNode: [String] = []
    var parent: [Int] = []
    var blockers: [Int: [String]] = [:]

    init(_ graph: Graph, opsetVersion: Int64) throws(GraphError) {
        self.graph = graph
        opset = opsetVersion
        types = try ShapeInference.infer(graph, opsetVersion: opsetVersion)
        var constants: [String: Tensor] = [:]
        let inputs = Set(graph.inputs.map(\.name))
        for tensor in graph.initializers where !inputs.contains(tensor.name) { constants[tensor.name] = tensor }
        initializers = constants
    }

    // MARK: Spaces

    mutating func newSpace(_ count: Int, producer: Node) -> Int {
        spaceCount.append(count)
        spaceProducer.append(producer.displayName)
        spaceProducerNode.append(producer.name.isEmpty ? producer.outputs.first ?? "" : producer.name)
        parent.append(parent.count)
        return parent.count - 1
    }

    mutating func root(_ s: Int) -> Int {
        var s = s
        while parent[s] != s {
            parent[s] = parent[parent[s]]
            s = parent[s]
        }
        return s
    }

    mutating func union(_ a: Int, _ b: Int) {
        let (ra, rb) = (root(a), root(b))
        if ra != rb { parent[max(ra, rb)] = min(ra, rb) }
    }

    mutating func block(_ layout: ChannelLayout?, _ reason: String) {
        for space in layout?.spaces ?? [] { blockers[space, default: []].append(reason) }
    }

    /// Ties layouts run by run; returns the tied layout, or nil (everything blocked) when they do
    /// not line up.
    mutating func tie(_ candidates: [ChannelLayout], at node: Node) -> ChannelLayout? {
        guard let first = candidates.first else { return nil }
        guard candidates.allSatisfy({ $0.alignsWith(first) }) else {
            for layout in candidates { block(layout, "\(node.displayName) joins channel layouts that do not line up") }
            return nil
        }
        let tied = first
        for other in candidates.dropFirst() {
            for (k, segment) in other.segments.enumerated() {
                switch (tied.segments[k].space, segment.space) {
                case let (a?, b?): union(a, b)
                case (nil, let b?): block(ChannelLayout(axis: 0, segments: [ChannelSegment(space: b, count: 1, block: 1)]),
                                          "\(node.displayName) ties it to channels of unknown origin")
                case (let a?, nil): block(ChannelLayout(axis: 0, segments: [ChannelSegment(space: a, count: 1, block: 1)]),
                                          "\(node.displayName) ties it to channels of unknown origin")
                case (nil, nil): break
                }
            }
        }
        return tied
    }

    // MARK: Lookups

    func dims(_ name: String) -> [Int?]? {
        types.type(of: name)?.dims?.map(\.value)
    }

    func rank(_ name: String) -> Int? { types.type(of: name)?.dims?.count }

    func constant(_ name: String?) -> Tensor? {
        guard let name, !name.isEmpty else { return nil }
        return initializers[name]
    }

    func integers(_ name: String?) -> [Int64]? {
        constant(name)?.int64Values() ?? constant(name)?.floatValues()?.map { Int64($0) }
    }

    /// Axes from attribute `name`, or else from constant input `input`; normalized to `rank`.
    func axes(_ node: Node, attribute name: String = "axes", input: Int, rank: Int) -> [Int]? {
        let raw = node.ints(name) ?? integers(node.input(input))
        return raw?.map { Int($0 < 0 ? $0 + Int64(rank) : $0) }
    }

    // MARK: Walk

    mutating func run() {
        let order = (try? graph.topologicalOrder()) ?? Array(graph.nodes.indices)
        for i in order { visit(i) }
        for output in graph.outputs { block(layouts[output.name], "reaches graph output '\(output.name)'") }
        for node in graph.nodes {
            for name in node.subgraphs.flatMap({ $0.outerScopeReads() }) {
                block(layouts[name], "read inside a subgraph of \(node.displayName)")
            }
        }
        // A layout must agree with the shapes inference found; anything else is a rule gone wrong.
        for (name, layout) in layouts {
            if let d = dims(name), layout.axis < d.count, let extent = d[layout.axis], extent != layout.extent {
                block(layout, "value '\(name)' has \(extent) features on axis \(layout.axis), the analysis expected \(layout.extent)")
            }
        }
    }

    mutating func visit(_ i: Int) {
        let node = graph.nodes[i]
        let inputLayouts = node.inputs.map { $0.isEmpty ? nil : layouts[$0] }
        let rule = OpSchemas.lookup(node.opType, domain: node.domain)?.channels ?? .opaque
        if node.hasSubgraphs || (rule == .opaque && node.opType != "Constant") {
            for layout in inputLayouts { block(layout, "read by \(node.displayName), which pruning does not follow") }
            return
        }
        switch rule {
        case .opaque: return
        case .passThrough(let perChannel, let vectors): passThrough(i, node, inputLayouts, perChannel: perChannel, vectors: vectors)
        case .broadcast: broadcast(i, node, inputLayouts)
        case .concatenate: concatenate(i, node, inputLayouts)
        case .split: split(i, node, inputLayouts)
        case .crop: crop(i, node, inputLayouts)
        case .reduce: reduce(node, inputLayouts)
        case .alongAxis: alongAxis(node, inputLayouts)
        case .rearrange: rearrange(i, node, inputLayouts)
        case .contraction: contraction(i, node, inputLayouts)
        }
    }

    func describe(_ node: Node) -> String { node.displayName }

    mutating func blockAll(_ layouts: [ChannelLayout?], _ reason: String) {
        for layout in layouts { block(layout, reason) }
    }

    // MARK: Rules

    mutating func passThrough(_ i: Int, _ node: Node, _ inputs: [ChannelLayout?], perChannel: [Int], vectors: [AxisVector]) {
        blockAll(Array(inputs.dropFirst()), "a parameter of \(describe(node)) is computed from channels")
        guard let layout = inputs.first ?? nil, let r = rank(node.inputs[0]) else { return }
        for p in perChannel {
            guard let name = node.input(p) else { continue }
            if let tensor = constant(name) {
                if tensor.shape.count == 1 && tensor.shape[0] == layout.extent {
                    edits.append(.slice(node: i, input: p, axis: 0, layoutOf: node.inputs[0]))
                } else if tensor.elementCount != 1 {
                    return block(layout, "\(describe(node)) has a per-channel input of shape \(tensor.shape)")
                }
            } else {
                return block(layout, "per-channel input \(p) of \(describe(node)) is not a constant")
            }
        }
        for vector in vectors {
            guard let name = node.input(vector.input) else { continue }
            guard let tensor = constant(name), let values = tensor.floatValues()?.map(Double.init) ?? tensor.int64Values()?.map(Double.init) else {
                return block(layout, "input \(vector.input) of \(describe(node)) is computed at run time")
            }
            guard values.count == r * vector.entriesPerAxis else { continue }
            let entries = vector.entriesPerAxis == 2 ? [layout.axis, layout.axis + r] : [layout.axis]
            for entry in entries {
                let value = values[entry]
                switch vector.channelEntry {
                case .neutral(let neutral) where value == neutral: continue
                case .extentOr(let neutral) where value == neutral: continue
                case .extentOr where value == Double(layout.extent):
                    edits.append(.extent(node: i, input: vector.input, entry: entry, layoutOf: node.inputs[0]))
                default:
                    return block(layout, "\(describe(node)) changes the channel axis (input \(vector.input) has \(value) there)")
                }
            }
        }
        for output in node.outputs where !output.isEmpty && rank(output) == r { layouts[output] = layout }
    }

    mutating func broadcast(_ i: Int, _ node: Node, _ inputs: [ChannelLayout?]) {
        guard let output = node.outputs.first, let r = rank(output) else {
            return blockAll(inputs, "\(describe(node)) has an output of unknown rank")
        }
        var axes = Set<Int>()
        for (k, layout) in inputs.enumerated() {
            if let layout, let rk = rank(node.inputs[k]) { axes.insert(layout.axis + r - rk) }
        }
        guard let axis = axes.first else { return }
        guard axes.count == 1 else { return blockAll(inputs, "\(describe(node)) combines channels on different axes") }
        guard let tied = tie(inputs.compactMap { $0 }, at: node) else { return }
        for (k, name) in node.inputs.enumerated() where !name.isEmpty && inputs[k] == nil {
            guard let d = dims(name) else { return block(tied, "operand '\(name)' of \(describe(node)) has an unknown shape") }
            let local = axis - (r - d.count)
            if local < 0 || d[local] == 1 { continue }
            guard d[local] == tied.extent, constant(name) != nil else {
                return block(tied, "operand '\(name)' of \(describe(node)) carries channels of unknown origin")
            }
            edits.append(.slice(node: i, input: k, axis: local, layoutOf: output))
        }
        layouts[output] = ChannelLayout(axis: axis, segments: tied.segments)
    }

    mutating func concatenate(_ i: Int, _ node: Node, _ inputs: [ChannelLayout?]) {
        guard let output = node.outputs.first, let r = rank(output) else {
            return blockAll(inputs, "\(describe(node)) has an output of unknown rank")
        }
        let raw = Int(node.int("axis", default: 0))
        let axis = raw < 0 ? raw + r : raw
        let channelAxes = Set(inputs.compactMap { $0?.axis })
        guard let channelAxis = channelAxes.first else { return }
        guard channelAxes.count == 1 else { return blockAll(inputs, "\(describe(node)) joins channels on different axes") }
        if axis == channelAxis {
            var segments: [ChannelSegment] = []
            for (k, name) in node.inputs.enumerated() {
                if let layout = inputs[k] {
                    segments += layout.segments
                } else if let d = dims(name), axis < d.count, let extent = d[axis] {
                    if extent > 0 { segments.append(ChannelSegment(space: nil, count: extent, block: 1)) }
                } else {
                    return blockAll(inputs, "input '\(name)' of \(describe(node)) has an unknown extent")
                }
            }
            layouts[output] = ChannelLayout(axis: axis, segments: segments)
        } else {
            guard let tied = tie(inputs.compactMap { $0 }, at: node) else { return }
            for (k, name) in node.inputs.enumerated() where inputs[k] == nil {
                guard constant(name) != nil, let d = dims(name), d[channelAxis] == tied.extent else {
                    return block(tied, "input '\(name)' of \(describe(node)) carries channels of unknown origin")
                }
                edits.append(.slice(node: i, input: k, axis: channelAxis, layoutOf: output))
            }
            layouts[output] = tied
        }
    }

    mutating func crop(_ i: Int, _ node: Node, _ inputs: [ChannelLayout?]) {
        blockAll(Array(inputs.dropFirst()), "a parameter of \(describe(node)) is computed from channels")
        guard let layout = inputs.first ?? nil, let output = node.outputs.first, let r = rank(node.inputs[0]) else { return }
        // Opset 10 moved starts, ends, axes and steps from attributes to inputs 1–4.
        let fromInputs = opset >= 10
        let notConstant = "\(describe(node)) has starts, ends, axes or steps that are not constants"
        guard let starts = fromInputs ? integers(node.input(1)) : node.ints("starts"),
              let ends = fromInputs ? integers(node.input(2)) : node.ints("ends") else { return block(layout, notConstant) }
        var rawAxes = node.ints("axes"), steps: [Int64]?
        if fromInputs {
            if let name = node.input(3) { guard let values = integers(name) else { return block(layout, notConstant) }; rawAxes = values }
            if let name = node.input(4) { guard let values = integers(name) else { return block(layout, notConstant) }; steps = values }
        }
        let axes = (rawAxes ?? (0..<Int64(starts.count)).map { $0 }).map { Int($0 < 0 ? $0 + Int64(r) : $0) }
        guard let entry = axes.firstIndex(of: layout.axis) else {
            layouts[output] = layout
            return
        }
        guard entry < starts.count, entry < ends.count, (steps?[entry] ?? 1) == 1 else {
            return block(layout, "\(describe(node)) slices the channels with a step")
        }
        let extent = Int64(layout.extent)
        func position(_ value: Int64) -> Int64 { min(max(value < 0 ? value + extent : value, 0), extent) }
        let (start, end) = (position(starts[entry]), position(ends[entry]))
        if start == 0 && end == extent {
            layouts[output] = layout
            return
        }
        // The range must start and end on segment boundaries: whole layers' channels.
        var offset: Int64 = 0, first: Int?, last: Int?
        for (k, segment) in layout.segments.enumerated() {
            if offset == start { first = k }
            offset += Int64(segment.extent)
            if offset == end { last = k }
        }
        guard let first, let last, first <= last else { return block(layout, "\(describe(node)) cuts through the channels of one layer") }
        layouts[output] = ChannelLayout(axis: layout.axis, segments: Array(layout.segments[first...last]))
        edits.append(.channelRange(node: i, entry: entry, layoutOf: node.inputs[0], segments: first..<(last + 1)))
    }

    mutating func split(_ i: Int, _ node: Node, _ inputs: [ChannelLayout?]) {
        blockAll(Array(inputs.dropFirst()), "a parameter of \(describe(node)) is computed from channels")
        guard let layout = inputs.first ?? nil, let r = rank(node.inputs[0]) else { return }
        let raw = Int(node.int("axis", default: 0))
        let axis = raw < 0 ? raw + r : raw
        guard axis == layout.axis else {
            for output in node.outputs where !output.isEmpty { layouts[output] = layout }
            return
        }
        // Each output must take whole runs of the input's segments (no cut inside a space).
        var cursor = 0, offset = 0
        var pieces: [[ChannelSegment]] = []
        for output in node.outputs {
            guard let size = dims(output)?[axis] ?? nil else { return block(layout, "\(describe(node)) has outputs of unknown size") }
            var piece: [ChannelSegment] = []
            var taken = 0
            while taken < size, cursor < layout.segments.count {
                piece.append(layout.segments[cursor])
                taken += layout.segments[cursor].extent
                offset += layout.segments[cursor].extent
                cursor += 1
            }
            guard taken == size else { return block(layout, "\(describe(node)) cuts through the channels of one layer") }
            pieces.append(piece)
        }
        for (output, piece) in zip(node.outputs, pieces) where !output.isEmpty {
            layouts[output] = ChannelLayout(axis: axis, segments: piece)
        }
        edits.append(.splitSizes(node: i, axis: axis))
    }

    mutating func reduce(_ node: Node, _ inputs: [ChannelLayout?]) {
        blockAll(Array(inputs.dropFirst()), "a parameter of \(describe(node)) is computed from channels")
        guard let layout = inputs.first ?? nil, let r = rank(node.inputs[0]), let output = node.outputs.first else { return }
        let keepDims = node.int("keepdims", default: 1) != 0
        guard let axes = axes(node, input: 1, rank: r), !axes.isEmpty else {
            if node.int("noop_with_empty_axes", default: 0) != 0 { layouts[output] = layout; return }
            return block(layout, "\(describe(node)) reduces over every axis, channels included")
        }
        guard !axes.contains(layout.axis) else { return block(layout, "\(describe(node)) reduces over the channels") }
        let axis = keepDims ? layout.axis : layout.axis - axes.filter { $0 < layout.axis }.count
        layouts[output] = ChannelLayout(axis: axis, segments: layout.segments)
    }

    mutating func alongAxis(_ node: Node, _ inputs: [ChannelLayout?]) {
        blockAll(Array(inputs.dropFirst()), "a parameter of \(describe(node)) is computed from channels")
        guard let layout = inputs.first ?? nil, let r = rank(node.inputs[0]), let output = node.outputs.first else { return }
        func normalized(_ a: Int64) -> Int { Int(a < 0 ? a + Int64(r) : a) }
        var axis = layout.axis
        switch node.opType {
        case "LayerNormalization":
            if layout.axis >= normalized(node.int("axis", default: -1)) {
                return block(layout, "\(describe(node)) normalizes over the channels")
            }
        case "Softmax", "LogSoftmax", "Hardmax":
            let a = normalized(node.int("axis", default: opset < 13 ? 1 : -1))
            if opset < 13 ? layout.axis >= a : layout.axis == a { return block(layout, "\(describe(node)) normalizes over the channels") }
        case "ArgMax", "ArgMin":
            let a = normalized(node.int("axis", default: 0))
            if a == layout.axis { return block(layout, "\(describe(node)) picks among the channels") }
            if node.int("keepdims", default: 1) == 0 && a < axis { axis -= 1 }
        default:
            return block(layout, "read by \(describe(node)), which pruning does not follow")
        }
        layouts[output] = ChannelLayout(axis: axis, segments: layout.segments)
    }

    mutating func rearrange(_ i: Int, _ node: Node, _ inputs: [ChannelLayout?]) {
        blockAll(Array(inputs.dropFirst()), "a parameter of \(describe(node)) is computed from channels")
        guard let layout = inputs.first ?? nil, let output = node.outputs.first else { return }
        guard let inDims = dims(node.inputs[0]), let outDims = dims(output) else {
            return block(layout, "\(describe(node)) has shapes that are not known")
        }
        let r = inDims.count, ch = layout.axis
        switch node.opType {
        case "Transpose":
            let perm = node.ints("perm")?.map(Int.init) ?? Array((0..<r).reversed())
            guard let axis = perm.firstIndex(of: ch) else { return block(layout, "\(describe(node)) has an invalid perm") }
            layouts[output] = ChannelLayout(axis: axis, segments: layout.segments)
        case "Squeeze":
            let squeezed = axes(node, input: 1, rank: r) ?? inDims.indices.filter { inDims[$0] == 1 }
            guard !squeezed.contains(ch) else { return block(layout, "\(describe(node)) removes the channel axis") }
            layouts[output] = ChannelLayout(axis: ch - squeezed.filter { $0 < ch }.count, segments: layout.segments)
        case "Unsqueeze":
            guard let inserted = axes(node, input: 1, rank: outDims.count) else {
                return block(layout, "\(describe(node)) has axes computed at run time")
            }
            let kept = (0..<outDims.count).filter { !inserted.contains($0) }
            guard ch < kept.count else { return block(layout, "\(describe(node)) has invalid axes") }
            layouts[output] = ChannelLayout(axis: kept[ch], segments: layout.segments)
        case "Flatten":
            // [N, C, H, W] → [N, C·H·W]: each channel becomes a block of H·W features.
            let raw = Int(node.int("axis", default: 1))
            let a = raw < 0 ? raw + r : raw
            let between = inDims[a..<ch], after = inDims[(ch + 1)...]
            guard a <= ch, between.allSatisfy({ $0 == 1 }), !after.contains(nil) else {
                return block(layout, "\(describe(node)) mixes the channels with other axes")
            }
            layouts[output] = layout.widened(by: after.reduce(1) { $0 * $1! }, axis: 1)
        default:
            // Reshape: the channel axis survives whole, or merges with the axes after it.
            guard !inDims.contains(nil), !outDims.contains(nil) else {
                return block(layout, "\(describe(node)) has shapes that are not static")
            }
            let inStatic = inDims.map { $0! }, outStatic = outDims.map { $0! }
            let outer = inStatic[..<ch].reduce(1, *), inner = inStatic[(ch + 1)...].reduce(1, *)
            var found: (axis: Int, layout: ChannelLayout)?
            for j in outStatic.indices where outStatic[..<j].reduce(1, *) == outer {
                let rest = outStatic[(j + 1)...].reduce(1, *)
                if outStatic[j] == layout.extent && rest == inner {
                    found = (j, ChannelLayout(axis: j, segments: layout.segments))
                } else if outStatic[j] == layout.extent * inner && rest == 1 {
                    found = (j, layout.widened(by: inner, axis: j))
                }
                if found != nil { break }
            }
            guard let (j, newLayout) = found else { return block(layout, "\(describe(node)) mixes the channels with other axes") }
            layouts[output] = newLayout
            if node.opType == "Reshape" {
                guard let shape = integers(node.input(1)) else {
                    return block(layout, "\(describe(node)) has a target shape computed at run time")
                }
                if j < shape.count, shape[j] > 0 { edits.append(.extent(node: i, input: 1, entry: j, layoutOf: output)) }
            }
        }
    }

    mutating func contraction(_ i: Int, _ node: Node, _ inputs: [ChannelLayout?]) {
        blockAll(Array(inputs.dropFirst()), "a weight of \(describe(node)) is computed from channels")
        let layout = inputs.first ?? nil
        guard let output = node.outputs.first, !output.isEmpty else { return }
        guard let weight = constant(node.input(1)), weight.shape.count >= 2 else {
            return block(layout, "\(describe(node)) has a weight that is not a constant")
        }
        let group = Int(node.int("group", default: 1))
        switch node.opType {
        case "Conv", "ConvTranspose":
            let transposed = node.opType == "ConvTranspose"
            let (inAxis, outAxis) = transposed ? (0, 1) : (1, 0)
            let inChannels = transposed ? weight.shape[0] : weight.shape[1] * group
            let outChannels = transposed ? weight.shape[1] * group : weight.shape[0]
            if group > 1 {
                // Depthwise: channel c in, channel c out, so the input's channels pass through.
                guard group == inChannels, outChannels == inChannels, layout?.axis ?? 1 == 1 else {
                    return block(layout, "\(describe(node)) is a grouped convolution (group \(group))")
                }
                guard let layout else { return }
                edits.append(.slice(node: i, input: 1, axis: 0, layoutOf: output))
                if constant(node.input(2)) != nil { edits.append(.slice(node: i, input: 2, axis: 0, layoutOf: output)) }
                edits.append(.group(node: i, layoutOf: output))
                layouts[output] = layout
                return
            }
            if let layout {
                guard layout.axis == 1 else { return block(layout, "\(describe(node)) reads channels on axis \(layout.axis)") }
                consumers.append(ChannelConsumer(node: i, kind: transposed ? .convTranspose : .conv, input: node.inputs[0]))
                edits.append(.slice(node: i, input: 1, axis: inAxis, layoutOf: node.inputs[0]))
            }
            if node.input(2) != nil && constant(node.input(2)) == nil { return }
            let space = newSpace(outChannels, producer: node)
            layouts[output] = ChannelLayout(axis: 1, segments: [ChannelSegment(space: space, count: outChannels, block: 1)])
            edits.append(.slice(node: i, input: 1, axis: outAxis, layoutOf: output))
            if node.input(2) != nil { edits.append(.slice(node: i, input: 2, axis: 0, layoutOf: output)) }
        case "Gemm":
            let transB = node.int("transB", default: 0) != 0
            guard node.int("transA", default: 0) == 0, weight.shape.count == 2 else {
                return block(layout, "\(describe(node)) transposes its input")
            }
            if let layout {
                guard layout.axis == 1 else { return block(layout, "\(describe(node)) reads channels on axis \(layout.axis)") }
                consumers.append(ChannelConsumer(node: i, kind: .gemm, input: node.inputs[0]))
                edits.append(.slice(node: i, input: 1, axis: transB ? 1 : 0, layoutOf: node.inputs[0]))
            }
            let outChannels = weight.shape[transB ? 0 : 1]
            var biasEdit: ChannelEdit?
            if let name = node.input(2) {
                guard let bias = constant(name) else { return }
                if bias.shape.last == outChannels && bias.shape.count <= 2 {
                    biasEdit = .slice(node: i, input: 2, axis: bias.shape.count - 1, layoutOf: output)
                } else if bias.elementCount != 1 {
                    return
                }
            }
            let space = newSpace(outChannels, producer: node)
            layouts[output] = ChannelLayout(axis: 1, segments: [ChannelSegment(space: space, count: outChannels, block: 1)])
            edits.append(.slice(node: i, input: 1, axis: transB ? 0 : 1, layoutOf: output))
            if let biasEdit { edits.append(biasEdit) }
        default: // MatMul with a constant 2-D right operand.
            guard weight.shape.count == 2, let r = rank(node.inputs[0]), r >= 2 else {
                return block(layout, "\(describe(node)) multiplies by a weight of rank \(weight.shape.count)")
            }
            if let layout {
                if layout.axis == r - 1 {
                    consumers.append(ChannelConsumer(node: i, kind: .matMul, input: node.inputs[0]))
                    edits.append(.slice(node: i, input: 1, axis: 0, layoutOf: node.inputs[0]))
                } else {
                    // Channels on a batch or row axis pass through the product untouched.
                    layouts[output] = layout
                    return
                }
            }
            let space = newSpace(weight.shape[1], producer: node)
            layouts[output] = ChannelLayout(axis: r - 1, segments: [ChannelSegment(space: space, count: weight.shape[1], block: 1)])
            edits.append(.slice(node: i, input: 1, axis: 1, layoutOf: output))
        }
    }

    // MARK: Result

    mutating func finish() -> ChannelAnalysis {
        var groupOfRoot: [Int: Int] = [:]
        var groups: [ChannelGroup] = []
        var groupOfSpace: [Int] = []
        for space in parent.indices {
            let r = root(space)
            if groupOfRoot[r] == nil {
                groupOfRoot[r] = groups.count
                groups.append(ChannelGroup(id: groups.count, channels: spaceCount[r], producers: [], consumers: [], values: [], blockers: []))
            }
            let g = groupOfRoot[r]!
            groupOfSpace.append(g)
            groups[g].producers.append(spaceProducer[space])
            groups[g].producerNodes.append(spaceProducerNode[space])
            if spaceCount[space] != groups[g].channels {
                groups[g].blockers.append("ties \(spaceCount[space]) channels of \(spaceProducer[space]) to \(groups[g].channels)")
            }
            for reason in blockers[space] ?? [] where !groups[g].blockers.contains(reason) { groups[g].blockers.append(reason) }
        }
        let order = (try? graph.topologicalOrder()) ?? Array(graph.nodes.indices)
        var seenValue = Set<String>()
        for i in order {
            for name in graph.nodes[i].outputs where !name.isEmpty && seenValue.insert(name).inserted {
                for s in layouts[name]?.spaces ?? [] where !groups[groupOfSpace[s]].values.contains(name) {
                    groups[groupOfSpace[s]].values.append(name)
                }
            }
        }
        for consumer in consumers {
            for s in layouts[consumer.input]?.spaces ?? [] {
                let name = graph.nodes[consumer.node].displayName
                if !groups[groupOfSpace[s]].consumers.contains(name) { groups[groupOfSpace[s]].consumers.append(name) }
            }
        }
        return ChannelAnalysis(groups: groups, layouts: layouts, edits: edits, consumers: consumers, groupOfSpace: groupOfSpace)
    }
}
