import Foundation

/// Fields of the source file that the IR does not model, carried unchanged so that reading a
/// model and writing it back in the same format loses nothing.
///
/// The bytes are opaque to the IR and to passes; only the codec that produced them reads them.
public struct CarriedFields: Sendable, Hashable {
    /// Encoded fields, in the producing codec's own wire format.
    public var bytes: Data

    public init(_ bytes: Data = Data()) { self.bytes = bytes }

    public var isEmpty: Bool { bytes.isEmpty }

    public static let none = CarriedFields()
}

/// A key/value string pair (model, graph, node and tensor metadata); order is preserved.
public struct MetadataEntry: Sendable, Hashable {
    public var key: String
    public var value: String

    public init(_ key: String, _ value: String) {
        self.key = key
        self.value = value
    }
}
