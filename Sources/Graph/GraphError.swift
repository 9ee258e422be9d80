/// Errors about a graph's structure or contents. Each names the node, value or tensor at fault.
public enum GraphError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalidTensor(String, String)
    case danglingInput(node: String, input: String)
    case undefinedOutput(String)
    case duplicateDefinition(String, first: String, second: String)
    case cycle([String])
    case shapeMismatch(node: String, String)
    case invalidAttribute(node: String, attribute: String, String)
    case invalidInputShape(String)

    public var description: String {
        switch self {
        case .invalidTensor(let name, let problem):
            "tensor '\(name)' \(problem)"
        case .danglingInput(let node, let input):
            "node \(node) reads '\(input)', which no node, initializer or graph input defines"
        case .undefinedOutput(let name):
            "graph output '\(name)' is not produced by any node, initializer or graph input"
        case .duplicateDefinition(let name, let first, let second):
            "value '\(name)' is defined twice: by \(first) and by \(second)"
        case .cycle(let nodes):
            "the graph has a cycle through \(nodes.prefix(8).joined(separator: ", "))\(nodes.count > 8 ? ", …" : "")"
        case .shapeMismatch(let node, let problem):
            "node \(node): \(problem)"
        case .invalidAttribute(let node, let attribute, let problem):
            "node \(node): attribute '\(attribute)' \(problem)"
        case .invalidInputShape(let problem):
            "input shape: \(problem)"
        }
    }
}
