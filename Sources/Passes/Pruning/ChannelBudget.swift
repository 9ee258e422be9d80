/// `--target-macs`: how many channels each group keeps so that the model's MACs fall to a target,
/// removing channels one step at a time from the group whose error curve rises least per MAC
/// saved.
enum ChannelBudget {
    /// - Parameters:
    ///   - fixed: channels kept by groups that do not take part (skipped, `--ratio-for`, unprunable).
    ///   - curves: for each group that takes part, `costs[m]`, its error after m + 1 removals; the
    ///     curve's length is how far the group may shrink.
    /// - Returns: channels kept per group id, for every group.
    static func allocate(estimate: MACEstimate, target: Double, fixed: [Int: Int], curves: [Int: [Double]],
                         roundTo: Int) throws(PruneError) -> [Int] {
        var kept = estimate.channels
        for (g, count) in fixed { kept[g] = count }
        func cost(_ g: Int, keeping count: Int) -> Double {
            let removed = estimate.channels[g] - count
            return removed == 0 ? 0 : curves[g]![removed - 1]
        }
        // The next smaller count: one channel less, or the next lower multiple of roundTo.
        func next(_ g: Int) -> Int? {
            let current = kept[g], floor = estimate.channels[g] - curves[g]!.count
            let candidate = roundTo > 1 ? (current - 1) / roundTo * roundTo : current - 1
            return candidate >= max(floor, 1) ? candidate : nil
        }
        var macs = estimate.macs(kept: kept)
        while macs > target {
            var best: (group: Int, count: Int, saving: Double, price: Double)?
            for g in curves.keys.sorted() {
                guard let count = next(g) else { continue }
                let saving = estimate.saving(group: g, to: count, kept: kept)
                guard saving > 0 else { continue }
                let price = max(0, cost(g, keeping: count) - cost(g, keeping: kept[g])) / saving
                if best == nil || price < best!.price { best = (g, count, saving, price) }
            }
            guard let choice = best else {
                throw .invalidOptions(String(format: "--target-macs cannot be reached: with every prunable group at its smallest the model keeps %.0f%% of its MACs", 100 * macs / estimate.macs(kept: estimate.channels)))
            }
            kept[choice.group] = choice.count
            macs -= choice.saving
        }
        return kept
    }
}
