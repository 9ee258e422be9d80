/// Why channel pruning could not run.
public enum PruneError: Error, Sendable, CustomStringConvertible {
    /// A constant does not have the shape the channel analysis expected.
    case invalidEdit(String)
    /// Calibration data does not fit the model.
    case calibration(String)
    /// The options ask for something impossible (a ratio outside [0, 1), an unknown layer name).
    case invalidOptions(String)

    public var description: String {
        switch self {
        case .invalidEdit(let text): "cannot prune: \(text)"
        case .calibration(let text): "calibration data: \(text)"
        case .invalidOptions(let text): text
        }
    }
}
