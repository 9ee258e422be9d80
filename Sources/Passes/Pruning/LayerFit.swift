import Runtime

/// One consumer's least-squares problem from sampled rows: X (input windows, plus a column of
/// ones when the layer has a bias) and Y (the original network's outputs at the same rows),
/// reduced to XᵀX, XᵀY and ‖Y‖².
struct LayerFit {
    let layer: ConsumerLayer
    /// Columns of X: the layer's features, plus one for the bias.
    let width: Int
    let outputs: Int
    let gram: [Float]        // width × width
    let cross: [Float]       // width × outputs
    let targetEnergy: Double
    /// Current weights as outputs × width (bias in the last column when present).
    let weights: [Float]

    init(layer: ConsumerLayer, inputRows x: [Float], outputRows y: [Float], rows: Int) {
        self.layer = layer
        let features = layer.features
        let hasBias = layer.bias != nil
        width = features + (hasBias ? 1 : 0)
        outputs = layer.outputs
        var augmented = x
        if hasBias {
            augmented = [Float](repeating: 1, count: rows * width)
            for r in 0..<rows { for f in 0..<features { augmented[r * width + f] = x[r * features + f] } }
        }
        var gram = [Float](repeating: 0, count: width * width)
        var cross = [Float](repeating: 0, count: width * outputs)
        BLAS.sgemm(transposeA: true, m: width, n: width, k: rows, a: augmented, lda: width, b: augmented, ldb: width, c: &gram, ldc: width)
        BLAS.sgemm(transposeA: true, m: width, n: outputs, k: rows, a: augmented, lda: width, b: y, ldb: outputs, c: &cross, ldc: outputs)
        self.gram = gram
        self.cross = cross
        targetEnergy = y.reduce(0.0) { $0 + Double($1) * Double($1) }
        let matrix = layer.matrix()
        if let bias = layer.biasValues {
            var w = [Float](repeating: 0, count: outputs * width)
            for o in 0..<outputs {
                for f in 0..<features { w[o * width + f] = matrix[o * features + f] }
                w[o * width + features] = bias[o]
            }
            weights = w
        } else {
            weights = matrix
        }
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
    /// directions the samples do not pin down keep their values. Returns W (outputs × kept.count)
    /// and the relative error ‖Y − X_K·Wᵀ‖² / ‖Y‖².
    func solve(keeping kept: [Int]) -> (weights: [Float], error: Double)? {
        let k = kept.count
        var a = [Double](repeating: 0, count: k * k)
        var trace = 0.0
        for (i, f) in kept.enumerated() {
            for (j, g) in kept.enumerated() { a[i * k + j] = Double(gram[f * width + g]) }
            trace += a[i * k + i]
        }
        let ridge = max(trace / Double(max(k, 1)) * 1e-4, 1e-12)
        for i in 0..<k { a[i * k + i] += ridge }
        var rhs = [Double](repeating: 0, count: outputs * k)
        for o in 0..<outputs {
            for (i, f) in kept.enumerated() { rhs[o * k + i] = Double(cross[f * outputs + o]) + ridge * Double(weights[o * width + f]) }
        }
        guard LinearSolve.choleskySolve(a, n: k, rightHandSides: &rhs) else { return nil }
        // ‖Y − XW‖² = ‖Y‖² − 2·Σ w·(XᵀY) + Σ wᵀ(XᵀX)w, with the unregularized XᵀX.
        var gramKept = [Float](repeating: 0, count: k * k)
        for (i, f) in kept.enumerated() { for (j, g) in kept.enumerated() { gramKept[i * k + j] = gram[f * width + g] } }
        let solution = rhs.map(Float.init)  // outputs × k
        var product = [Float](repeating: 0, count: outputs * k)  // W·(XᵀX)
        BLAS.sgemm(m: outputs, n: k, k: k, a: solution, lda: k, b: gramKept, ldb: k, c: &product, ldc: k)
        var residual = targetEnergy
        for o in 0..<outputs {
            for (i, f) in kept.enumerated() {
                let w = Double(solution[o * k + i])
                residual += w * (Double(product[o * k + i]) - 2 * Double(cross[f * outputs + o]))
            }
        }
        return (solution, targetEnergy > 0 ? max(0, residual) / targetEnergy : 0)
    }
}
