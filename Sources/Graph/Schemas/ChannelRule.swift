/// How an op carries channels from its inputs to its outputs: what channel pruning needs to know
/// to remove a channel everywhere it appears. Each op names one of these few rules in its schema;
/// the pruning analysis (Passes) implements each rule once.
public enum ChannelRule: Sendable, Hashable {
    /// Pruning cannot follow channels through this op: every channel group that reaches it is
    /// kept whole. The default, so that an op nobody described can never produce a wrong model.
    case opaque
    /// Output 0 has input 0's channels, each computed from the same channel only (activations,
    /// pooling, BatchNormalization, Resize, Pad…). `perChannel` lists the 1-D inputs that hold one
    /// value per channel (sliced with the channels); `vectors` lists inputs indexed by axis (pads,
    /// scales, sizes) whose channel-axis entries must be neutral or the extent (then rewritten).
    case passThrough(perChannel: [Int] = [], vectors: [AxisVector] = [])
    /// Numpy broadcasting over every input: operands with the full channel extent are tied, so a
    /// channel goes from all of them at once; constant operands are sliced.
    case broadcast
    /// The inputs joined along `axis`: along the channel axis their channels are laid end to end
    /// (each input at an offset); along another axis the inputs' channels are tied.
    case concatenate
    /// Pieces of input 0 along `axis` (Split): along the channel axis each output takes a range of
    /// channels; along another axis every output has input 0's channels.
    case split
    /// A range of input 0 along some axes (Slice): along other axes channels pass; along the
    /// channel axis the range must take whole layers' channels, and its bounds are rewritten.
    case crop
    /// A reduction over `axes`: channels pass unless the channel axis is among the reduced axes.
    case reduce
    /// Works along one `axis` (Softmax, LayerNormalization from `axis` on, ArgMax): channels pass
    /// unless the channel axis is one the op mixes.
    case alongAxis
    /// Moves axes or merges them (Transpose, Squeeze, Unsqueeze, Flatten, Reshape): the channel axis
    /// moves, or becomes blocks of consecutive features.
    case rearrange
    /// Contracts input channels against a constant weight and makes new output channels (Conv,
    /// ConvTranspose, Gemm, MatMul). A depthwise convolution ties its input to its output instead.
    case contraction
}

/// An input of a channel-passing op that holds values per axis, such as Pad's `pads` (two entries
/// per axis) or Resize's `sizes` (one).
public struct AxisVector: Sendable, Hashable {
    /// What the entry for the channel axis may be.
    public enum ChannelEntry: Sendable, Hashable {
        /// Must be this value (0 padding, scale 1): unchanged by pruning.
        case neutral(Double)
        /// Must be the channel extent or neutral: the extent is rewritten to the pruned count.
        case extentOr(neutral: Double)
    }

    public var input: Int
    public var entriesPerAxis: Int
    public var channelEntry: ChannelEntry

    public init(input: Int, entriesPerAxis: Int = 1, channelEntry: ChannelEntry) {
        self.input = input
        self.entriesPerAxis = entriesPerAxis
        self.channelEntry = channelEntry
    }
}
