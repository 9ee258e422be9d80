import Graph
import Runtime

/// A contracting layer seen as rows of a linear map, Y = X·Wᵀ + b: what reconstruction samples
/// and re-fits. Conv rows are output positions (X its input window), Gemm rows are batch rows,
/// MatMul rows are every leading position.
struct ConsumerLayer {
    let index: Int
    let node: Node
    let kind: ChannelConsumer.Kind
    let weight: Tensor
    /// The constant per-output bias (Conv B, Gemm C), if the layer has one.
    let bias: Tensor?
    let outputs: Int
    /// Input channels (features for Gemm/MatMul) the weight contracts.
    let inputChannels: Int
    /// Kernel taps per input channel (1 for Gemm/MatMul).
    let taps: Int
    let kernel: [Int]
    let alpha: Float
    let beta: Float

    /// The layer behind `consumer`, when its weight (and bias) are float32 constants.
    init?(_ consumer: ChannelConsumer, graph: Graph) {
        let node = graph.nodes[consumer.node]
        guard let weight = graph.initializer(named: node.inputs[1]), weight.elementType == .float32 else { return nil }
        index = consumer.node
        self.node = node
        kind = consumer.kind
        self.weight = weight
        alpha = node.float("alpha") ?? 1
        beta = node.float("beta") ?? 1
        let transB = node.int("transB", default: 0) != 0
        switch kind {
        case .conv:
            (outputs, inputChannels) = (weight.shape[0], weight.shape[1])
        case .convTranspose:
            (outputs, inputChannels) = (weight.shape[1], weight.shape[0])
        case .gemm:
            (outputs, inputChannels) = transB ? (weight.shape[0], weight.shape[1]) : (weight.shape[1], weight.shape[0])
        case .matMul:
            (outputs, inputChannels) = (weight.shape[1], weight.shape[0])
        }
        kernel = kind == .conv || kind == .convTranspose ? Array(weight.shape.dropFirst(2)) : []
        taps = kernel.reduce(1, *)
        if let name = node.input(2) {
            guard let b = graph.initializer(named: name), b.elementType == .float32, b.elementCount == outputs else { return nil }
            bias = b
        } else {
            bias = nil
        }
    }

    var features: Int { inputChannels * taps }

    /// W as an outputs × features matrix (row o: the weights of output o), bias folded to b·beta.
    func matrix() -> [Float] {
        let w = weight.floatValues() ?? []
        var m = [Float](repeating: 0, count: outputs * features)
        switch kind {
        case .conv:
            m = w
        case .convTranspose:
            for c in 0..<inputChannels { for o in 0..<outputs { for t in 0..<taps {
                m[o * features + c * taps + t] = w[(c * outputs + o) * taps + t]
            } } }
        case .gemm, .matMul:
            let transB = kind == .gemm && node.int("transB", default: 0) != 0
            let scale = kind == .gemm ? alpha : 1
            for o in 0..<outputs { for f in 0..<features {
                m[o * features + f] = scale * (transB ? w[o * features + f] : w[f * outputs + o])
            } }
        }
        return m
    }

    var biasValues: [Float]? { bias?.floatValues().map { $0.map { $0 * (kind == .gemm ? beta : 1) } } }

    /// The weight (and bias) tensors for a re-fitted `matrix` over `channels` input channels.
    func tensors(matrix m: [Float], channels: Int, bias newBias: [Float]?) -> [Int: Tensor] {
        let f = channels * taps
        var w = [Float](repeating: 0, count: outputs * f)
        var shape = weight.shape
        switch kind {
        case .conv:
            w = m
            shape[1] = channels
        case .convTranspose:
            for c in 0..<channels { for o in 0..<outputs { for t in 0..<taps { w[(c * outputs + o) * taps + t] = m[o * f + c * taps + t] } } }
            shape[0] = channels
        case .gemm, .matMul:
            let transB = kind == .gemm && node.int("transB", default: 0) != 0
            let scale = kind == .gemm ? alpha : 1
            for o in 0..<outputs { for k in 0..<f { w[transB ? o * f + k : k * outputs + o] = m[o * f + k] / scale } }
            shape = transB ? [outputs, f] : [f, outputs]
        }
        var result = [1: Tensor(name: weight.name, shape: shape, floats: w)]
        if let bias, let newBias {
            let scale = kind == .gemm ? beta : 1
            result[2] = Tensor(name: bias.name, shape: bias.shape, floats: newBias.map { $0 / scale })
        }
        return result
    }

    /// Rows (positions) available per sample, given the shape of the layer's output.
    func rowCount(outputShape: [Int]) -> Int {
        switch kind {
        case .conv, .convTranspose: outputShape.dropFirst(2).reduce(1, *)
        case .gemm, .matMul: outputShape.dropLast().reduce(1, *)
        }
    }

    /// The input rows (features each) behind `positions` of an output of shape `outputShape`.
    func inputRows(_ input: NDArray, outputShape: [Int], positions: [Int]) throws -> [Float] {
        switch kind {
        case .conv, .convTranspose:
            return try WindowSampling.rows(of: node, kernel: kernel, input: input, outputSpatial: Array(outputShape.dropFirst(2)),
                                           positions: positions)
        case .gemm, .matMul:
            let x = input.floats
            var rows = [Float](repeating: 0, count: positions.count * features)
            for (r, p) in positions.enumerated() { for f in 0..<features { rows[r * features + f] = x[p * features + f] } }
            return rows
        }
    }

    /// The output rows at `positions`, keeping output channels `channels` (all when nil).
    func outputRows(_ output: NDArray, positions: [Int], channels: [Int]? = nil) -> [Float] {
        let y = output.floats
        let total = output.shape[1 + (kind == .matMul ? output.shape.count - 2 : 0)]
        let chosen = channels ?? Array(0..<total)
        var rows = [Float](repeating: 0, count: positions.count * chosen.count)
        switch kind {
        case .conv, .convTranspose:
            let plane = output.shape.dropFirst(2).reduce(1, *)
            for (r, p) in positions.enumerated() { for (k, o) in chosen.enumerated() { rows[r * chosen.count + k] = y[o * plane + p] } }
        case .gemm, .matMul:
            for (r, p) in positions.enumerated() { for (k, o) in chosen.enumerated() { rows[r * chosen.count + k] = y[p * total + o] } }
        }
        return rows
    }
}
