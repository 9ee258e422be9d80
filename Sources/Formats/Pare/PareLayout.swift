import Foundation

/// The fixed numbers of the `.pare` format: magic, versions, section kinds, sizes and op codes.
/// docs/mobile-format.md is the specification; every value here appears there.
enum PareLayout {
    /// "\x89PARE\r\n\x1A": the high byte catches 7-bit transfers, CR LF and ^Z catch text-mode
    /// line-ending conversions (as PNG's signature does).
    static let magic: [UInt8] = [0x89, 0x50, 0x41, 0x52, 0x45, 0x0D, 0x0A, 0x1A]

    /// True when `bytes` start with `magic` (compared in place: no slice or copy of them).
    static func startsWithMagic(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= magic.count && magic.indices.allSatisfy { bytes[$0] == magic[$0] }
    }
    static let majorVersion: UInt16 = 1
    static let minorVersion: UInt16 = 0
    static let headerSize = 32
    static let sectionEntrySize = 32
    /// More sections than any version would need; bounds the table a corrupt count could claim.
    static let maximumSections = 256
    /// Tensor blobs, and the data section itself, start at multiples of this.
    static let alignment = 64
    /// Deepest subgraph nesting a reader follows (If inside Loop inside If ...).
    static let maximumGraphDepth = 64
    static let maximumRank = 64
    /// Section flag: a reader that does not know the section's kind must refuse the file.
    static let requiredFlag: UInt32 = 1

    /// Section kinds, as four ASCII bytes read as a little-endian UInt32.
    enum Section: UInt32, CaseIterable {
        case metadata = 0x4154_454D  // "META"
        case strings = 0x5352_5453  // "STRS"
        case tensors = 0x534E_4554  // "TENS"
        case graph = 0x4850_5247  // "GRPH"
        case data = 0x4154_4144  // "DATA"

        var tag: String { Self.tag(rawValue) }

        static func tag(_ kind: UInt32) -> String {
            let bytes = (0..<4).map { UInt8(truncatingIfNeeded: kind >> UInt32(8 * $0)) }
            return bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) ? String(decoding: bytes, as: UTF8.self) : String(format: "0x%08X", kind)
        }
    }

    /// Tensor encodings in the tensor table.
    enum Encoding: UInt64 {
        /// Packed little-endian elements of the tensor's element type (sub-byte types packed low nibble first).
        case raw = 0
        /// A string tensor: string-table indices inline in the entry, no blob.
        case strings = 1
    }

    /// Blob compression in the tensor table.
    enum Compression: UInt64 {
        case none = 0
        case zstd = 1
    }

    /// Op codes 1...N name these ops of the default ONNX domain; 0 means the entry spells out its
    /// domain and op type. The list only ever grows at the end (a new minor version).
    static let builtinOps: [String] = [
        "Abs", "Acos", "Acosh", "Add", "AffineGrid", "And", "ArgMax", "ArgMin", "Asin", "Asinh", "Atan",
        "Atanh", "Attention", "AveragePool", "BatchNormalization", "Bernoulli", "BitCast", "BitShift",
        "BitwiseAnd", "BitwiseNot", "BitwiseOr", "BitwiseXor", "BlackmanWindow", "Cast", "CastLike",
        "CausalConvWithState", "Ceil", "Celu", "CenterCropPad", "Clip", "Col2Im", "Compress", "Concat",
        "ConcatFromSequence", "Constant", "ConstantOfShape", "Conv", "ConvInteger", "ConvTranspose", "Cos",
        "Cosh", "CumProd", "CumSum", "DFT", "DeformConv", "DepthToSpace", "DequantizeLinear", "Det", "Div",
        "Dropout", "DynamicQuantizeLinear", "Einsum", "Elu", "Equal", "Erf", "Exp", "Expand", "EyeLike",
        "Flatten", "Floor", "GRU", "Gather", "GatherElements", "GatherND", "Gelu", "Gemm",
        "GlobalAveragePool", "GlobalLpPool", "GlobalMaxPool", "Greater", "GreaterOrEqual", "GridSample",
        "GroupNormalization", "HammingWindow", "HannWindow", "HardSigmoid", "HardSwish", "Hardmax",
        "Identity", "If", "ImageDecoder", "InstanceNormalization", "IsInf", "IsNaN", "LRN", "LSTM",
        "LayerNormalization", "LeakyRelu", "Less", "LessOrEqual", "LinearAttention", "Log", "LogSoftmax",
        "Loop", "LpNormalization", "LpPool", "MatMul", "MatMulInteger", "Max", "MaxPool", "MaxRoiPool",
        "MaxUnpool", "Mean", "MeanVarianceNormalization", "MelWeightMatrix", "Min", "Mish", "Mod", "Mul",
        "Multinomial", "Neg", "NegativeLogLikelihoodLoss", "NonMaxSuppression", "NonZero", "Not", "OneHot",
        "Optional", "OptionalGetElement", "OptionalHasElement", "Or", "PRelu", "Pad", "Pow", "QLinearConv",
        "QLinearMatMul", "QuantizeLinear", "RMSNormalization", "RNN", "RandomNormal", "RandomNormalLike",
        "RandomUniform", "RandomUniformLike", "Range", "Reciprocal", "ReduceL1", "ReduceL2", "ReduceLogSum",
        "ReduceLogSumExp", "ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSum",
        "ReduceSumSquare", "RegexFullMatch", "Relu", "Reshape", "Resize", "ReverseSequence", "RoiAlign",
        "RotaryEmbedding", "Round", "STFT", "Scan", "Scatter", "ScatterElements", "ScatterND", "Selu",
        "SequenceAt", "SequenceConstruct", "SequenceEmpty", "SequenceErase", "SequenceInsert",
        "SequenceLength", "SequenceMap", "Shape", "Shrink", "Sigmoid", "Sign", "Sin", "Sinh", "Size", "Slice",
        "Softmax", "SoftmaxCrossEntropyLoss", "Softplus", "Softsign", "SpaceToDepth", "Split",
        "SplitToSequence", "Sqrt", "Squeeze", "StringConcat", "StringNormalizer", "StringSplit", "Sub", "Sum",
        "Swish", "Tan", "Tanh", "TensorScatter", "TfIdfVectorizer", "ThresholdedRelu", "Tile", "TopK",
        "Transpose", "Trilu", "Unique", "Unsqueeze", "Upsample", "Where", "Xor",
    ]

    static let opCodes: [String: Int] = Dictionary(uniqueKeysWithValues: builtinOps.enumerated().map { ($1, $0 + 1) })
}
