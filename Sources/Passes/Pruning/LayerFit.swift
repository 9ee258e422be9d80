import Runtime

/// One consumer's least-squares problem from sampled rows: X (input windows, plus a column of
/// ones when the layer has a bias) and Y (the original network's outputs at the same rows),
/// reduced to XᵀX, XᵀY and ‖Y‖².
///
/// When only a ReLU reads the layer's output (`rectified`), a negative original output only asks
/// the fit to stay at or below zero: the objective is the error after the ReLU, minimized by
/// majorization (targets min(ŷ, 0) where y ≤ 0, re-solved a few times), which spends the
/// layer's capacity on what the next layer sees.
struct LayerFit {
    let layer: ConsumerLayer
    /// Columns of X: the layer's features, plus one for the bias.
    let width: Int
    let outputs: Int
    let rows: Int
    let gram: [Float]        // width × width
    let cross: [Float]       // width × outputs
    let targetEnergy: Double
    /// Current weights as outputs × width (bias in the last column when present).
    let weights: [Float]
    /// The ridge μ of every solve: 1e-4 of XᵀX's mean diagonal.
    let ridge: Double
    /// X (augmented) and the original Y, kept for the rectified re-solves.
    private let rectifiedRows: (x: [Float], y: [Float])?

    /// Majorization rounds of a rectified fit.
    static let rectifiedRounds = 4

    init(layer: ConsumerLayer, inputRows x: [Float], outputRows y: [Float], rows: Int, rectified: Bool) {
        let augmented = LayerStatistics.augmented(x, rows: rows, layer: layer)
        let width = layer.features + (layer.bias != nil ? 1 : 0)
        var gram = [Float](repeating: 0, count: width * width)
        BLAS.sgemm(transposeA: true, m: width, n: width, k: rows, a: augmented, lda: width, b: augmented, ldb: width, c: &gram, ldc: width)
        let weights = Self.currentWeights(layer)
        var target = y
        if rectified {
            // Start from the current weights: where the original output is cut by the ReLU, the
            // fit is free as long as it stays at or below zero.
            target = Self.rectifiedTargets(y, prediction: Self.predict(augmented, rows: rows, width: width, weights: weights, outputs: layer.outputs))
        }
        let (cross, energy) = Self.crossAndEnergy(augmented, rows: rows, width: width, target: target, outputs: layer.outputs)
        self.init(layer: layer, rows: rows, gram: gram, cross: cross, energy: energy, weights: weights,
                  rectifiedRows: rectified ? (augmented, y) : nil)
    }

    /// The plain (not rectified) problem from statistics summed sample by sample.
    init(_ statistics: LayerStatistics) {
        self.init(layer: statistics.layer, rows: statistics.rows, gram: statistics.gram, cross: statistics.cross,
                  energy: statistics.energy, weights: Self.currentWeights(statistics.layer), rectifiedRows: nil)
    }

    private init(layer: ConsumerLayer, rows: Int, gram: [Float], cross: [Float], energy: Double, weights: [Float],
                 rectifiedRows: (x: [Float], y: [Float])?) {
        self.layer = layer
        self.rows = rows
        width = layer.features + (layer.bias != nil ? 1 : 0)
        outputs = layer.outputs
        self.gram = gram
        self.cross = cross
        targetEnergy = energy
        self.weights = weights
        self.rectifiedRows = rectifiedRows
        var trace = 0.0
        for f in 0..<width { trace += Double(gram[f * width + f]) }
        ridge = max(trace / Double(max(width, 1)) * 1e-4, 1e-12)
    }

    /// The layer's weights as outputs × width, the bias in the last column.
    private static func currentWeights(_ layer: ConsumerLayer) -> [Float] {
        let matrix = layer.matrix()
        guard let bias = layer.biasValues else { return matrix }
        let features = layer.features, width = features + 1
        var w = [Float](repeating: 0, count: layer.outputs * width)
        for o in 0..<layer.outputs {
            for f in 0..<features { w[o * width + f] = matrix[o * features + f] }
            w[o * width + features] = bias[o]
        }
        return w
    }

    private static func predict(_ x: [Float], rows: Int, width: Int, weights: [Float], outputs: Int) -> [Float] {
        var prediction = [Float](repeating: 0, count: rows * outputs)
        BLAS.sgemm(transposeB: true, m: rows, n: outputs, k: width, a: x, lda: width, b: weights, ldb: width, c: &prediction, ldc: outputs)
        return prediction
    }

    private static func rectifiedTargets(_ y: [Float], prediction: [Float]) -> [Float] {
        zip(y, prediction).map { original, predicted in original > 0 ? original : min(predicted, 0) }
    }

    private static func crossAndEnergy(_ x: [Float], rows: Int, width: Int, target: [Float], outputs: Int) -> ([Float], Double) {
        var cross = [Float](repeating: 0, count: width * outputs)
        BLAS.sgemm(transposeA: true, m: width, n: outputs, k: rows, a: x, lda: width, b: target, ldb: outputs, c: &cross, ldc: outputs)
        return (cross, target.reduce(0.0) { $0 + Double($1) * Double($1) })
    }

    /// Adds this layer's share of the channel problem: `channelFeatures[c]` lists the input
    /// channels (feature indices before kernel taps) that group channel c occupies.
    func accumulate(into problem: inout ChannelProblem, channelFeatures: [[Int]]) {
        let n = channelFeatures.count
        var owner = [Int](repeating: -1, count: width)
        for (c, inputs) in channelFeatures.enumerated() {
            for i in inputs { for t in 0..<layer.taps { owner[i * layer.taps + t] = c } }
        }
        // H = (XᵀX) ∘ (WᵀW): ⟨Z_c, Z_c'⟩ sums H over the two channels' features.
        var products = [Float](repeating: 0, count: width * width)
        BLAS.sgemm(transposeA: true, m: width, n: width, k: outputs, a: weights, lda: width, b: weights, ldb: width,
                   c: &products, ldc: width)
        let scale = targetEnergy > 0 ? 1 / targetEnergy : 0
        var gramPart = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        var targetPart = [Double](repeating: 0, count: n)
        for f in 0..<width {
            let c = owner[f]
            guard c >= 0 else { continue }
            var explained = 0.0
            for o in 0..<outputs { explained += Double(weights[o * width + f]) * Double(cross[f * outputs + o]) }
            targetPart[c] += explained
            for g in 0..<width {
                let h = Double(gram[f * width + g]) * Double(products[f * width + g])
                if owner[g] >= 0 { gramPart[c][owner[g]] += h } else { targetPart[c] -= h }
            }
        }
        for c in 0..<n {
            problem.target[c] += targetPart[c] * scale
            for d in 0..<n { problem.gram[c][d] += gramPart[c][d] * scale }
        }
    }

    /// Least squares on the columns `kept` (ascending, bias column included when present):
    /// argmin ‖Y − X_K·Wᵀ‖² + μ‖W − W₀‖², with a small ridge μ toward the current weights so that
    /// directions the samples do not pin down keep their values (for a rectified fit, Y is the
    /// rectified target, re-solved `rectifiedRounds` times). Returns W (outputs × kept.count) and
    /// the relative error ‖Y − X_K·Wᵀ‖² / ‖Y‖².
    func solve(keeping kept: [Int]) -> (weights: [Float], error: Double)? {
        guard var result = solve(keeping: kept, cross: cross, energy: targetEnergy) else { return nil }
        guard let (x, y) = rectifiedRows else { return result }
        for _ in 0..<Self.rectifiedRounds {
            var full = [Float](repeating: 0, count: outputs * width)
            for o in 0..<outputs { for (i, f) in kept.enumerated() { full[o * width + f] = result.weights[o * kept.count + i] } }
            let target = Self.rectifiedTargets(y, prediction: Self.predict(x, rows: rows, width: width, weights: full, outputs: outputs))
            let (cross, energy) = Self.crossAndEnergy(x, rows: rows, width: width, target: target, outputs: outputs)
            guard let next = solve(keeping: kept, cross: cross, energy: energy) else { return nil }
            result = next
        }
        return result
    }

    /// The regularized normal equations on the columns `kept`: A = X_KᵀX_K + μI and the right-hand
    /// sides XᵀY + μW₀ (outputs columns of kept.count each).
    func normalEquations(keeping kept: [Int], cross: [Float]? = nil) -> (matrix: [Double], rightHandSides: [Double]) {
        let cross = cross ?? self.cross
        let k = kept.count
        var a = [Double](repeating: 0, count: k * k)
        for (i, f) in kept.enumerated() {
            for (j, g) in kept.enumerated() { a[i * k + j] = Double(gram[f * width + g]) }
        }
        for i in 0..<k { a[i * k + i] += ridge }
        var rhs = [Double](repeating: 0, count: outputs * k)
        for o in 0..<outputs {
            for (i, f) in kept.enumerated() { rhs[o * k + i] = Double(cross[f * outputs + o]) + ridge * Double(weights[o * width + f]) }
        }
        return (a, rhs)
    }

    private func solve(keeping kept: [Int], cross: [Float], energy: Double) -> (weights: [Float], error: Double)? {
        let k = kept.count
        let (a, equations) = normalEquations(keeping: kept, cross: cross)
        var rhs = equations
        guard LinearSolve.choleskySolve(a, n: k, rightHandSides: &rhs) else { return nil }
        // ‖Y − XW‖² = ‖Y‖² − 2·Σ w·(XᵀY) + Σ wᵀ(XᵀX)w, with the unregularized XᵀX.
        var gramKept = [Float](repeating: 0, count: k * k)
        for (i, f) in kept.enumerated() { for (j, g) in kept.enumerated() { gramKept[i * k + j] = gram[f * width + g] } }
        let solution = rhs.map(Float.init)  // outputs × k
        var product = [Float](repeating: 0, count: outputs * k)  // W·(XᵀX)
        BLAS.sgemm(m: outputs, n: k, k: k, a: solution, lda: k, b: gramKept, ldb: k, c: &product, ldc: k)
        var residual = energy
        for o in 0..<outputs {
            for (i, f) in kept.enumerated() {
                let w = Double(solution[o * k + i])
                residual += w * (Double(product[o * k + i]) - 2 * Double(cross[f * outputs + o]))
            }
        }
        return (solution, energy > 0 ? max(0, residual) / energy : 0)
    }
}

/// XᵀX, XᵀY and ‖Y‖² of one consumer summed sample by sample, so that the rows need not be kept.
struct LayerStatistics {
    let layer: ConsumerLayer
    let width: Int
    private(set) var gram: [Float]
    private(set) var cross: [Float]
    private(set) var energy = 0.0
    private(set) var rows = 0

    init(layer: ConsumerLayer) {
        self.layer = layer
        width = layer.features + (layer.bias != nil ? 1 : 0)
        gram = [Float](repeating: 0, count: width * width)
        cross = [Float](repeating: 0, count: width * layer.outputs)
    }

    /// X with a column of ones appended when the layer has a bias.
    static func augmented(_ x: [Float], rows: Int, layer: ConsumerLayer) -> [Float] {
        guard layer.bias != nil else { return x }
        let features = layer.features, width = features + 1
        var augmented = [Float](repeating: 1, count: rows * width)
        for r in 0..<rows { for f in 0..<features { augmented[r * width + f] = x[r * features + f] } }
        return augmented
    }

    mutating func add(inputRows x: [Float], outputRows y: [Float], rows count: Int) {
        guard count > 0 else { return }
        let augmented = Self.augmented(x, rows: count, layer: layer)
        BLAS.sgemm(transposeA: true, m: width, n: width, k: count, a: augmented, lda: width, b: augmented, ldb: width,
                   beta: 1, c: &gram, ldc: width)
        BLAS.sgemm(transposeA: true, m: width, n: layer.outputs, k: count, a: augmented, lda: width, b: y, ldb: layer.outputs,
                   beta: 1, c: &cross, ldc: layer.outputs)
        energy += y.reduce(0.0) { $0 + Double($1) * Double($1) }
        rows += count
    }
}
