/// What pruning did to one channel group.
public struct GroupPruneReport: Sendable, Codable {
    public var group: Int
    public var producers: [String]
    public var channelsBefore: Int
    public var channelsAfter: Int
    /// Mean relative reconstruction error ‖Y − Ŷ‖²/‖Y‖² of the consumers after re-fitting (nil
    /// for `l1`, or when the group has no consumer to re-fit).
    public var reconstructionError: Double?
    public var seconds: Double
    /// Why the group was left whole, when it was.
    public var note: String?
}

/// Output agreement of the pruned model with the original on held-out samples.
public struct PruneVerification: Sendable, Codable {
    public var output: String
    public var samples: Int
    /// Cosine similarity over all held-out samples' values together, and the worst single sample.
    public var cosineSimilarity: Double
    public var worstCosineSimilarity: Double
    /// For single-channel probability maps: F1 and IoU of the masks thresholded at 0.5 (the
    /// original's mask taken as the truth), over all samples' pixels.
    public var maskF1: Double?
    public var maskIoU: Double?
}

/// Where the time went.
public struct PruneTimings: Sendable, Codable {
    public var forwardPasses = 0.0
    public var statistics = 0.0
    public var selection = 0.0
    public var leastSquares = 0.0
    public var total = 0.0
}

/// The result of `convert prune-graph`: per group, totals before and after, verification.
public struct PruneReport: Sendable, Codable {
    public var method: PruneOptions.Method
    public var ratio: Double
    /// The `--target-macs` fraction, when the channel counts came from it rather than `ratio`.
    public var targetMACs: Double?
    public var calibrationSamples: Int
    public var heldOutSamples: Int
    public var groups: [GroupPruneReport]
    public var parametersBefore: Int
    public var parametersAfter: Int
    public var macsBefore: Int
    public var macsAfter: Int
    public var verification: [PruneVerification]
    public var timings: PruneTimings
}

/// What pruning is doing, for a progress display.
public enum PruneProgress: Sendable {
    /// For `--target-macs`: the costs of removing channels from `groups` groups are measured (on
    /// `samples` calibration samples; 0 for L1 scores).
    case measuringCosts(samples: Int, groups: Int)
    /// The original model runs on `samples` calibration samples to record `layers` layers' targets.
    case recordingTargets(samples: Int, layers: Int)
    /// Group `step` of `steps` is pruned.
    case prunedGroup(GroupPruneReport, step: Int, steps: Int)
}
