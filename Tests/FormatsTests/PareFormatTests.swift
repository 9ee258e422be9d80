import Foundation
import Graph
import Testing
@testable import Formats

@Suite("Mobile format (.pare)")
struct PareFormatTests {
    @Test("every sample survives .pare → model unchanged (minus doc strings and value_info)", arguments: Fixtures.sampleNames)
    func roundTrip(name: String) throws {
        let model = try PareFixtures.sample(name)
        let decoded = try PareFormat.decode(try PareFormat.encode(model), source: name).model
        let expected = PareFixtures.stripped(model)
        #expect(decoded.graph == expected.graph)
        #expect(decoded.opsetImports == model.opsetImports)
        #expect(decoded.irVersion == model.irVersion)
    }

    @Test("the numbering the reader makes from string-table keys is the one names give", arguments: Fixtures.sampleNames)
    func numberingFromKeys(name: String) throws {
        let file = try PareFormat.decode(try PareFormat.encode(try PareFixtures.sample(name)), source: name)
        let byName = ValueNumbering(file.model.graph)
        let byKey = file.numbering
        #expect(byKey.count == byName.count && byKey.ids == byName.ids)
        #expect(byKey.nodeInputs == byName.nodeInputs && byKey.nodeOutputs == byName.nodeOutputs)
        #expect(byKey.initializerIDs == byName.initializerIDs && byKey.inputIDs == byName.inputIDs)
        #expect(byKey.outputIDs == byName.outputIDs && byKey.sparseInitializerIDs == byName.sparseInitializerIDs)
        #expect(byKey.numbers(file.model.graph))
    }

    @Test("nodes whose attributes repeat an earlier node's bytes read back with their own attributes")
    func repeatedAttributes() throws {
        // Sets that differ in one byte, or only in length, with repeats after the reader's few
        // remembered sets have moved on, and a subgraph repeated (never shared).
        let threeByThree: [Attribute] = [Attribute("kernel_shape", .ints([3, 3])), Attribute("pads", .ints([1, 1, 1, 1]))]
        let longer = threeByThree + [Attribute("group", .int(1))]
        let other = [Attribute("kernel_shape", .ints([3, 4])), Attribute("pads", .ints([1, 1, 1, 1]))]
        let larger = [Attribute("kernel_shape", .ints([3, 3 + 128])), Attribute("pads", .ints([1, 1, 1, 1]))]
        let body = Graph(name: "body", nodes: [Node(opType: "Relu", inputs: ["x"], outputs: ["b"])], outputs: [Value(name: "b", type: nil)])
        let sets: [[Attribute]] = [
            threeByThree, threeByThree, longer, other, threeByThree, larger, [Attribute("alpha", .float(0.5))],
            [Attribute("tensor", .tensor(Tensor(name: "", shape: [1], floats: [2])))], [Attribute("body", .graph(body))],
            [Attribute("body", .graph(body))], other, threeByThree, [], longer,
        ]
        var nodes: [Node] = []
        for (i, attributes) in sets.enumerated() {
            nodes.append(Node(name: "n\(i)", opType: "Relu", inputs: [i == 0 ? "x" : "h\(i - 1)"], outputs: ["h\(i)"], attributes: attributes))
        }
        let graph = Graph(name: "g", nodes: nodes, inputs: [Value(name: "x", .float32, [.known(2)])],
                          outputs: [Value(name: "h\(sets.count - 1)", type: nil)])
        let model = Model(irVersion: 8, opsetImports: [OpsetImport(domain: "", version: 17)], graph: graph)
        let decoded = try PareFormat.decode(try PareFormat.encode(model), source: "repeats.pare").model
        #expect(decoded.graph.nodes.map(\.attributes) == PareFixtures.stripped(model).graph.nodes.map(\.attributes))
    }

    @Test("the writer is deterministic: encode, decode, encode gives the same bytes", arguments: Fixtures.sampleNames)
    func deterministic(name: String) throws {
        let model = try PareFixtures.sample(name)
        let options = PareWriteOptions(compression: .zstd(level: 3), sourceSHA256: String(repeating: "ab", count: 32),
                                       preprocessing: Preprocessing(mean: [0.5], std: [0.25], layout: "NCHW"))
        let first = try PareFormat.encode(model, options: options)
        #expect(try PareFormat.encode(model, options: options) == first)
        let again = try PareFormat.encode(try PareFormat.decode(first, source: name).model, options: PareWriteOptions(compression: .zstd(level: 3)))
        #expect(again == first)
    }

    @Test("a .pare read back as ONNX and written again gives the same bytes")
    func throughONNX() throws {
        let model = try PareFixtures.sample("unet_thesis.onnx")
        let options = PareWriteOptions(sourceSHA256: String(repeating: "0f", count: 32), preprocessing: Preprocessing(layout: "NHWC"))
        let pare = try PareFormat.encode(model, options: options)
        let onnx = try ONNXFormat.encode(try PareFormat.decode(pare, source: "u.pare").model)
        let back = try ONNXFormat.decode(onnx, baseDirectory: nil, source: "u.onnx")
        // A new digest is offered, but the recorded source is kept.
        #expect(try PareFormat.encode(back, options: PareWriteOptions(sourceSHA256: String(repeating: "11", count: 32))) == pare)
    }

    @Test("readIfPare decodes a .pare whatever its extension, passes over an ONNX file, and names a missing file or a folder")
    func readIfPare() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("model.bin").path
        let model = try PareFixtures.sample("resnet_mini.onnx")
        try PareFormat.write(model, to: URL(fileURLWithPath: path))
        let file = try #require(try PareFormat.readIfPare(atPath: path))
        #expect(file.model.graph.nodes.count == model.graph.nodes.count)
        #expect(try PareFormat.readIfPare(atPath: Fixtures.url("resnet_mini.onnx").path) == nil)
        let missing = folder.appendingPathComponent("absent.pare").path
        do {
            _ = try PareFormat.readIfPare(atPath: missing)
            Issue.record("a missing file was read")
        } catch {
            #expect("\(error)".contains("absent.pare") && "\(error)".contains("no such file"), "\(error)")
        }
        do {
            _ = try PareFormat.readIfPare(atPath: folder.path)
            Issue.record("a folder was read")
        } catch {
            #expect("\(error)".contains("is a folder"), "\(error)")
        }
    }

    @Test("layout: header fields, 64-byte aligned blobs, and uncompressed tensors used in place")
    func layoutAndZeroCopy() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("resnet.pare")
        try PareFormat.write(try PareFixtures.sample("resnet_mini.onnx"), to: url)
        let bytes = try Data(contentsOf: url)
        #expect(PareFormat.hasMagic(bytes) && PareFormat.isPareFile(url))
        #expect(PareFixtures.read64([UInt8](bytes), 16) == UInt64(bytes.count))
        let file = try PareFormat.read(contentsOf: url)
        #expect(file.majorVersion == 1 && file.minorVersion == 0)
        #expect(file.sections.map(\.kind) == ["META", "STRS", "TENS", "GRPH", "DATA"])
        let data = try #require(file.sections.last)
        #expect(data.offset % 64 == 0)
        var inPlace = 0
        for tensor in file.model.graph.initializers where tensor.byteCount >= 64 {
            let address = try #require(tensor.bytes?.withUnsafeBytes { $0.baseAddress })
            // Views of the mapping land on 64-byte boundaries; a copy would be 16-byte aligned at best by chance.
            #expect(Int(bitPattern: address) % 64 == 0, "tensor '\(tensor.name)'")
            inPlace += 1
        }
        #expect(inPlace > 5)
    }

    @Test("zstd blobs are smaller where that pays and decode to the same tensors")
    func compression() throws {
        // Half the weights are zero, so zstd pays; the model must decode to the same values.
        var model = try PareFixtures.sample("unet_thesis.onnx")
        for i in model.graph.initializers.indices where model.graph.initializers[i].elementCount > 64 {
            var values = model.graph.initializers[i].floatValues()!
            for j in stride(from: 0, to: values.count, by: 2) { values[j] = 0 }
            model.graph.initializers[i].storage = .bytes(values.withUnsafeBytes { Data($0) })
        }
        let plain = try PareFormat.encode(model)
        let packed = try PareFormat.encode(model, options: PareWriteOptions(compression: .zstd(level: 3)))
        #expect(packed.count < plain.count * 3 / 4)
        let file = try PareFormat.decode(packed, source: "packed")
        #expect(file.tensors.contains { $0.compression == "zstd" })
        #expect(file.model.graph == PareFixtures.stripped(model).graph)
    }

    @Test("metadata: producer, source digest, source producer, preprocessing and signatures")
    func metadata() throws {
        var model = try PareFixtures.sample("unet_thesis.onnx")
        model.producerName = "pytorch"
        model.producerVersion = "2.5.0"
        model.metadata = [MetadataEntry("author", "thesis")]
        let digest = SHA256.hex(Data("source".utf8))
        let options = PareWriteOptions(sourceSHA256: digest, preprocessing: Preprocessing(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], layout: "NCHW"))
        let decoded = try PareFormat.decode(try PareFormat.encode(model, options: options), source: "m").model
        #expect(decoded.producerName == "Pare" && decoded.producerVersion == PareRelease.version)
        #expect(decoded.metadata.map(\.key) == [
            PareMetadataKey.sourceSHA256, PareMetadataKey.sourceProducer, PareMetadataKey.mean, PareMetadataKey.std,
            PareMetadataKey.layout, "author",
        ])
        #expect(decoded.metadata.first { $0.key == PareMetadataKey.sourceProducer }?.value == "pytorch 2.5.0")
        let preprocessing = try Preprocessing(metadata: decoded.metadata)
        #expect(preprocessing == options.preprocessing)
        #expect(decoded.graph.runtimeInputs == model.graph.runtimeInputs.map { Value(name: $0.name, type: $0.type) })
    }

    @Test("SHA-256 matches the FIPS 180-4 examples")
    func sha256() {
        #expect(SHA256.hex(Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex(Data(repeating: UInt8(ascii: "a"), count: 1_000_000))
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("a newer minor version with an extra section loads")
    func newerMinorLoads() throws {
        let model = try PareFixtures.sample("mobilenet_mini.onnx")
        let file = PareFixtures.rebuilt(try PareFormat.encode(model), minor: 7, extra: [("XTRA", 0, Array("future data".utf8))])
        let decoded = try PareFormat.decode(file, source: "future.pare")
        #expect(decoded.minorVersion == 7)
        #expect(decoded.sections.contains { $0.kind == "XTRA" && !$0.known })
        #expect(decoded.model.graph == PareFixtures.stripped(model).graph)
    }

    @Test("a newer major version is refused naming both versions; an unknown required section too")
    func newerMajorRefused() throws {
        let encoded = try PareFormat.encode(try PareFixtures.sample("mobilenet_mini.onnx"))
        let error = #expect(throws: FormatError.self) { try PareFormat.decode(PareFixtures.rebuilt(encoded, major: 2, minor: 3), source: "new.pare") }
        #expect(error?.message.contains("2.3") == true && error?.message.contains("1.") == true, "\(String(describing: error))")
        let required = #expect(throws: FormatError.self) {
            try PareFormat.decode(PareFixtures.rebuilt(encoded, minor: 1, extra: [("QNT4", 1, [1, 2, 3])]), source: "req.pare")
        }
        #expect(required?.message.contains("QNT4") == true)
    }

    @Test("deferred blob checks: loading skips them, verifyTensorData finds the corruption")
    func deferredVerification() throws {
        let encoded = try PareFormat.encode(try PareFixtures.sample("resnet_mini.onnx"))
        let data = try #require(PareFixtures.sections(encoded).last)
        var corrupt = [UInt8](encoded)
        corrupt[data.offset + 100] ^= 0x40
        #expect(throws: FormatError.self) { try PareFormat.decode(Data(corrupt), source: "c.pare") }
        let lazy = try PareFormat.decode(Data(corrupt), source: "c.pare", options: PareReadOptions(verifiesTensorData: false))
        let error = #expect(throws: FormatError.self) { try lazy.verifyTensorData() }
        #expect(error?.message.contains("checksum") == true)
    }

    @Test("deferred blob checks defer the zero check of the gaps between blobs too; the padding outside DATA is still checked at load")
    func deferredGapCheck() throws {
        // Two 12-byte blobs, each at a multiple of 64: bytes 12..<64 of DATA are a gap.
        let graph = Graph(name: "g", nodes: [Node(name: "sum", opType: "Add", inputs: ["a", "b"], outputs: ["y"])],
                          outputs: [Value(name: "y", .float32, [3])],
                          initializers: [Tensor(name: "a", shape: [3], floats: [1, 2, 3]), Tensor(name: "b", shape: [3], floats: [4, 5, 6])])
        let encoded = try PareFormat.encode(Model(opsetImports: [OpsetImport(domain: "", version: 17)], graph: graph))
        let data = try #require(PareFixtures.sections(encoded).first { PareLayout.Section.tag($0.kind) == "DATA" })
        var corrupt = [UInt8](encoded)
        corrupt[data.offset + 20] = 9
        let message = "padding byte at offset \(data.offset + 20) is 9, not zero (the file is corrupt)"
        let atLoad = #expect(throws: FormatError.self) { try PareFormat.decode(Data(corrupt), source: "c.pare") }
        #expect(atLoad?.message == message)
        let lazy = try PareFormat.decode(Data(corrupt), source: "c.pare", options: PareReadOptions(verifiesTensorData: false))
        let later = #expect(throws: FormatError.self) { try lazy.verifyTensorData() }
        #expect(later?.message == message)
        try PareFormat.decode(encoded, source: "ok.pare", options: PareReadOptions(verifiesTensorData: false)).verifyTensorData()

        // A byte of the padding before DATA is refused at load either way.
        var before = [UInt8](encoded)
        before[data.offset - 1] = 9
        let early = #expect(throws: FormatError.self) {
            try PareFormat.decode(Data(before), source: "c.pare", options: PareReadOptions(verifiesTensorData: false))
        }
        #expect(early?.message == "padding byte at offset \(data.offset - 1) is 9, not zero (the file is corrupt)")
    }

    @Test("models the format cannot hold are refused by the writer, naming what to do")
    func writerRefusals() throws {
        let withFunctions = try ONNXFormat.read(contentsOf: Fixtures.url("ir_features.onnx"))
        if !withFunctions.functions.isEmpty {
            let error = #expect(throws: FormatError.self) { try PareFormat.encode(withFunctions) }
            #expect(error?.message.contains("inline") == true)
        }
        var broken = Fixtures.tinyModel()
        broken.graph.initializers[0].storage = .bytes(Data(count: 3))
        let error = #expect(throws: FormatError.self) { try PareFormat.encode(broken) }
        #expect(error?.message.contains("'w'") == true)
    }

    @Test("declared types may leave the element type undefined; a negative size is stored as unknown")
    func declaredTypeEdges() throws {
        var model = Fixtures.tinyModel()
        model.graph.inputs[0].type = .tensor(TensorType(model.graph.inputs[0].tensorType!.elementType, [.known(-1), .known(4)]))
        model.graph.outputs[0].type = .tensor(TensorType(.undefined, nil))
        let decoded = try PareFormat.decode(try PareFormat.encode(model), source: "edges.pare").model
        #expect(decoded.graph.inputs[0].tensorType?.dims == [.unknown, .known(4)])
        #expect(decoded.graph.outputs[0].tensorType == TensorType(.undefined, nil))
    }

    @Test("a zstd blob must be exactly one frame holding the expected size")
    func zstdFrames() throws {
        let payload = [UInt8](repeating: 7, count: 4096)
        let frame = try #require(payload.withUnsafeBytes { Zstd.compress($0, level: 3) })
        let decoded = try frame.withUnsafeBytes { try Zstd.decompress($0, expectedCount: 4096) }
        #expect([UInt8](decoded) == payload)
        for damaged in [frame + frame, frame + [0], Array(frame.dropLast())] {
            #expect(throws: FormatError.self) { try damaged.withUnsafeBytes { try Zstd.decompress($0, expectedCount: 4096) } }
        }
        #expect(throws: FormatError.self) { try frame.withUnsafeBytes { try Zstd.decompress($0, expectedCount: 4095) } }
    }
}
