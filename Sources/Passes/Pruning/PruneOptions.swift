/// What `ChannelPruner` removes and how it chooses.
public struct PruneOptions: Sendable {
    /// How channels are chosen.
    public enum Method: String, Sendable, Codable, CaseIterable {
        /// LASSO selection on the consumers' reconstruction error, then least-squares re-fit
        /// (He et al. 2017).
        case reconstruct
        /// Greedy selection of the channels whose removal changes the consumers' outputs least,
        /// then least-squares re-fit (ThiNet, Luo et al. 2017).
        case thinet
        /// The channels with the largest filter L1 norms; no calibration data, no re-fit.
        case l1
    }

    public var method: Method = .reconstruct
    /// Fraction of each prunable group's channels to remove, in [0, 1).
    public var ratio: Double = 0.5
    /// Per-group overrides, keyed by a producer node's name or a value the group carries.
    public var ratioFor: [String: Double] = [:]
    /// Groups to leave whole, named like `ratioFor`.
    public var skip: [String] = []
    /// Kept channel counts are rounded up to a multiple of this (mobile kernels prefer 4 or 8).
    public var roundTo: Int = 1
    /// Output positions sampled per calibration image and consumer layer.
    public var samplesPerImage: Int = 64
    /// Calibration samples held out to verify the pruned model (nil: one in eight, at least one
    /// when there are two or more).
    public var heldOut: Int?
    public var seed: UInt64 = 0
    public var threads: Int

    public init(threads: Int = 1) {
        self.threads = threads
    }

    /// The ratio for a group with these producers and values.
    func ratio(producers: [String], values: [String]) -> Double {
        let names = Set(producers + values)
        if skip.contains(where: names.contains) { return 0 }
        return ratioFor.first { names.contains($0.key) }?.value ?? ratio
    }

    /// Channels to keep of `channels` at `ratio`: at least one, rounded up to `roundTo`.
    func kept(of channels: Int, ratio: Double) -> Int {
        let remove = Int((Double(channels) * ratio).rounded(.down))
        var keep = max(1, channels - remove)
        if roundTo > 1 { keep = min(channels, (keep + roundTo - 1) / roundTo * roundTo) }
        return keep
    }
}
