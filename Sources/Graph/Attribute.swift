import Foundation

/// A node attribute's value. Strings are bytes, as in ONNX, because they need not be UTF-8.
///
/// Only the large payloads are boxed (`indirect`): an int, a float or a list is stored in place,
/// so decoding a conv's attributes allocates no box per attribute.
public enum AttributeValue: Sendable, Hashable {
    case float(Float)
    case int(Int64)
    case string(Data)
    indirect case tensor(Tensor)
    indirect case graph(Graph)
    indirect case sparseTensor(SparseTensor)
    case type(ValueType)
    case floats([Float])
    case ints([Int64])
    case strings([Data])
    case tensors([Tensor])
    case graphs([Graph])
    case sparseTensors([SparseTensor])
    case types([ValueType])
    /// An attribute of a function body that refers to an attribute of the calling node.
    case reference(String, kind: AttributeKind)

    /// The graphs the value holds: If branches, Loop and Scan bodies.
    public var subgraphs: [Graph] {
        switch self {
        case .graph(let g): [g]
        case .graphs(let gs): gs
        default: []
        }
    }

    /// True for a graph or a list of graphs.
    @inlinable public var holdsGraphs: Bool {
        switch self {
        case .graph, .graphs: true
        default: false
        }
    }

    /// The kind of value, without the value.
    public var kind: AttributeKind {
        switch self {
        case .float: .float
        case .int: .int
        case .string: .string
        case .tensor: .tensor
        case .graph: .graph
        case .sparseTensor: .sparseTensor
        case .type: .type
        case .floats: .floats
        case .ints: .ints
        case .strings: .strings
        case .tensors: .tensors
        case .graphs: .graphs
        case .sparseTensors: .sparseTensors
        case .types: .types
        case .reference(_, let kind): kind
        }
    }
}

/// The kinds an attribute value can have.
public enum AttributeKind: String, Sendable, Hashable {
    case undefined, float, int, string, tensor, graph, sparseTensor, type
    case floats, ints, strings, tensors, graphs, sparseTensors, types
}

/// A named attribute of a node.
public struct Attribute: Sendable, Hashable {
    public var name: String
    public var value: AttributeValue
    public var docString: String
    public var carried: CarriedFields

    public init(_ name: String, _ value: AttributeValue, docString: String = "", carried: CarriedFields = .none) {
        self.name = name
        self.value = value
        self.docString = docString
        self.carried = carried
    }
}
