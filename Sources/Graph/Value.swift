/// A named value with its declared type: a graph input or output, or a `value_info` annotation.
public struct Value: Sendable, Hashable {
    public var name: String
    public var type: ValueType?
    public var docString: String
    public var metadata: [MetadataEntry]
    public var carried: CarriedFields

    public init(
        name: String, type: ValueType?, docString: String = "", metadata: [MetadataEntry] = [],
        carried: CarriedFields = .none
    ) {
        self.name = name
        self.type = type
        self.docString = docString
        self.metadata = metadata
        self.carried = carried
    }

    /// A tensor value of the given element type and dims.
    public init(name: String, _ elementType: ElementType, _ dims: [Dim]?) {
        self.init(name: name, type: .tensor(TensorType(elementType, dims)))
    }

    public var tensorType: TensorType? { type?.tensorType }
}
