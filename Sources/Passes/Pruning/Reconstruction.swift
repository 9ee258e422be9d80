import Dispatch
import Graph
import Runtime

/// The layer-by-layer state of `reconstruct` and `thinet`: the original network's outputs of every
/// consumer at sampled rows (computed once), and which original output channels each layer still has.
struct Reconstruction {
    /// One consumer's targets: its output shape, the rows sampled per calibration sample, and the
    /// original outputs there (all channels), sample after sample.
    struct Target {
        var outputShape: [Int]
        var outputs: Int
        var positions: [[Int]]
        var rows: [Float]
    }

    let prepared: Model
    let samples: [[String: NDArray]]
    let options: PruneOptions
    var targets: [Int: Target] = [:]
    /// For layers that lost output channels: which original channels remain.
    var outputChannels: [Int: [Int]] = [:]

    init(original: Model, samples: [[String: NDArray]], plan: [(key: String, keep: Int)], analysis: ChannelAnalysis,
         options: PruneOptions, timings: inout PruneTimings, progress: @escaping (PruneProgress) -> Void) throws {
        prepared = original
        self.samples = samples
        self.options = options
        let keys = Set(plan.map(\.key))
        let groups = analysis.groups.filter { group in group.producers.contains(where: keys.contains) }
        let consumers = Array(Set(groups.flatMap { analysis.consumers(ofGroup: $0.id) })).sorted { $0.node < $1.node }
            .compactMap { ConsumerLayer($0, graph: original.graph) }
        let start = DispatchTime.now().uptimeNanoseconds
        progress(.recordingTargets(samples: samples.count, layers: consumers.count))
        let names = consumers.map { $0.node.outputs[0] }
        let session = try Self.session(original, graph: original.graph, outputs: names, threads: options.threads)
        for (s, sample) in samples.enumerated() {
            let outputs = try session.run(sample)
            for (layer, name) in zip(consumers, names) {
                guard let output = outputs[name] else { continue }
                let node = layer.index
                var target = targets[node] ?? Target(outputShape: output.shape, outputs: layer.outputs, positions: [], rows: [])
                let positions = Self.sampledPositions(layer, outputShape: output.shape, sample: s, images: samples.count, options: options)
                target.positions.append(positions)
                target.rows += layer.outputRows(output, positions: positions)
                targets[node] = target
            }
        }
        timings.forwardPasses += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// A session computing `outputs` of `graph` (and only what they need).
    static func session(_ model: Model, graph: Graph, outputs: [String], threads: Int) throws -> Session {
        var truncated = model
        truncated.graph = graph
        truncated.graph.outputs = outputs.map { Value(name: $0, type: nil) }
        _ = try Pipeline([DeadCodeEliminationPass()]).run(on: &truncated, context: PassContext(opsetVersion: model.defaultOpsetVersion))
        return try Session(model: truncated, options: SessionOptions(threads: threads))
    }

    /// The output positions of `layer` sampled on calibration sample `sample`: the same for the
    /// same layer, sample and seed, whoever asks.
    static func sampledPositions(_ layer: ConsumerLayer, outputShape: [Int], sample: Int, images: Int, options: PruneOptions) -> [Int] {
        positions(count: layer.rowCount(outputShape: outputShape), take: options.samples(features: layer.features + 1, images: images),
                  seed: options.seed &+ UInt64(layer.index) &* 0x1_0000_0001 &+ UInt64(sample))
    }

    /// `take` distinct positions of `count`, seeded, ascending.
    static func positions(count: Int, take: Int, seed: UInt64) -> [Int] {
        guard take < count else { return Array(0..<count) }
        var generator = NormalGenerator(seed: seed)
        var chosen = Set<Int>()
        while chosen.count < take { chosen.insert(Int(generator.bits() % UInt64(count))) }
        return chosen.sorted()
    }

    /// Chooses and removes channels of `group`, re-fitting its consumers. Returns the consumers'
    /// mean relative reconstruction error (nil when it had none to re-fit and fell back to L1).
    mutating func pruneGroup(_ group: ChannelGroup, keep: Int, analysis: ChannelAnalysis, graph: inout Graph,
                             timings: inout PruneTimings) throws -> Double? {
        let opset = prepared.defaultOpsetVersion
        let consumers = analysis.consumers(ofGroup: group.id)
        let layers = consumers.compactMap { ConsumerLayer($0, graph: graph) }
        guard !consumers.isEmpty, layers.count == consumers.count, consumers.allSatisfy({ targets[$0.node] != nil }) else {
            let kept = largest(ChannelPruner.l1Scores(group, analysis: analysis, graph: graph), keep: keep)
            try ChannelRemoval.apply([group.id: kept], analysis: analysis, to: &graph, opsetVersion: opset)
            record(kept, group: group, graph: graph)
            return nil
        }
        // X: the consumers' input windows in the network pruned so far.
        var start = DispatchTime.now().uptimeNanoseconds
        let inputs = Array(Set(consumers.map(\.input))).sorted()
        let session = try Self.session(prepared, graph: graph, outputs: inputs, threads: options.threads)
        var rows = [[Float]](repeating: [], count: layers.count)
        for (s, sample) in samples.enumerated() {
            let values = try session.run(sample)
            for (j, layer) in layers.enumerated() {
                let target = targets[layer.index]!
                rows[j] += try layer.inputRows(values[consumers[j].input]!, outputShape: target.outputShape, positions: target.positions[s])
            }
        }
        timings.forwardPasses += seconds(since: start)

        start = DispatchTime.now().uptimeNanoseconds
        // Sessions leave BLAS single-threaded (their kernels split work themselves); the fits and
        // the selection are plain BLAS and LAPACK calls.
        BLAS.setThreads(options.threads)
        var fits: [LayerFit] = []
        for (j, layer) in layers.enumerated() {
            let target = targets[layer.index]!
            let count = rows[j].count / layer.features
            let y = selectColumns(target.rows, width: target.outputs, keep: outputChannels[layer.index])
            fits.append(LayerFit(layer: layer, inputRows: rows[j], outputRows: y, rows: count, rectified: Self.onlyReLUReads(layer.node, in: graph)))
        }
        let groupOf: (Int) -> Int = { analysis.groupOfSpace[$0] }
        let channelFeatures = consumers.map { analysis.layouts[$0.input]!.features(ofGroup: group.id, channels: group.channels, group: groupOf) }
        timings.statistics += seconds(since: start)

        start = DispatchTime.now().uptimeNanoseconds
        let kept = select(keep: keep, channels: group.channels, fits: fits, channelFeatures: channelFeatures)
        timings.selection += seconds(since: start)

        start = DispatchTime.now().uptimeNanoseconds
        let keptSet = Set(kept)
        var replacements: [Int: [Int: Tensor]] = [:]
        var errors: [Double] = []
        for (fit, features) in zip(fits, channelFeatures) {
            let layer = fit.layer
            let removedInputs = Set(features.enumerated().filter { !keptSet.contains($0.offset) }.flatMap(\.element))
            var columns: [Int] = []
            for i in 0..<layer.inputChannels where !removedInputs.contains(i) {
                columns += (i * layer.taps)..<((i + 1) * layer.taps)
            }
            if layer.bias != nil { columns.append(layer.features) }
            guard let (w, error) = fit.solve(keeping: columns) else {
                throw PruneError.invalidEdit("the least-squares problem of \(layer.node.displayName) is singular")
            }
            errors.append(error)
            let channels = layer.inputChannels - removedInputs.count
            let featureCount = channels * layer.taps
            var matrix = [Float](repeating: 0, count: layer.outputs * featureCount)
            var bias: [Float]? = layer.bias == nil ? nil : []
            for o in 0..<layer.outputs {
                for k in 0..<featureCount { matrix[o * featureCount + k] = w[o * columns.count + k] }
                bias?.append(w[o * columns.count + featureCount])
            }
            replacements[layer.index] = layer.tensors(matrix: matrix, channels: channels, bias: bias)
        }
        try ChannelRemoval.apply([group.id: kept], replacements: replacements, analysis: analysis, to: &graph, opsetVersion: opset)
        record(kept, group: group, graph: graph)
        timings.leastSquares += seconds(since: start)
        return errors.reduce(0, +) / Double(errors.count)
    }

    /// The channels to keep by the method asked.
    private func select(keep: Int, channels: Int, fits: [LayerFit], channelFeatures: [[[Int]]]) -> [Int] {
        if options.method == .reconstruct, var elimination = ChannelElimination(fits: fits, channelInputs: channelFeatures) {
            return elimination.select(keep: keep, channels: channels)
        }
        var problem = ChannelProblem(gram: Array(repeating: Array(repeating: 0, count: channels), count: channels),
                                     target: Array(repeating: 0, count: channels))
        for (fit, features) in zip(fits, channelFeatures) { fit.accumulate(into: &problem, channelFeatures: features) }
        return options.method == .thinet ? problem.greedySelection(keep: keep) : problem.lassoSelection(keep: keep)
    }

    /// Whether every reader of the node's output is a Relu (and no graph output exposes it).
    static func onlyReLUReads(_ node: Node, in graph: Graph) -> Bool {
        let output = node.outputs[0]
        guard !graph.outputs.contains(where: { $0.name == output }) else { return false }
        let readers = graph.nodes.filter { $0.inputs.contains(output) }
        return !readers.isEmpty && readers.allSatisfy { $0.opType == "Relu" && ($0.domain.isEmpty || $0.domain == "ai.onnx") }
    }

    /// Notes which original output channels the group's producers keep.
    private mutating func record(_ kept: [Int], group: ChannelGroup, graph: Graph) {
        let producers = Set(group.producers)
        for (i, node) in graph.nodes.enumerated() where producers.contains(node.displayName) {
            let current = outputChannels[i] ?? Array(0..<group.channels)
            outputChannels[i] = kept.map { current[$0] }
        }
    }

    private func selectColumns(_ rows: [Float], width: Int, keep: [Int]?) -> [Float] {
        guard let keep else { return rows }
        let count = rows.count / width
        var result = [Float](repeating: 0, count: count * keep.count)
        for r in 0..<count { for (k, c) in keep.enumerated() { result[r * keep.count + k] = rows[r * width + c] } }
        return result
    }

    private func seconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
}
