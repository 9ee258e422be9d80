import Foundation

/// The reconstruction problem of one channel group, reduced to channel-level statistics: with Z_c
/// the contribution of channel c to the consumers' outputs and T what the channels must explain
/// (the original outputs minus the contribution of everything else), `gram[c][c'] = ⟨Z_c, Z_c'⟩`
/// and `target[c] = ⟨Z_c, T⟩`, summed over consumers and normalized by each consumer's ‖Y‖².
struct ChannelProblem {
    var gram: [[Double]]
    var target: [Double]

    var channels: Int { target.count }

    /// He et al. (2017): β = argmin ½‖T − Σ β_c Z_c‖² + λ‖β‖₁ by coordinate descent, with λ found by
    /// bisection so that exactly `keep` channels have β ≠ 0. When no λ gives exactly `keep` (ties),
    /// the `keep` largest |β_c|·‖Z_c‖ at the smallest λ that leaves at least `keep` win.
    func lassoSelection(keep: Int) -> [Int] {
        let n = channels
        guard keep < n else { return Array(0..<n) }
        guard keep > 0 else { return [] }
        var low = 0.0, high = (target.map(abs).max() ?? 0) * 1.0001 + 1e-12
        var beta = [Double](repeating: 1, count: n)
        var best = beta
        for _ in 0..<30 {
            let lambda = (low + high) / 2
            beta = coordinateDescent(lambda: lambda, start: beta)
            let nonzero = beta.filter { $0 != 0 }.count
            if nonzero == keep { best = beta; break }
            if nonzero > keep { low = lambda; best = beta } else { high = lambda }
        }
        return largest((0..<n).map { abs(best[$0]) * gram[$0][$0].squareRoot() }, keep: keep)
    }

    /// Minimizes ½βᵀGβ − targetᵀβ + λ‖β‖₁, starting from `start`.
    private func coordinateDescent(lambda: Double, start: [Double]) -> [Double] {
        var beta = start
        let n = channels
        // gradient part: G·β, kept current as β changes.
        var product = (0..<n).map { c in (0..<n).reduce(0.0) { $0 + gram[c][$1] * beta[$1] } }
        for _ in 0..<100 {
            var largest = 0.0
            for c in 0..<n where gram[c][c] > 0 {
                let rho = target[c] - (product[c] - gram[c][c] * beta[c])
                let updated = rho > lambda ? (rho - lambda) / gram[c][c] : rho < -lambda ? (rho + lambda) / gram[c][c] : 0
                let delta = updated - beta[c]
                if delta != 0 {
                    for k in 0..<n { product[k] += gram[k][c] * delta }
                    beta[c] = updated
                    largest = max(largest, abs(delta))
                }
            }
            // Converged when no coefficient moved by more than 1e-6 of the largest.
            if largest <= 1e-6 * max(1e-12, beta.map(abs).max() ?? 0) { break }
        }
        for c in 0..<n where gram[c][c] <= 0 { beta[c] = 0 }
        return beta
    }

    /// ThiNet (Luo et al. 2017): removes, one at a time, the channel whose removal adds least to
    /// ‖Σ_{removed} Z_c‖², the output change of dropping them.
    func greedySelection(keep: Int) -> [Int] {
        let n = channels
        guard keep < n else { return Array(0..<n) }
        var removed: [Int] = []
        var isRemoved = [Bool](repeating: false, count: n)
        var cross = [Double](repeating: 0, count: n)  // Σ_{t removed} G[c][t]
        while removed.count < n - keep {
            var pick = -1, cost = Double.infinity
            for c in 0..<n where !isRemoved[c] {
                let added = gram[c][c] + 2 * cross[c]
                if added < cost { cost = added; pick = c }
            }
            isRemoved[pick] = true
            removed.append(pick)
            for c in 0..<n { cross[c] += gram[c][pick] }
        }
        return (0..<n).filter { !isRemoved[$0] }
    }
}

/// Picks the `keep` channels with the largest scores (ties to the lower index), sorted.
func largest(_ scores: [Double], keep: Int) -> [Int] {
    Array(scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }.prefix(keep)).sorted()
}
