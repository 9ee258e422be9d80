import Foundation
import Graph

/// The version of Pare that writes files; `.pare` files record it as their producer.
public enum PareRelease {
    public static let version = "0.1.0"
}

/// How an app should prepare an image for the model's input, recorded in a `.pare` file's metadata.
public struct Preprocessing: Sendable, Hashable, Codable {
    /// Per-channel values subtracted from the input (in the scale the app feeds, e.g. 0–1 or 0–255).
    public var mean: [Float]?
    /// Per-channel values the input is divided by, after subtracting the mean.
    public var std: [Float]?
    /// The input's layout, as the app must feed it ("NCHW" or "NHWC").
    public var layout: String?

    public init(mean: [Float]? = nil, std: [Float]? = nil, layout: String? = nil) {
        self.mean = mean
        self.std = std
        self.layout = layout
    }

    public var isEmpty: Bool { mean == nil && std == nil && layout == nil }
}

/// The metadata keys Pare defines. A `.pare` file lists them first, in this order; other keys
/// (the source model's own metadata_props) follow in their original order.
public enum PareMetadataKey {
    /// "Pare 0.1.0": the writer of the file.
    public static let producer = "pare.producer"
    /// SHA-256 of the model file the conversion started from, as 64 hex digits.
    public static let sourceSHA256 = "pare.source.sha256"
    /// The producer of that source model ("pytorch 2.5.0").
    public static let sourceProducer = "pare.source.producer"
    public static let mean = "pare.preprocess.mean"
    public static let std = "pare.preprocess.std"
    public static let layout = "pare.preprocess.layout"

    static let ordered = [producer, sourceSHA256, sourceProducer, mean, std, layout]
}

extension Preprocessing {
    /// Reads the preprocessing keys of a model's metadata.
    /// - Throws: a message naming the key whose value is not a comma-separated list of numbers.
    public init(metadata: [MetadataEntry]) throws(FormatError) {
        func value(_ key: String) -> String? { metadata.first(where: { $0.key == key })?.value }
        func floats(_ key: String) throws(FormatError) -> [Float]? {
            guard let text = value(key) else { return nil }
            let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { Float($0.trimmingCharacters(in: .whitespaces)) }
            guard !parts.isEmpty, parts.allSatisfy({ $0 != nil && $0!.isFinite }) else {
                throw FormatError(source: "", "metadata '\(key)' = '\(text)' is not a comma-separated list of numbers")
            }
            return parts.map { $0! }
        }
        self.init(mean: try floats(PareMetadataKey.mean), std: try floats(PareMetadataKey.std), layout: value(PareMetadataKey.layout))
    }

    static func text(_ values: [Float]) -> String { values.map { "\($0)" }.joined(separator: ",") }
}

enum PareMetadata {
    /// The key/value pairs a file written from `model` carries. Provenance already recorded in the
    /// model (it came from a `.pare` through ONNX) is kept, so a round trip reproduces the file.
    static func entries(for model: Model, options: PareWriteOptions) -> [MetadataEntry] {
        func existing(_ key: String) -> String? { model.metadata.first(where: { $0.key == key })?.value }
        var known: [String: String] = [:]
        known[PareMetadataKey.producer] = "Pare \(PareRelease.version)"
        known[PareMetadataKey.sourceSHA256] = existing(PareMetadataKey.sourceSHA256) ?? options.sourceSHA256
        let producer = [model.producerName, model.producerVersion].filter { !$0.isEmpty }.joined(separator: " ")
        known[PareMetadataKey.sourceProducer] = existing(PareMetadataKey.sourceProducer) ?? (producer.isEmpty ? nil : producer)
        let pre = options.preprocessing
        known[PareMetadataKey.mean] = pre?.mean.map(Preprocessing.text) ?? existing(PareMetadataKey.mean)
        known[PareMetadataKey.std] = pre?.std.map(Preprocessing.text) ?? existing(PareMetadataKey.std)
        known[PareMetadataKey.layout] = pre?.layout ?? existing(PareMetadataKey.layout)
        var entries = PareMetadataKey.ordered.compactMap { key in known[key].map { MetadataEntry(key, $0) } }
        entries += model.metadata.filter { !PareMetadataKey.ordered.contains($0.key) }
        return entries
    }
}
