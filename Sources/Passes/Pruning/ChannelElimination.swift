import Runtime

/// Channel selection on the re-fit error itself: starting from every channel, removes one channel
/// at a time, the one whose removal raises the consumers' least-squares error least *after* their
/// weights are re-fit to compensate. LASSO and ThiNet score each channel's own contribution with
/// the other weights fixed, so they keep channels a re-fit could replace by their correlated
/// neighbours; this is what the re-fit actually achieves.
///
/// Per consumer, with A the regularized XᵀX and W* = A⁻¹(XᵀY + μW₀) its solution, forcing the
/// weights of features B to zero costs Σ_o w*_{o,B}ᵀ ((A⁻¹)_BB)⁻¹ w*_{o,B}; removing B then
/// updates A⁻¹ and W* by the same block (the optimal-brain-surgeon step, Hassibi & Stork 1993).
/// That cost includes the ridge's μ‖W₀_B‖², which the re-fit on the kept columns does not pay, so
/// it is subtracted. Costs are normalized by each consumer's ‖Y‖² and summed over consumers.
struct ChannelElimination {
    /// One consumer's least-squares state.
    private struct Part {
        let width: Int
        let outputs: Int
        /// A⁻¹, width × width.
        var inverse: [Double]
        /// W*, outputs × width.
        var solution: [Double]
        /// The features (columns of X) each group channel occupies.
        let blocks: [[Int]]
        let scale: Double
        /// μ·Σ_o w₀_{o,f}² per feature: the ridge penalty a removed feature no longer pays.
        let ridgePenalty: [Double]
    }

    private var parts: [Part]

    /// The consumers' problems; `channelInputs[j][c]` lists the input channels of consumer j that
    /// group channel c occupies. Nil when a consumer's normal equations are not positive definite.
    init?(fits: [LayerFit], channelInputs: [[[Int]]]) {
        parts = []
        for (fit, inputs) in zip(fits, channelInputs) {
            let width = fit.width, taps = fit.layer.taps
            let (a, rhs) = fit.normalEquations(keeping: Array(0..<width))
            var identity = [Double](repeating: 0, count: width * width)
            for i in 0..<width { identity[i * width + i] = 1 }
            guard LinearSolve.choleskySolve(a, n: width, rightHandSides: &identity) else { return nil }
            var solution = rhs
            guard LinearSolve.choleskySolve(a, n: width, rightHandSides: &solution) else { return nil }
            let blocks = inputs.map { channels in channels.flatMap { i in (i * taps)..<((i + 1) * taps) } }
            let penalty = (0..<width).map { f in
                fit.ridge * (0..<fit.outputs).reduce(0.0) { $0 + Double(fit.weights[$1 * width + f]) * Double(fit.weights[$1 * width + f]) }
            }
            parts.append(Part(width: width, outputs: fit.outputs, inverse: identity, solution: solution, blocks: blocks,
                              scale: fit.targetEnergy > 0 ? 1 / fit.targetEnergy : 0, ridgePenalty: penalty))
        }
    }

    /// The `keep` channels of `channels` left after greedy elimination, ascending.
    mutating func select(keep: Int, channels: Int) -> [Int] {
        eliminate(channels: channels, keep: keep).kept
    }

    /// Greedy elimination down to `keep` channels: the channels left (ascending) and the summed
    /// removal costs after each removal (`costs[m]`: after m + 1 removals).
    mutating func eliminate(channels: Int, keep: Int) -> (kept: [Int], costs: [Double]) {
        var alive = Array(0..<channels)
        var total = 0.0, costs: [Double] = []
        while alive.count > keep {
            let candidates = removalCosts(of: alive)
            // A block whose cost cannot be computed (numerically degenerate, NaN) goes first: its
            // weights are already undetermined.
            let best = alive.indices.first { candidates[$0].isNaN } ?? alive.indices.min { candidates[$0] < candidates[$1] }!
            if !candidates[best].isNaN { total += candidates[best] }
            costs.append(total)
            let channel = alive.remove(at: best)
            for j in parts.indices { Self.remove(&parts[j], block: parts[j].blocks[channel]) }
        }
        return (alive, costs)
    }

    /// How much each of `channels` would raise the normalized error, summed over consumers, if it
    /// were removed next.
    func removalCosts(of channels: [Int]) -> [Double] {
        channels.map { c in parts.reduce(0.0) { $0 + Self.removalCost($1, block: $1.blocks[c]).cost * $1.scale } }
    }

    /// The cost of zeroing `block`'s weights, and ((A⁻¹)_BB)⁻¹ W*_Bᵀ (b × outputs, column-major by
    /// output) for the update.
    private static func removalCost(_ part: Part, block: [Int]) -> (cost: Double, scaled: [Double]) {
        let b = block.count
        guard b > 0 else { return (0, []) }
        var inner = [Double](repeating: 0, count: b * b)
        for (i, f) in block.enumerated() { for (j, g) in block.enumerated() { inner[i * b + j] = part.inverse[f * part.width + g] } }
        var weights = [Double](repeating: 0, count: part.outputs * b)
        for o in 0..<part.outputs { for (i, f) in block.enumerated() { weights[o * b + i] = part.solution[o * part.width + f] } }
        var scaled = weights
        guard LinearSolve.choleskySolve(inner, n: b, rightHandSides: &scaled) else { return (.nan, []) }
        var cost = 0.0
        for k in weights.indices { cost += weights[k] * scaled[k] }
        for f in block { cost -= part.ridgePenalty[f] }
        return (cost, scaled)
    }

    /// Forces `block`'s weights to zero and re-fits the rest: A⁻¹ −= P·M·Pᵀ, W* −= (M·W*_Bᵀ)ᵀ·Pᵀ,
    /// with P = A⁻¹[:, B] and M = ((A⁻¹)_BB)⁻¹.
    private static func remove(_ part: inout Part, block: [Int]) {
        let b = block.count, width = part.width
        guard b > 0 else { return }
        let (_, scaled) = removalCost(part, block: block)
        var columns = [Double](repeating: 0, count: width * b)  // P, width × b
        for r in 0..<width { for (i, f) in block.enumerated() { columns[r * b + i] = part.inverse[r * width + f] } }
        var inner = [Double](repeating: 0, count: b * b)
        for (i, f) in block.enumerated() { for (j, g) in block.enumerated() { inner[i * b + j] = part.inverse[f * width + g] } }
        // M·Pᵀ as width right-hand sides of length b: column r is row r of P.
        var mp = columns
        // A degenerate block has no update to make: its weights are dropped as they are.
        if !scaled.isEmpty, LinearSolve.choleskySolve(inner, n: b, rightHandSides: &mp) {
            BLAS.dgemm(transposeB: true, m: width, n: width, k: b, alpha: -1, a: columns, lda: b, b: mp, ldb: b,
                       beta: 1, c: &part.inverse, ldc: width)
            BLAS.dgemm(transposeB: true, m: part.outputs, n: width, k: b, alpha: -1, a: scaled, lda: b, b: columns, ldb: b,
                       beta: 1, c: &part.solution, ldc: width)
        }
        // Exactly zero what is gone, so rounding cannot bring it back.
        for f in block {
            for r in 0..<width { part.inverse[r * width + f] = 0; part.inverse[f * width + r] = 0 }
            for o in 0..<part.outputs { part.solution[o * width + f] = 0 }
        }
    }
}
