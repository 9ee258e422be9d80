/// Errors while planning or running a model. Each names the node, input or tensor at fault.
public enum RuntimeError: Error, Sendable, CustomStringConvertible {
    /// The model uses something the runtime has no kernel or support for.
    case unsupported(String)
    /// The caller's inputs do not fit the model.
    case badInput(String)
    /// A node failed while running.
    case nodeFailed(node: String, String)

    public var description: String {
        switch self {
        case .unsupported(let what): "not supported by Pare's runtime: \(what)"
        case .badInput(let problem): problem
        case .nodeFailed(let node, let problem): "node \(node): \(problem)"
        }
    }
}
