import Graph

/// A run of consecutive features along a value's channel axis that belong to one channel space.
public struct ChannelSegment: Sendable, Hashable {
    /// The space the channels come from; nil for channels of unknown origin (a graph input, an
    /// opaque op), which pruning never removes.
    public var space: Int?
    /// Channels in the run.
    public var count: Int
    /// Consecutive features per channel: 1 on a feature map's channel axis, H·W after Flatten.
    public var block: Int

    public var extent: Int { count * block }
}

/// Which channels a value carries along which axis: segments laid end to end (a Concat output
/// has one per input).
public struct ChannelLayout: Sendable, Hashable {
    public var axis: Int
    public var segments: [ChannelSegment]

    public var extent: Int { segments.reduce(0) { $0 + $1.extent } }
    /// The spaces the value carries (without repeats).
    public var spaces: [Int] {
        var seen = Set<Int>()
        return segments.compactMap(\.space).filter { seen.insert($0).inserted }
    }

    /// True when `other` is cut into runs of the same sizes, so the two can be tied run by run.
    func alignsWith(_ other: ChannelLayout) -> Bool {
        segments.count == other.segments.count
            && zip(segments, other.segments).allSatisfy { $0.count == $1.count && $0.block == $1.block }
    }

    /// The layout with every feature block `factor` times longer (axes merged after the channel axis).
    func widened(by factor: Int, axis newAxis: Int) -> ChannelLayout {
        ChannelLayout(axis: newAxis, segments: segments.map { ChannelSegment(space: $0.space, count: $0.count, block: $0.block * factor) })
    }

    /// The feature indices along the axis that survive when each group keeps the channels
    /// `kept[group]` (sorted); `group` maps a segment's space to its group, and groups not in
    /// `kept` keep everything.
    func keptFeatures(_ kept: [Int: [Int]], group: (Int) -> Int) -> [Int] {
        var result: [Int] = []
        var offset = 0
        for segment in segments {
            if let space = segment.space, let channels = kept[group(space)] {
                for c in channels { result.append(contentsOf: (offset + c * segment.block)..<(offset + (c + 1) * segment.block)) }
            } else {
                result.append(contentsOf: offset..<(offset + segment.extent))
            }
            offset += segment.extent
        }
        return result
    }

    /// For each channel of `group` (by channel index), the feature indices it occupies; `group`
    /// maps a segment's space to its group.
    func features(ofGroup target: Int, channels: Int, group: (Int) -> Int) -> [[Int]] {
        var result = Array(repeating: [Int](), count: channels)
        var offset = 0
        for segment in segments {
            if let s = segment.space, group(s) == target {
                for c in 0..<min(channels, segment.count) {
                    result[c].append(contentsOf: (offset + c * segment.block)..<(offset + (c + 1) * segment.block))
                }
            }
            offset += segment.extent
        }
        return result
    }
}
