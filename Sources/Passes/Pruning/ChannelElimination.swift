import Runtime

/// Channel selection on the re-fit error itself: starting from every channel, removes the channels
/// whose removal raises the consumers' least-squares error least *after* their weights are re-fit
/// to compensate. LASSO and ThiNet score each channel's own contribution with the other weights
/// fixed, so they keep channels a re-fit could replace by their correlated neighbours; this is
/// what the re-fit actually achieves.
///
/// Per consumer, with A the regularized XᵀX and W* = A⁻¹(XᵀY + μW₀) its solution, forcing the
/// weights of features B to zero costs Σ_o w*_{o,B}ᵀ ((A⁻¹)_BB)⁻¹ w*_{o,B}; removing B then
/// updates A⁻¹ and W* by the same block (the optimal-brain-surgeon step, Hassibi & Stork 1993).
/// That cost includes the ridge's μ‖W₀_B‖², which the re-fit on the kept columns does not pay, so
/// it is subtracted. Costs are normalized by each consumer's ‖Y‖² and summed over consumers.
///
/// Channels go in rounds: each round removes the cheapest 1/`roundFraction` of what is still to
/// be removed (at least one), so a group of n channels takes O(log n) block updates instead of n
/// rank-one ones; the last channels go one at a time.
struct ChannelElimination {
    /// One consumer's least-squares state.
    private struct Part {
        let width: Int
        let outputs: Int
        /// A⁻¹, width × width.
        var inverse: [Double]
        /// W*, width × outputs (feature-major, so a channel's rows are contiguous).
        var solution: [Double]
        /// The features (columns of X) each group channel occupies.
        let blocks: [[Int]]
        let scale: Double
        /// μ·Σ_o w₀_{o,f}² per feature: the ridge penalty a removed feature no longer pays.
        let ridgePenalty: [Double]
    }

    /// Each round removes this fraction's inverse of the channels still to go.
    static let roundFraction = 8

    private var parts: [Part]

    /// The consumers' problems; `channelInputs[j][c]` lists the input channels of consumer j that
    /// group channel c occupies. Nil when a consumer's normal equations are not positive definite.
    init?(fits: [LayerFit], channelInputs: [[[Int]]]) {
        parts = []
        for (fit, inputs) in zip(fits, channelInputs) {
            let width = fit.width, outputs = fit.outputs, taps = fit.layer.taps
            let (a, rhs) = fit.normalEquations(keeping: Array(0..<width))
            guard let inverse = LinearSolve.choleskyInverse(a, n: width) else { return nil }
            // W* = A⁻¹·R, with R's columns (one per output) stored one after another: R is
            // outputs × width row-major, so W* (width × outputs) = A⁻¹·Rᵀ.
            var solution = [Double](repeating: 0, count: width * outputs)
            BLAS.dgemm(transposeB: true, m: width, n: outputs, k: width, a: inverse, lda: width, b: rhs, ldb: width,
                       c: &solution, ldc: outputs)
            let blocks = inputs.map { channels in channels.flatMap { i in (i * taps)..<((i + 1) * taps) } }
            let penalty = (0..<width).map { f in
                fit.ridge * (0..<outputs).reduce(0.0) { $0 + Double(fit.weights[$1 * width + f]) * Double(fit.weights[$1 * width + f]) }
            }
            parts.append(Part(width: width, outputs: outputs, inverse: inverse, solution: solution, blocks: blocks,
                              scale: fit.targetEnergy > 0 ? 1 / fit.targetEnergy : 0, ridgePenalty: penalty))
        }
    }

    /// The `keep` channels of `channels` left after elimination, ascending.
    mutating func select(keep: Int, channels: Int) -> [Int] {
        eliminate(channels: channels, keep: keep).kept
    }

    /// Elimination down to `keep` channels: the channels left (ascending) and the error curve,
    /// `costs[m]` the summed normalized cost after m + 1 removals (exact at the end of each round,
    /// interpolated within one).
    mutating func eliminate(channels: Int, keep: Int) -> (kept: [Int], costs: [Double]) {
        var alive = Array(0..<channels)
        var total = 0.0, costs: [Double] = []
        while alive.count > keep {
            let candidates = removalCosts(of: alive)
            // A block whose cost cannot be computed (numerically degenerate, NaN) goes first: its
            // weights are already undetermined.
            let ranked = alive.indices.sorted { a, b in
                let (x, y) = (candidates[a], candidates[b])
                return x.isNaN != y.isNaN ? x.isNaN : x < y || (x == y && a < b)
            }
            let count = max(1, (alive.count - keep) / Self.roundFraction)
            let removed = ranked.prefix(count).map { alive[$0] }
            var cost = 0.0
            for j in parts.indices {
                let block = removed.flatMap { parts[j].blocks[$0] }
                cost += Self.remove(&parts[j], block: block) * parts[j].scale
            }
            for step in 1...count { costs.append(total + max(0, cost) * Double(step) / Double(count)) }
            total += max(0, cost)
            let gone = Set(removed)
            alive.removeAll { gone.contains($0) }
        }
        return (alive, costs)
    }

    /// How much each of `channels` would raise the normalized error, summed over consumers, if it
    /// alone were removed next.
    func removalCosts(of channels: [Int]) -> [Double] {
        channels.map { c in parts.reduce(0.0) { $0 + Self.removalCost($1, block: $1.blocks[c]).cost * $1.scale } }
    }

    /// The cost of zeroing `block`'s weights (ridge penalty subtracted), and Z = ((A⁻¹)_BB)⁻¹·W*_B
    /// (b × outputs, stored as outputs columns of b) for the update; NaN and no Z when (A⁻¹)_BB is
    /// not positive definite.
    private static func removalCost(_ part: Part, block: [Int]) -> (cost: Double, scaled: [Double]) {
        let b = block.count, outputs = part.outputs
        guard b > 0 else { return (0, []) }
        var penalty = 0.0
        for f in block { penalty += part.ridgePenalty[f] }
        if b == 1 {
            let f = block[0], pivot = part.inverse[f * part.width + f]
            guard pivot > 0 else { return (.nan, []) }
            var sum = 0.0
            let row = part.solution[(f * outputs)..<((f + 1) * outputs)]
            for w in row { sum += w * w }
            return (sum / pivot - penalty, row.map { $0 / pivot })
        }
        let inner = innerBlock(part, block)
        var weights = [Double](repeating: 0, count: outputs * b)
        for (i, f) in block.enumerated() { for o in 0..<outputs { weights[o * b + i] = part.solution[f * outputs + o] } }
        var scaled = weights
        guard LinearSolve.choleskySolve(inner, n: b, rightHandSides: &scaled) else { return (.nan, []) }
        var cost = 0.0
        for k in weights.indices { cost += weights[k] * scaled[k] }
        return (cost - penalty, scaled)
    }

    /// (A⁻¹)_BB, b × b.
    private static func innerBlock(_ part: Part, _ block: [Int]) -> [Double] {
        let b = block.count
        var inner = [Double](repeating: 0, count: b * b)
        for (i, f) in block.enumerated() { for (j, g) in block.enumerated() { inner[i * b + j] = part.inverse[f * part.width + g] } }
        return inner
    }

    /// Forces `block`'s weights to zero and re-fits the rest: A⁻¹ −= P·M·Pᵀ, W* −= P·Z, with
    /// P = A⁻¹[:, B], M = ((A⁻¹)_BB)⁻¹ and Z = M·W*_B. Returns the cost (unnormalized).
    private static func remove(_ part: inout Part, block: [Int]) -> Double {
        let b = block.count, width = part.width, outputs = part.outputs
        guard b > 0 else { return 0 }
        let (cost, scaled) = removalCost(part, block: block)
        var columns = [Double](repeating: 0, count: width * b)  // P, width × b
        for r in 0..<width { for (i, f) in block.enumerated() { columns[r * b + i] = part.inverse[r * width + f] } }
        let inner = innerBlock(part, block)
        // M·Pᵀ as width right-hand sides of length b: column r is row r of P.
        var mp = columns
        // A degenerate block has no update to make: its weights are dropped as they are.
        if !scaled.isEmpty, LinearSolve.choleskySolve(inner, n: b, rightHandSides: &mp) {
            BLAS.dgemm(transposeB: true, m: width, n: width, k: b, alpha: -1, a: columns, lda: b, b: mp, ldb: b,
                       beta: 1, c: &part.inverse, ldc: width)
            BLAS.dgemm(transposeB: true, m: width, n: outputs, k: b, alpha: -1, a: columns, lda: b, b: scaled, ldb: b,
                       beta: 1, c: &part.solution, ldc: outputs)
        }
        // Exactly zero what is gone, so rounding cannot bring it back.
        for f in block {
            for r in 0..<width { part.inverse[r * width + f] = 0; part.inverse[f * width + r] = 0 }
            for o in 0..<outputs { part.solution[f * outputs + o] = 0 }
        }
        return cost.isNaN ? 0 : cost
    }
}
