// Helpers shared by the schema families: dim arithmetic, broadcasting, sliding-window sizes,
// axes given by attribute or input, and the cost conventions of docs/counting.md.

// MARK: Dim arithmetic

/// A product of dims kept as a known factor times symbols, so that `N·3·4 / N` resolves to 12.
struct DimProduct: Sendable, Hashable {
    var factor: Int = 1
    var symbols: [String: Int] = [:]
    var hasUnknown = false

    init() {}

    init<S: Sequence>(_ dims: S) where S.Element == Dim {
        for d in dims { multiply(by: d) }
    }

    mutating func multiply(by d: Dim) {
        switch d {
        case .known(let v): factor *= v
        case .symbol(let s): symbols[s, default: 0] += 1
        case .unknown: hasUnknown = true
        }
    }

    /// The product as one dim: known, a single symbol, or unknown.
    var dim: Dim {
        if hasUnknown { return factor == 0 ? .known(0) : .unknown }
        if symbols.isEmpty { return .known(factor) }
        if factor == 1, symbols.count == 1, let (s, n) = symbols.first, n == 1 { return .symbol(s) }
        return factor == 0 ? .known(0) : .unknown
    }

    /// `self / other` when the quotient is determined; nil when it is not (or not whole).
    func dividing(by other: DimProduct) -> Dim? {
        guard !hasUnknown, !other.hasUnknown, other.factor != 0 else { return nil }
        var rest = symbols
        for (s, n) in other.symbols {
            guard let have = rest[s], have >= n else { return nil }
            rest[s] = have == n ? nil : have - n
        }
        guard factor % other.factor == 0 else { return nil }
        var q = DimProduct()
        q.factor = factor / other.factor
        q.symbols = rest
        return q.dim
    }
}

extension Dim {
    /// Product of `dims` as a dim (known, a single symbol, or unknown).
    static func product<S: Sequence>(_ dims: S) -> Dim where S.Element == Dim { DimProduct(dims).dim }

    /// `self · k`, keeping a symbol when `k` is 1.
    func times(_ k: Int) -> Dim {
        switch self {
        case .known(let v): .known(v * k)
        case .symbol: k == 1 ? self : (k == 0 ? .known(0) : .unknown)
        case .unknown: k == 0 ? .known(0) : .unknown
        }
    }

    /// `self / k` when `self` is known (nil when not divisible); a symbol stays when `k` is 1.
    func dividedExactly(by k: Int) -> Dim? {
        switch self {
        case .known(let v): k != 0 && v % k == 0 ? .known(v / k) : nil
        case .symbol: k == 1 ? self : .unknown
        case .unknown: .unknown
        }
    }

    /// `self + k`, keeping a symbol when `k` is 0.
    func plus(_ k: Int) -> Dim {
        switch self {
        case .known(let v): .known(v + k)
        case .symbol: k == 0 ? self : .unknown
        case .unknown: .unknown
        }
    }
}

// MARK: Broadcasting

/// Numpy (multidirectional) broadcasting of dims; `nil` operands (unknown rank) give `nil`.
/// Throws when two known dims differ and neither is 1.
func broadcast(_ shapes: [[Dim]?], _ ctx: InferenceContext) throws(GraphError) -> [Dim]? {
    var known: [[Dim]] = []
    for s in shapes {
        guard let s else { return nil }
        known.append(s)
    }
    let rank = known.map(\.count).max() ?? 0
    var result = Array(repeating: Dim.known(1), count: rank)
    for shape in known {
        let offset = rank - shape.count
        for (i, d) in shape.enumerated() {
            let r = result[offset + i]
            switch (r, d) {
            case (.known(let a), .known(let b)):
                if a == b || b == 1 { continue }
                if a == 1 { result[offset + i] = d; continue }
                throw ctx.mismatch(
                    "cannot broadcast shapes \(known.map(shapeText).joined(separator: " and ")): dim \(a) vs \(b)")
            case (.known(1), _): result[offset + i] = d
            case (_, .known(1)): continue
            case (.known, _): continue
            case (_, .known): result[offset + i] = d
            case (.symbol(let a), .symbol(let b)): if a != b { result[offset + i] = .unknown }
            default: result[offset + i] = .unknown
            }
        }
    }
    return result
}

/// Dims formatted for messages: `[N×3×224×224]`.
func shapeText(_ dims: [Dim]?) -> String {
    guard let dims else { return "[?]" }
    return "[" + dims.map(\.description).joined(separator: "×") + "]"
}

// MARK: Sliding windows (Conv, pools)

/// How a sliding-window op pads, from its `auto_pad` and `pads` attributes.
struct WindowPadding {
    enum Mode { case explicit, sameUpper, sameLower, valid }
    var mode: Mode
    var begins: [Int]
    var ends: [Int]

    init(_ ctx: InferenceContext, spatialRank n: Int) throws(GraphError) {
        switch ctx.string("auto_pad", default: "NOTSET") {
        case "SAME_UPPER": mode = .sameUpper
        case "SAME_LOWER": mode = .sameLower
        case "VALID": mode = .valid
        case "NOTSET", "": mode = .explicit
        case let other: throw ctx.invalidAttribute("auto_pad", "has unknown value '\(other)'")
        }
        let pads = ctx.ints("pads").map { $0.map(Int.init) } ?? Array(repeating: 0, count: 2 * n)
        guard mode != .explicit || pads.count == 2 * n else {
            throw ctx.invalidAttribute("pads", "has \(pads.count) values, expected \(2 * n)")
        }
        if mode == .explicit {
            begins = Array(pads[..<n])
            ends = Array(pads[n...])
        } else {
            begins = Array(repeating: 0, count: n)
            ends = Array(repeating: 0, count: n)
        }
    }
}

/// Output size of one spatial axis of a convolution or pooling window.
///
/// `ceilMode` follows ONNX pools: the last window must start inside the input or its left padding.
func windowOutputSize(
    input: Dim, kernel: Int, stride: Int, dilation: Int, padding: WindowPadding, axis: Int, ceilMode: Bool = false
) -> Dim {
    let effectiveKernel = (kernel - 1) * dilation + 1
    switch padding.mode {
    case .sameUpper, .sameLower:
        switch input {
        case .known(let v): return .known((v + stride - 1) / stride)
        case .symbol: return stride == 1 ? input : .unknown
        case .unknown: return .unknown
        }
    case .valid, .explicit:
        let pads = padding.mode == .valid ? 0 : padding.begins[axis] + padding.ends[axis]
        guard case .known(let v) = input else {
            // Only a stride-1 window that pads away its own extent keeps a symbolic size.
            return stride == 1 && pads == effectiveKernel - 1 ? input : .unknown
        }
        // A negative span gives a size ≤ 0, which the op's rule reports.
        let span = v + pads - effectiveKernel
        var out = (ceilMode ? -floorDivide(-span, stride) : floorDivide(span, stride)) + 1
        if ceilMode, out > 1, padding.mode == .explicit, (out - 1) * stride >= v + padding.begins[axis] { out -= 1 }
        return .known(out)
    }
}

/// Floor division (Swift's `/` truncates toward zero).
func floorDivide(_ a: Int, _ b: Int) -> Int {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

/// Reads a per-spatial-axis integer attribute (`strides`, `dilations`), defaulting to 1s.
func spatialInts(
    _ ctx: InferenceContext, _ name: String, count n: Int, default fallback: Int = 1, minimum: Int64 = 1
) throws(GraphError) -> [Int] {
    guard let values = ctx.ints(name) else { return Array(repeating: fallback, count: n) }
    guard values.count == n else { throw ctx.invalidAttribute(name, "has \(values.count) values, expected \(n)") }
    guard values.allSatisfy({ $0 >= minimum }) else { throw ctx.invalidAttribute(name, "must be at least \(minimum), got \(values)") }
    return values.map(Int.init)
}

// MARK: Axes given by attribute or input

/// A list of integers that an op reads from an attribute in early opsets and from an input later.
enum IntsOperand {
    /// Neither given.
    case absent
    case known([Int64])
    /// Given as an input whose value is not known during inference.
    case unknown

    /// Reads attribute `attribute` before `sinceOpset` and input `input` from it, accepting the
    /// other form too, since exporters are not always strict about the switch.
    static func read(_ ctx: InferenceContext, attribute: String, input: Int, sinceOpset: Int64) -> IntsOperand {
        let fromAttribute = ctx.ints(attribute)
        if ctx.opsetVersion < sinceOpset, let fromAttribute { return .known(fromAttribute) }
        if ctx.hasInput(input) { return ctx.constantInts(input).map { .known($0) } ?? .unknown }
        return fromAttribute.map { .known($0) } ?? .absent
    }
}

// MARK: Costs

/// Cost rules following docs/counting.md.
enum Costs {
    /// Data movement and shape computation: free whatever the shapes.
    static let zero: OpSchema.CostRule = { _ in .zero }

    /// `k` FLOPs per element of output 0.
    static func perOutputElement(_ k: Int) -> OpSchema.CostRule {
        { ctx in ctx.outputShape(0).map { OpCost(flops: k * $0.reduce(1, *)) } }
    }

    /// `k` FLOPs per element of input 0.
    static func perInputElement(_ k: Int) -> OpSchema.CostRule {
        { ctx in ctx.inputShape(0).map { OpCost(flops: k * $0.reduce(1, *)) } }
    }

    /// `k − 1` FLOPs per output element for a variadic op with `k` inputs.
    static let variadic: OpSchema.CostRule = { ctx in
        let k = ctx.node.inputs.filter { !$0.isEmpty }.count
        return ctx.outputShape(0).map { OpCost(flops: max(k - 1, 0) * $0.reduce(1, *)) }
    }

    /// A dot-product op: FLOPs = 2·MACs, plus one per output element for a bias.
    static func dotProduct(macs: Int, biasOutputElements: Int?) -> OpCost {
        OpCost(macs: macs, flops: 2 * macs + (biasOutputElements ?? 0))
    }
}
