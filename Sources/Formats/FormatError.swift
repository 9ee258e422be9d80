import Foundation

/// A file could not be read or written: names the file, the part at fault and what was expected.
///
/// `description` reads like `model.onnx: tensor 'w': raw_data has 60 bytes, shape [4, 4] of float32
/// needs 64`.
public struct FormatError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file's path, or the name the caller gave data decoded from memory.
    public var source: String
    /// What is wrong, naming the tensor, node or field at fault.
    public var message: String

    public init(source: String, _ message: String) {
        self.source = source
        self.message = message
    }

    public var description: String { source.isEmpty ? message : "\(source): \(message)" }
}
