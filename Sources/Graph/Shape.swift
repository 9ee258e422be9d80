/// One dimension of a tensor shape: a known size, a named symbol shared between values, or unknown.
public enum Dim: Sendable, Hashable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    case known(Int)
    case symbol(String)
    case unknown

    public init(integerLiteral value: Int) { self = .known(value) }

    /// The size, when known.
    public var value: Int? {
        if case .known(let v) = self { return v }
        return nil
    }

    public var description: String {
        switch self {
        case .known(let v): String(v)
        case .symbol(let s): s
        case .unknown: "?"
        }
    }
}

/// A tensor's element type and shape. `dims == nil` means the rank itself is unknown.
public struct TensorType: Sendable, Hashable, CustomStringConvertible {
    public var elementType: ElementType
    public var dims: [Dim]?

    public init(_ elementType: ElementType, _ dims: [Dim]?) {
        self.elementType = elementType
        self.dims = dims
    }

    public init(_ elementType: ElementType, shape: [Int]) {
        self.init(elementType, shape.map { .known($0) })
    }

    public var rank: Int? { dims?.count }

    /// All dims as integers, when every one is known.
    public var staticShape: [Int]? {
        guard let dims else { return nil }
        var result: [Int] = []
        result.reserveCapacity(dims.count)
        for d in dims {
            guard let v = d.value else { return nil }
            result.append(v)
        }
        return result
    }

    /// Number of elements, when the shape is static.
    public var elementCount: Int? { staticShape.map { $0.reduce(1, *) } }

    public var description: String {
        guard let dims else { return "\(elementType)[?]" }
        return "\(elementType)[\(dims.map(\.description).joined(separator: "×"))]"
    }
}

/// The type a value carries: a tensor (the case Pare understands), or a type the IR does not model
/// (sequence, map, optional, sparse, opaque), kept as the source format's bytes so it round-trips.
public enum ValueType: Sendable, Hashable {
    case tensor(TensorType)
    case carried(CarriedFields)

    /// The tensor type, if this is one.
    public var tensorType: TensorType? {
        if case .tensor(let t) = self { return t }
        return nil
    }
}

/// Formats a static shape as `1×3×320×480`.
public func formatShape(_ shape: [Int]) -> String {
    shape.isEmpty ? "scalar" : shape.map(String.init).joined(separator: "×")
}
