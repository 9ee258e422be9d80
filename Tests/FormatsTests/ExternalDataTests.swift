import Foundation
import Graph
import Testing
@testable import Formats

@Suite("ONNX external data")
struct ExternalDataTests {
    @Test("the external_data sample loads its weights from weights.bin at the given offsets")
    func readSample() throws {
        let url = try #require(Fixtures.existing("external_data/model.onnx"))
        let model = try ONNXFormat.read(contentsOf: url)
        let blob = try Data(contentsOf: url.deletingLastPathComponent().appendingPathComponent("weights.bin"))
        let proto = try Onnx_ModelProto(serializedBytes: try Data(contentsOf: url))
        #expect(model.graph.initializers.count == proto.graph.initializer.count)
        for (tensor, p) in zip(model.graph.initializers, proto.graph.initializer) {
            let entries = Dictionary(uniqueKeysWithValues: p.externalData.map { ($0.key, $0.value) })
            let offset = try #require(Int(entries["offset"] ?? ""))
            let length = try #require(Int(entries["length"] ?? ""))
            #expect(tensor.bytes == blob.subdata(in: offset..<offset + length), "\(tensor.name)")
            #expect(tensor.carried.isEmpty)
        }
    }

    @Test("automatic mode moves weights out when over the limit, 64-byte aligned, and reads back identical")
    func writeWithForcedThreshold() throws {
        let url = try #require(Fixtures.existing("resnet_mini.onnx"))
        let model = try ONNXFormat.read(contentsOf: url)
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("small.onnx")
        var options = ONNXWriteOptions()
        options.protobufLimit = 10_000
        options.automaticMinimumBytes = 100
        try ONNXFormat.write(model, to: out, options: options)

        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(files == ["small.onnx", "small.onnx.data"])
        let proto = try Onnx_ModelProto(serializedBytes: try Data(contentsOf: out))
        var external = 0
        for t in proto.graph.initializer where t.dataLocation == .external {
            external += 1
            let entries = Dictionary(uniqueKeysWithValues: t.externalData.map { ($0.key, $0.value) })
            #expect(entries["location"] == "small.onnx.data")
            #expect((Int(entries["offset"] ?? "") ?? 1) % 64 == 0)
            #expect(!t.hasRawData)
        }
        #expect(external > 0)
        #expect(try ONNXFormat.read(contentsOf: out) == model)

        // The same model written inline is one file; reading back is identical too.
        let inline = folder.appendingPathComponent("inline.onnx")
        try ONNXFormat.write(model, to: inline)
        let inlineProto = try Onnx_ModelProto(serializedBytes: try Data(contentsOf: inline))
        #expect(inlineProto.graph.initializer.allSatisfy { $0.hasRawData && $0.externalData.isEmpty })
        #expect(try ONNXFormat.read(contentsOf: inline) == model)
    }

    @Test("always(minimumBytes:) moves exactly the tensors at or above the size")
    func alwaysPolicy() throws {
        var model = Fixtures.tinyModel(weightCount: 64)
        model.graph.initializers.append(Tensor(name: "small", shape: [2], floats: [1, 2]))
        model.graph.inputs.append(Value(name: "small", .float32, [2]))
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("m.onnx")
        try ONNXFormat.write(model, to: out, options: ONNXWriteOptions(externalData: .always(minimumBytes: 64)))
        let proto = try Onnx_ModelProto(serializedBytes: try Data(contentsOf: out))
        #expect(proto.graph.initializer.map { $0.dataLocation == .external } == [true, false])
        #expect(try Data(contentsOf: folder.appendingPathComponent("m.onnx.data")).count == 256)
        #expect(try ONNXFormat.read(contentsOf: out) == model)

        try ONNXFormat.write(model, to: out, options: ONNXWriteOptions(externalData: .never))
        #expect(try ONNXFormat.read(contentsOf: out) == model)
    }

    @Test("automatic mode also moves weights out when only the encoded size is over the limit")
    func automaticFallback() throws {
        var model = Fixtures.tinyModel(weightCount: 256)
        model.graph.initializers.append(
            Tensor(name: "labels", elementType: .string, shape: [2], storage: .strings([Data("cat".utf8), Data("dog".utf8)])))
        model.graph.inputs.append(Value(name: "labels", .string, [2]))
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("m.onnx")
        var options = ONNXWriteOptions()
        options.protobufLimit = 1024 + 7  // above the 1030 bytes of tensor data, below the encoded size
        options.automaticMinimumBytes = 512
        try ONNXFormat.write(model, to: out, options: options)
        let proto = try Onnx_ModelProto(serializedBytes: try Data(contentsOf: out))
        #expect(proto.graph.initializer.map { $0.dataLocation == .external } == [true, false])
        #expect(try ONNXFormat.read(contentsOf: out) == model)
    }

    /// Writes a model whose weight 'w' ([4, 4] float32) points at `location` with the given
    /// offset and length, and returns the error reading it gives.
    func readError(location: String, offset: Int = 0, length: Int = 64, setup: (URL) throws -> Void = { _ in }) throws -> String? {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let modelFolder = folder.appendingPathComponent("model")
        try FileManager.default.createDirectory(at: modelFolder, withIntermediateDirectories: true)
        try setup(modelFolder)
        var w = ProtoBuilder.tensor("w", 1, [4, 4])
        w.externalData = [("location", location), ("offset", String(offset)), ("length", String(length))].map { k, v in
            var e = Onnx_StringStringEntryProto()
            e.key = k
            e.value = v
            return e
        }
        w.dataLocation = .external
        var node = Onnx_NodeProto()
        node.opType = "MatMul"
        node.input = ["x", "w"]
        node.output = ["y"]
        let url = modelFolder.appendingPathComponent("ext.onnx")
        let bytes: Data = try ProtoBuilder.model(nodes: [node], inputs: ["x"], outputs: ["y"], initializers: [w]).serializedBytes()
        try bytes.write(to: url)
        return formatError { () throws(FormatError) in _ = try ONNXFormat.read(contentsOf: url) }
    }

    @Test("a symlink that leads out of the model's folder is refused")
    func symlinkEscape() throws {
        let message = try readError(location: "link.bin") { folder in
            let outside = folder.deletingLastPathComponent().appendingPathComponent("secret.bin")
            try Data(count: 64).write(to: outside)
            try FileManager.default.createSymbolicLink(at: folder.appendingPathComponent("link.bin"), withDestinationURL: outside)
        }
        #expect(message?.contains("ext.onnx: tensor 'w': external data location 'link.bin' escapes the model's folder") == true, "\(message ?? "no error")")
    }

    @Test("a symlink that stays inside the folder is fine")
    func symlinkInside() throws {
        let message = try readError(location: "link.bin") { folder in
            try Data(count: 64).write(to: folder.appendingPathComponent("real.bin"))
            try FileManager.default.createSymbolicLink(
                at: folder.appendingPathComponent("link.bin"), withDestinationURL: folder.appendingPathComponent("real.bin"))
        }
        #expect(message == nil)
    }

    @Test("offsets and lengths are bounds-checked against the file")
    func bounds() throws {
        let write: (URL) throws -> Void = { try Data(count: 100).write(to: $0.appendingPathComponent("w.bin")) }
        let past = try readError(location: "w.bin", offset: 200, setup: write)
        #expect(past?.contains("tensor 'w': external data offset 200 is past the end of 'w.bin' (100 bytes)") == true, "\(past ?? "")")
        let outside = try readError(location: "w.bin", offset: 64, length: 64, setup: write)
        #expect(outside?.contains("tensor 'w': external data range 64..<128 lies outside 'w.bin' (100 bytes)") == true, "\(outside ?? "")")
        let short = try readError(location: "w.bin", offset: 0, length: 60, setup: write)
        #expect(short?.contains("tensor 'w': external data has 60 bytes, shape [4, 4] of float32 needs 64") == true, "\(short ?? "")")
        let negative = try readError(location: "w.bin", offset: -1, setup: write)
        #expect(negative?.contains("offset '-1' is not a non-negative integer") == true, "\(negative ?? "")")
        let inSub = try readError(location: "sub/../w.bin", setup: write)
        #expect(inSub?.contains("escapes the model's folder") == true)
        #expect(try readError(location: "./w.bin", setup: write) == nil)
    }

    @Test("external data in a model decoded from memory needs a base directory")
    func noBaseDirectory() throws {
        let url = try #require(Fixtures.existing("external_data/model.onnx"))
        let message = formatError { () throws(FormatError) in
            _ = try ONNXFormat.decode((try? Data(contentsOf: url)) ?? Data(), baseDirectory: nil, source: "mem.onnx")
        }
        #expect(message?.hasPrefix("mem.onnx: tensor '") == true)
        #expect(message?.contains("without a base directory") == true)
    }
}
