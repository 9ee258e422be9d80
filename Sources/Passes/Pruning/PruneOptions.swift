/// What `ChannelPruner` removes and how it chooses.
public struct PruneOptions: Sendable {
    /// How channels are chosen.
    public enum Method: String, Sendable, Codable, CaseIterable {
        /// Greedy elimination of the channels whose removal raises the consumers' error least
        /// after their least-squares re-fit, then that re-fit.
        case reconstruct
        /// LASSO selection on the consumers' reconstruction error, then least-squares re-fit
        /// (He et al. 2017).
        case lasso
        /// Greedy selection of the channels whose removal changes the consumers' outputs least,
        /// then least-squares re-fit (ThiNet, Luo et al. 2017).
        case thinet
        /// The channels with the largest filter L1 norms; no calibration data, no re-fit.
        case l1
    }

    public var method: Method = .reconstruct
    /// Fraction of each prunable group's channels to remove, in [0, 1).
    public var ratio: Double = 0.5
    /// Instead of `ratio`: the fraction of the model's MACs to keep, in (0, 1). Channels go where
    /// the measured error curves say they cost least per MAC saved.
    public var targetMACs: Double?
    /// With `targetMACs`, no group keeps fewer than this fraction of its channels (at least one):
    /// the error curves are measured on the unpruned network and say little about a layer cut
    /// to a sliver.
    public static let minimumKeptFraction = 0.1
    /// Per-group overrides, keyed by a producer node's name or a value the group carries.
    public var ratioFor: [String: Double] = [:]
    /// Groups to leave whole, named like `ratioFor`.
    public var skip: [String] = []
    /// Kept channel counts are rounded up to a multiple of this (mobile kernels prefer 4 or 8).
    public var roundTo: Int = 1
    /// Output positions sampled per calibration image and consumer layer (nil: enough for
    /// `rowsPerFeature` rows per weight column over all images, at least `minimumSamplesPerImage`).
    public var samplesPerImage: Int?
    /// With automatic sampling, the rows of each least-squares problem per column of X: fewer
    /// over-fit the calibration images (on the crack U-Net, 3 rows per column lost up to 2.6 F1
    /// points more than 12).
    public static let rowsPerFeature = 16
    public static let minimumSamplesPerImage = 64

    /// Positions to sample per image for a layer with `features` weight columns.
    func samples(features: Int, images: Int) -> Int {
        samplesPerImage ?? max(Self.minimumSamplesPerImage, (Self.rowsPerFeature * features + images - 1) / max(images, 1))
    }
    /// Calibration samples held out to verify the pruned model (nil: one in eight, at least one
    /// when there are two or more).
    public var heldOut: Int?
    public var seed: UInt64 = 0
    public var threads: Int

    public init(threads: Int = 1) {
        self.threads = threads
    }

    /// The ratio for a group known by these names.
    func ratio(names: Set<String>) -> Double {
        override(names: names) ?? ratio
    }

    /// The ratio `--skip` (0) or `--ratio-for` sets for a group known by these names, if any.
    func override(names: Set<String>) -> Double? {
        if skip.contains(where: names.contains) { return 0 }
        return ratioFor.first { names.contains($0.key) }?.value
    }

    /// Channels to keep of `channels` at `ratio`: at least one, rounded up to `roundTo`.
    func kept(of channels: Int, ratio: Double) -> Int {
        let remove = Int((Double(channels) * ratio).rounded(.down))
        var keep = max(1, channels - remove)
        if roundTo > 1 { keep = min(channels, (keep + roundTo - 1) / roundTo * roundTo) }
        return keep
    }
}
