import Foundation
import Graph
import Synchronization

/// Options for running a model.
public struct SessionOptions: Sendable {
    /// Threads for kernels, which also split BLAS products across them (default: every core).
    public var threads: Int
    /// Fuse a Conv with the BatchNormalization, residual Add and activation after it (see
    /// ConvFusion). Off, every node runs as its own kernel.
    public var fusesConvolutions: Bool

    public init(threads: Int = Parallel.availableCores, fusesConvolutions: Bool = true) {
        self.threads = max(1, threads)
        self.fusesConvolutions = fusesConvolutions
    }
}

/// The time one node took in a profiled run.
public struct NodeTiming: Sendable, Hashable {
    /// The node's display name.
    public let node: String
    /// The op it ran as (fused ops joined with "+").
    public let operation: String
    public let seconds: Double
}

/// Runs a model on the CPU. Kernels and constants are prepared once; a plan (schedule, shapes,
/// arena layout) is built once per set of input shapes and reused.
public final class Session: @unchecked Sendable {
    public let model: Model
    public let options: SessionOptions
    /// The inputs a caller must feed, with their declared types.
    public let inputs: [Value]
    public let outputs: [Value]

    private let graph: Graph
    private let order: [Int]
    /// The value ids of `inputs` and `outputs`, in their order.
    private let inputIDs: [Int], outputIDs: [Int]
    /// Each node's inputs and outputs as value ids (-1 for absent), by node.
    private let nodeInputs: NodeValueIDs, nodeOutputs: NodeValueIDs
    /// By node index (nil for nodes left out of the schedule, such as those computed at creation).
    private let kernels: [(any Kernel)?]
    /// What fusion did, by node index: the nodes gone, the convs rewritten, what each fuses (its
    /// label says what a fused node stands for: "Conv+BatchNormalization+Relu").
    private let fusion: ConvFusion.Outcome
    /// Values known before any input arrives (initializers and everything computed from them
    /// alone), by value id.
    private let constants: [NDArray?]
    /// Plans by input shapes, under `lock` (a `Mutex` is stored inline; an `NSLock` is two heap
    /// allocations).
    private var plans: [[String: [Int]]: ExecutionPlan] = [:]
    private let lock = Mutex<Void>(())

    /// Prepares `model` to run. `numbering`, when it still numbers the model's graph (such as
    /// `PareFile.numbering`, made when the file was validated), spares numbering it again.
    public init(model: Model, numbering: ValueNumbering? = nil, options: SessionOptions = SessionOptions()) throws {
        self.model = model
        self.options = options
        // Calls of model-local functions run as the functions' bodies.
        var graph = try model.inliningLocalFunctions().graph
        // Values a node's subgraphs read from this graph become extra inputs of the node, so the
        // plan keeps them alive and the kernel receives them after the declared inputs.
        // By node; left empty (no array of arrays to build at load) when no node has a subgraph.
        var outerScopeInputs: [[String]] = []
        for i in graph.nodes.indices where graph.nodes[i].hasSubgraphs {
            if outerScopeInputs.isEmpty { outerScopeInputs = Array(repeating: [], count: graph.nodes.count) }
            var seen = Set(graph.nodes[i].inputs)
            let reads = graph.nodes[i].subgraphs.flatMap { $0.outerScopeReads() }.filter { seen.insert($0).inserted }
            graph.nodes[i].inputs += reads
            outerScopeInputs[i] = reads
        }
        // Each value name is hashed here once; what follows indexes arrays by value id.
        var numbering = numbering.flatMap { $0.numbers(graph) ? $0 : nil } ?? ValueNumbering(graph)
        let fusion = options.fusesConvolutions
            ? ConvFusion.fuse(graph, numbering: &numbering, opsetVersion: model.defaultOpsetVersion)
            : ConvFusion.Outcome.none(nodeCount: graph.nodes.count)
        self.fusion = fusion
        self.graph = graph
        // The runtime inputs (`Graph.runtimeInputs`, by id): graph inputs no initializer gives a value.
        var runtimeInputs: [Value] = [], runtimeInputIDs: [Int] = []
        var isInitialized = [Bool](repeating: false, count: numbering.count)
        for id in numbering.initializerIDs + numbering.sparseInitializerIDs { isInitialized[id] = true }
        for (input, id) in zip(graph.inputs, numbering.inputIDs) where !isInitialized[id] {
            runtimeInputs.append(input)
            runtimeInputIDs.append(id)
        }
        inputs = runtimeInputs
        inputIDs = runtimeInputIDs
        outputs = graph.outputs
        outputIDs = numbering.outputIDs
        let order = try numbering.storedOrderIfSorted(graph, skipping: fusion.removed) ?? Self.sortedOrder(graph, fusion: fusion)
        self.order = order
        nodeInputs = numbering.nodeInputs
        nodeOutputs = numbering.nodeOutputs

        var constants = [NDArray?](repeating: nil, count: numbering.count)
        for k in graph.initializers.indices where fusion.readsInitializer?[k] ?? true {
            constants[numbering.initializerIDs[k]] = try NDArray(graph.initializers[k])
        }
        for (tensor, id) in zip(fusion.foldedWeights, fusion.foldedIDs) { constants[id] = try NDArray(tensor) }
        for (sparse, id) in zip(graph.sparseInitializers, numbering.sparseInitializerIDs) { constants[id] = try NDArray(try sparse.densified()) }

        // Filled in place: `Array(repeating:count:)` copies an optional existential through its
        // value witnesses, element by element.
        var kernels = [(any Kernel)?](unsafeUninitializedCapacity: graph.nodes.count) { buffer, count in
            for i in buffer.indices { (buffer.baseAddress! + i).initialize(to: nil) }
            count = buffer.count
        }
        let opset = model.defaultOpsetVersion
        // Nodes are read through a buffer pointer, not copied (a copy retains each field).
        try graph.nodes.withUnsafeBufferPointer { nodes in
            // Nodes without a kernel are collected in the same pass (one registry lookup a node);
            // once one is found no more kernels are built, and the error lists them all.
            var missing: [Int] = []
            // One array refilled for each node (an array per node was one allocation each); a
            // kernel that keeps its context's copy gets it copied on the next refill.
            var constantInputs: [NDArray?] = []
            for i in order {
                // The kernel's context lends it the node in place (see KernelBuildContext).
                try fusion.withNodePointer(i, of: nodes) { node in
                    let factory = fusion.fused[i] == nil ? KernelRegistry.factory(for: node) : nil
                    if fusion.fused[i] == nil && factory == nil { missing.append(i) }
                    guard missing.isEmpty else { return }
                    constantInputs.removeAll(keepingCapacity: true)
                    for id in numbering.nodeInputs[i] { constantInputs.append(id < 0 ? nil : constants[id]) }
                    let context = KernelBuildContext(lending: node, opsetVersion: opset, constantInputs: constantInputs, threads: options.threads,
                                                     outerScopeInputs: outerScopeInputs.isEmpty ? [] : outerScopeInputs[i])
                    let kernel = try fusion.fused[i].map { try ConvKernel.make(context, epilogue: $0.epilogue) } ?? factory!(context)
                    kernels[i] = kernel
                    // A node fed only by constants runs now, once, and its outputs become constants.
                    let allConstant = zip(numbering.nodeInputs[i], constantInputs).allSatisfy { $0 < 0 || $1 != nil }
                    if allConstant && !node.pointee.hasSubgraphs {
                        let results = try Self.execute(kernel, node: node.pointee, inputs: constantInputs,
                                                       context: KernelContext(slots: [], arena: nil, threads: options.threads, node: node.pointee))
                        for (id, value) in zip(numbering.nodeOutputs[i], results) where id >= 0 { constants[id] = value }
                    }
                }
            }
            if !missing.isEmpty {
                let missingNodes = missing.map { fusion.node($0, of: graph) }
                let ops = Set(missingNodes.map { $0.isDefaultDomain ? $0.opType : "\($0.domain).\($0.opType)" }).sorted()
                throw RuntimeError.unsupported("no kernel for \(ops.joined(separator: ", ")) (used by \(missingNodes.prefix(3).map(\.displayName).joined(separator: ", "))\(missing.count > 3 ? ", …" : ""))")
            }
        }
        self.kernels = kernels
        self.constants = constants
        // Kernels split BLAS products across the session's threads themselves (see Parallel).
        BLAS.setThreads(1)
    }

    /// A dependency order of the nodes that run, for a graph not stored in one: the graph as
    /// fusion leaves it, built and sorted (rare: writers store nodes in order).
    private static func sortedOrder(_ graph: Graph, fusion: ConvFusion.Outcome) throws -> [Int] {
        let kept = graph.nodes.indices.filter { !fusion.removed[$0] }
        var fused = graph
        fused.nodes = kept.map { fusion.node($0, of: graph) }
        return try fused.topologicalOrder().map { kept[$0] }
    }

    /// Runs the model. `feeds` maps input names to arrays; returns every graph output by name.
    public func run(_ feeds: [String: NDArray]) throws -> [String: NDArray] {
        try execute(feeds, timings: nil)
    }

    /// Runs the model like `run`, and also measures every scheduled node.
    public func profile(_ feeds: [String: NDArray]) throws -> (outputs: [String: NDArray], timings: [NodeTiming]) {
        var timings: [NodeTiming] = []
        let outputs = try execute(feeds, timings: &timings)
        return (outputs, timings)
    }

    private func execute(_ feeds: [String: NDArray], timings: UnsafeMutablePointer<[NodeTiming]>?) throws -> [String: NDArray] {
        let shapes = try checkFeeds(feeds)
        let plan = try self.plan(for: shapes)
        var values = constants  // one slot per value id
        for (input, id) in zip(inputs, inputIDs) { values[id] = feeds[input.name] }
        // The plan's arena is reused across runs; a concurrent run gets one of its own.
        let ownsArena = plan.arenaLock.try()
        defer { if ownsArena { plan.arenaLock.unlock() } }
        let arena = ownsArena ? plan.arena : (plan.arenaBytes > 0 ? Buffer(uninitializedByteCount: plan.arenaBytes) : nil)
        for step in plan.steps {
            let node = fusion.node(step.node, of: graph)
            let inputs = step.inputs.map { $0 < 0 ? nil : values[$0] }
            let context = KernelContext(slots: step.slots, arena: arena, threads: options.threads, node: node)
            let start = timings == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            let results = try Self.execute(step.kernel, node: node, inputs: inputs, context: context)
            if let timings {
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                let operation = fusion.fused[step.node]?.label ?? (node.isDefaultDomain ? node.opType : "\(node.domain).\(node.opType)")
                timings.pointee.append(NodeTiming(node: node.displayName, operation: operation, seconds: seconds))
            }
            for (id, value) in zip(step.outputs, results) where id >= 0 { values[id] = value }
            for id in step.release { values[id] = nil }
        }
        var result: [String: NDArray] = [:]
        for (output, id) in zip(outputs, outputIDs) {
            guard let value = values[id] else {
                throw RuntimeError.nodeFailed(node: "graph", "output '\(output.name)' was not computed")
            }
            result[output.name] = value
        }
        return result
    }

    /// The peak bytes of intermediate tensors the plan for these input shapes keeps in its arena.
    public func arenaBytes(for shapes: [String: [Int]]) throws -> Int { try plan(for: shapes).arenaBytes }

    private static func execute(_ kernel: any Kernel, node: Node, inputs: [NDArray?], context: KernelContext) throws -> [NDArray] {
        do {
            let results = try kernel.run(inputs, context)
            guard results.count >= node.outputs.filter({ !$0.isEmpty }).count || results.count == node.outputs.count else {
                throw RuntimeError.nodeFailed(node: node.displayName, "kernel produced \(results.count) outputs, node has \(node.outputs.count)")
            }
            return results
        } catch let error as RuntimeError {
            throw error
        } catch {
            throw RuntimeError.nodeFailed(node: node.displayName, "\(error)")
        }
    }

    private func checkFeeds(_ feeds: [String: NDArray]) throws -> [String: [Int]] {
        func describe(_ v: Value) -> String { "'\(v.name)' \(v.tensorType.map(\.description) ?? "?")" }
        let expected = inputs.map(describe).joined(separator: ", ")
        let missing = inputs.filter { feeds[$0.name] == nil }
        if !missing.isEmpty {
            throw RuntimeError.badInput("missing input \(missing.map { "'\($0.name)'" }.joined(separator: ", ")); the model expects \(expected)")
        }
        var shapes: [String: [Int]] = [:]
        for (name, value) in feeds {
            guard let declared = inputs.first(where: { $0.name == name }) else {
                throw RuntimeError.badInput("unknown input '\(name)'; the model expects \(expected)")
            }
            if let type = declared.tensorType {
                if type.elementType != value.elementType {
                    throw RuntimeError.badInput("input '\(name)' is \(value.elementType), the model expects \(type.elementType)")
                }
                if let dims = type.dims {
                    let fits = dims.count == value.rank && zip(dims, value.shape).allSatisfy { $0.value == nil || $0.value == $1 }
                    if !fits {
                        throw RuntimeError.badInput("input '\(name)' has shape \(value.shape), the model expects \(type.description)")
                    }
                }
            }
            shapes[name] = value.shape
        }
        return shapes
    }

    private func plan(for shapes: [String: [Int]]) throws -> ExecutionPlan {
        try lock.withLock { _ in
            if let plan = plans[shapes] { return plan }
            let plan = try ExecutionPlan(graph: graph, fusion: fusion, opsetVersion: model.defaultOpsetVersion, order: order, nodeInputs: nodeInputs,
                                         nodeOutputs: nodeOutputs, outputIDs: Set(outputIDs),
                                         kernels: kernels, constants: Set(constants.indices.filter { constants[$0] != nil }), inputShapes: shapes)
            plans[shapes] = plan
            return plan
        }
    }
}
