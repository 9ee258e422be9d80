import Foundation
import Graph
import SwiftProtobuf

/// Where `ONNXFormat.write` puts tensor data.
public enum ExternalDataPolicy: Sendable, Hashable {
    /// Inline, unless the model would exceed protobuf's 2 GB limit; then tensors of 1 KiB and more
    /// go to the external data file.
    case automatic
    /// Always inline; writing a model over 2 GB fails.
    case never
    /// Tensors of at least `minimumBytes` bytes go to the external data file.
    case always(minimumBytes: Int)
}

/// Options for writing ONNX files.
public struct ONNXWriteOptions: Sendable {
    public var externalData: ExternalDataPolicy
    /// The serialized size `.automatic` keeps below: protobuf's 2 GB limit (tests lower it).
    var protobufLimit = Int(Int32.max)
    /// The smallest tensor `.automatic` moves out, as `onnx.save`'s `size_threshold`.
    var automaticMinimumBytes = 1024

    public init(externalData: ExternalDataPolicy = .automatic) {
        self.externalData = externalData
    }
}

/// Reads and writes ONNX models (`.onnx`, protobuf), losslessly: fields the IR does not model are
/// carried through unchanged.
public enum ONNXFormat {
    /// Reads the model at `url`, with external data resolved relative to its folder, and validates
    /// its graph.
    public static func read(contentsOf url: URL) throws(FormatError) -> Model {
        let path = url.path
        let data = try ONNXStreaming.mapModelFile(path)
        return try decode(data, baseDirectory: url.deletingLastPathComponent(), source: path, piecewise: true, releasePages: true)
    }

    /// Decodes a serialized model. External data is resolved relative to `baseDirectory` (an error
    /// when nil); `source` names the data in error messages.
    public static func decode(_ data: Data, baseDirectory: URL?, source: String) throws(FormatError) -> Model {
        try decode(data, baseDirectory: baseDirectory, source: source, piecewise: false, releasePages: false)
    }

    /// `piecewise` decodes the main graph's initializers one by one (see `ONNXStreaming`);
    /// `releasePages` is only for `data` that is a private read-only mapping of a file.
    static func decode(
        _ data: Data, baseDirectory: URL?, source: String, piecewise: Bool, releasePages: Bool
    ) throws(FormatError) -> Model {
        guard !data.isEmpty else { throw FormatError(source: source, "is empty (0 bytes)") }
        var decoded = piecewise ? ONNXStreaming.decodePiecewise(data, release: releasePages) : nil
        if decoded == nil {
            do {
                decoded = try Onnx_ModelProto(serializedBytes: data)
            } catch {
                throw FormatError(source: source, "not an ONNX model: protobuf decoding failed (\(error))")
            }
        }
        guard let proto = decoded else { throw FormatError(source: source, "not an ONNX model") }
        decoded = nil
        let reader = ONNXReader(source: source, baseDirectory: baseDirectory)
        let model = try reader.model(proto)
        do {
            try model.graph.validate()
        } catch {
            throw FormatError(source: source, error.description)
        }
        return model
    }

    /// Serializes `model` with every tensor inline.
    public static func encode(_ model: Model) throws(FormatError) -> Data {
        let writer = ONNXWriter(source: "model '\(model.graph.name)'", externalMinimumBytes: nil, externalLocation: "")
        let proto = try writer.model(model)
        do {
            let bytes: Data = try proto.serializedBytes()
            return bytes
        } catch {
            throw FormatError(source: writer.source, message(for: error))
        }
    }

    /// Writes `model` to `url` atomically. External data, when the policy calls for it, goes to
    /// "<file name>.data" beside it, each tensor 64-byte aligned.
    public static func write(_ model: Model, to url: URL, options: ONNXWriteOptions = .init()) throws(FormatError) {
        let path = url.path
        let location = url.lastPathComponent + ".data"
        let limit = Int(Int32.max)
        var minimum: Int?
        switch options.externalData {
        case .never: minimum = nil
        case .always(let bytes): minimum = max(bytes, 0)
        case .automatic: minimum = tensorBytes(model) >= options.protobufLimit ? options.automaticMinimumBytes : nil
        }
        var writer = ONNXWriter(source: path, externalMinimumBytes: minimum, externalLocation: location)
        var layout = try self.layout(writer.model(model), path: path)
        if options.externalData == .automatic, minimum == nil, layout.size >= min(options.protobufLimit, limit) {
            // The estimate missed (many small tensors, or a large graph): move weights out.
            writer = ONNXWriter(source: path, externalMinimumBytes: options.automaticMinimumBytes, externalLocation: location)
            layout = try self.layout(writer.model(model), path: path)
        }
        guard layout.size < limit else {
            throw FormatError(source: path, "the model is \(layout.size) bytes, over protobuf's 2 GB limit; write it with external data")
        }
        if writer.plan.chunks.isEmpty {
            var file = try AtomicFile(url)
            try layout.write(to: &file)
            try file.commit()
        } else {
            let dataURL = url.deletingLastPathComponent().appendingPathComponent(location)
            var dataFile = try AtomicFile(dataURL)
            try writer.plan.write(to: &dataFile)
            var modelFile = try AtomicFile(url)
            try layout.write(to: &modelFile)
            try dataFile.commit()
            try modelFile.commit()
        }
    }

    private static func layout(_ proto: Onnx_ModelProto, path: String) throws(FormatError) -> ONNXStreaming.Layout {
        do {
            return try ONNXStreaming.Layout(proto)
        } catch {
            throw FormatError(source: path, message(for: error))
        }
    }

    // MARK: Helpers

    private static func message(for error: any Error) -> String {
        if let error = error as? FormatError { return error.message }
        return "cannot encode: \(error)"
    }

    /// Bytes of tensor data in the model, subgraphs and functions included: the bulk of its size.
    static func tensorBytes(_ model: Model) -> Int {
        var total = tensorBytes(model.graph)
        for f in model.functions {
            for n in f.nodes { total &+= tensorBytes(n.attributes) }
        }
        return total
    }

    private static func tensorBytes(_ graph: Graph) -> Int {
        var total = 0
        for t in graph.initializers { total &+= t.byteCount }
        for s in graph.sparseInitializers { total &+= s.values.byteCount &+ s.indices.byteCount }
        for n in graph.nodes { total &+= tensorBytes(n.attributes) }
        return total
    }

    private static func tensorBytes(_ attributes: [Attribute]) -> Int {
        var total = 0
        for a in attributes {
            switch a.value {
            case .tensor(let t): total &+= t.byteCount
            case .tensors(let ts): for t in ts { total &+= t.byteCount }
            case .sparseTensor(let s): total &+= s.values.byteCount &+ s.indices.byteCount
            case .sparseTensors(let ss): for s in ss { total &+= s.values.byteCount &+ s.indices.byteCount }
            case .graph(let g): total &+= tensorBytes(g)
            case .graphs(let gs): for g in gs { total &+= tensorBytes(g) }
            default: break
            }
        }
        return total
    }
}

extension ONNXFormat {
    /// Decodes one serialized TensorProto (the `.pb` files of the ONNX backend tests). External
    /// data is resolved relative to `baseDirectory`.
    public static func decodeTensor(_ data: Data, baseDirectory: URL?, source: String) throws(FormatError) -> Tensor {
        let proto: Onnx_TensorProto
        do {
            proto = try Onnx_TensorProto(serializedBytes: data)
        } catch {
            throw FormatError(source: source, "not an ONNX tensor: protobuf decoding failed (\(error))")
        }
        return try ONNXReader(source: source, baseDirectory: baseDirectory).tensor(proto, "tensor '\(proto.name)'")
    }

    /// Serializes one tensor as a TensorProto.
    public static func encodeTensor(_ tensor: Tensor) throws(FormatError) -> Data {
        let writer = ONNXWriter(source: "tensor '\(tensor.name)'", externalMinimumBytes: nil, externalLocation: "")
        let proto = try writer.tensor(tensor, "tensor '\(tensor.name)'")
        do {
            return try proto.serializedBytes()
        } catch {
            throw FormatError(source: "tensor '\(tensor.name)'", "cannot encode: \(error)")
        }
    }
}
