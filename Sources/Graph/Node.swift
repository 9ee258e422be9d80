import Foundation

/// One operation in a graph. Inputs and outputs name values; an empty name marks an optional
/// input or output that is absent.
public struct Node: Sendable, Hashable {
    public var name: String
    public var opType: String
    /// Operator set domain; "" is the default ONNX domain ("ai.onnx" is treated the same).
    public var domain: String
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: [Attribute]
    public var docString: String
    public var metadata: [MetadataEntry]
    public var carried: CarriedFields

    public init(
        name: String = "", opType: String, domain: String = "", inputs: [String], outputs: [String],
        attributes: [Attribute] = [], docString: String = "", metadata: [MetadataEntry] = [],
        carried: CarriedFields = .none
    ) {
        self.name = name
        self.opType = opType
        self.domain = domain
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
        self.docString = docString
        self.metadata = metadata
        self.carried = carried
    }

    /// True when the node belongs to the default ONNX operator set.
    @inlinable public var isDefaultDomain: Bool { domain.isEmpty || domain == "ai.onnx" }

    /// A name for messages: the node's name, or its op type and first output.
    public var displayName: String {
        name.isEmpty ? "\(opType) → \(outputs.first ?? "?")" : "\(name) (\(opType))"
    }

    /// The attribute called `name`, if present.
    @inlinable public func attribute(_ name: String) -> AttributeValue? {
        attributes.first(where: { $0.name == name })?.value
    }

    @inlinable public func int(_ name: String) -> Int64? {
        if case .int(let v) = attribute(name) { return v }
        return nil
    }

    @inlinable public func int(_ name: String, default fallback: Int64) -> Int64 { int(name) ?? fallback }

    @inlinable public func ints(_ name: String) -> [Int64]? {
        if case .ints(let v) = attribute(name) { return v }
        return nil
    }

    @inlinable public func float(_ name: String) -> Float? {
        if case .float(let v) = attribute(name) { return v }
        return nil
    }

    @inlinable public func floats(_ name: String) -> [Float]? {
        if case .floats(let v) = attribute(name) { return v }
        return nil
    }

    /// A string attribute decoded as UTF-8.
    public func string(_ name: String) -> String? {
        if case .string(let v) = attribute(name) { return String(decoding: v, as: UTF8.self) }
        return nil
    }

    @inlinable public func tensor(_ name: String) -> Tensor? {
        if case .tensor(let v) = attribute(name) { return v }
        return nil
    }

    /// The input at `index`, or nil when it is absent or empty.
    @inlinable public func input(_ index: Int) -> String? {
        index < inputs.count && !inputs[index].isEmpty ? inputs[index] : nil
    }

    /// Subgraphs held in attributes (If branches, Loop and Scan bodies).
    public var subgraphs: [Graph] {
        hasSubgraphs ? attributes.flatMap(\.value.subgraphs) : []
    }

    /// True when an attribute holds a subgraph (cheaper than `subgraphs.isEmpty`: nothing is built).
    @inlinable public var hasSubgraphs: Bool {
        attributes.contains { $0.value.holdsGraphs }
    }
}
