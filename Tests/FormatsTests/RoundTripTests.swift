import Foundation
import Graph
import Testing
@testable import Formats

@Suite("ONNX round trip")
struct RoundTripTests {
    @Test("every sample survives read → encode → decode, and encoding is deterministic",
          arguments: Fixtures.sampleNames)
    func sampleRoundTrip(_ name: String) throws {
        let url = try #require(Fixtures.existing(name), "fixture \(name) missing")
        let first = try ONNXFormat.read(contentsOf: url)
        let encoded = try ONNXFormat.encode(first)
        let second = try ONNXFormat.decode(encoded, baseDirectory: nil, source: name)
        #expect(first == second, "\(name) differs after a round trip in: \(differences(first, second))")
        let again = try ONNXFormat.encode(second)
        #expect(encoded == again, "\(name): encoding is not deterministic")
        #expect(try ONNXFormat.encode(first) == encoded, "\(name): encoding the same model twice differs")
        #expect(!first.graph.nodes.isEmpty)

        // Streamed writing produces exactly the encoded bytes; whole-message decoding of the
        // original file gives the same model as the piecewise decoding `read` uses.
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("out.onnx")
        try ONNXFormat.write(first, to: out)
        #expect(try Data(contentsOf: out) == encoded, "\(name): streamed file differs from encode()")
        let whole = try ONNXFormat.decode(try Data(contentsOf: url), baseDirectory: url.deletingLastPathComponent(), source: name)
        #expect(whole == first, "\(name): piecewise and whole decoding differ in \(differences(whole, first))")
    }

    @Test("a sample written to disk and read back is the same model")
    func sampleWriteRead() throws {
        let url = try #require(Fixtures.existing("resnet_mini.onnx"))
        let model = try ONNXFormat.read(contentsOf: url)
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("copy.onnx")
        try ONNXFormat.write(model, to: out)
        #expect(try ONNXFormat.read(contentsOf: out) == model)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(leftovers == ["copy.onnx"], "temporary files left behind: \(leftovers)")
    }

    @Test("a model built in memory round-trips, with its symbolic and unknown dims")
    func tinyModelRoundTrip() throws {
        var model = Fixtures.tinyModel()
        model.metadata = [MetadataEntry("author", "tests")]
        model.graph.valueInfo = [Value(name: "h", type: .tensor(TensorType(.float32, nil)))]
        model.graph.nodes[0].metadata = [MetadataEntry("k", "v")]
        model.graph.nodes[0].docString = "multiply"
        model.graph.initializers.append(
            Tensor(name: "names", elementType: .string, shape: [2], storage: .strings([Data("a".utf8), Data([0xFF, 0])])))
        model.graph.initializers.append(Tensor(name: "empty", elementType: .float32, shape: [0, 3], storage: .bytes(Data())))
        model.graph.inputs.append(Value(name: "names", .string, [2]))
        model.graph.inputs.append(Value(name: "empty", .float32, [0, 3]))
        let data = try ONNXFormat.encode(model)
        let decoded = try ONNXFormat.decode(data, baseDirectory: nil, source: "tiny")
        #expect(decoded == model, "differs in \(differences(model, decoded))")
    }

    @Test("every attribute kind, subgraphs, sparse tensors and functions round-trip")
    func attributeKinds() throws {
        let t = Tensor(name: "", shape: [2], floats: [1, 2])
        let sparse = SparseTensor(
            values: Tensor(name: "sp", shape: [2], floats: [3, 4]),
            indices: Tensor(name: "", shape: [2], int64s: [0, 3]), shape: [2, 2])
        let branch = Graph(
            name: "branch", nodes: [Node(opType: "Identity", inputs: ["x"], outputs: ["b_out"])],
            outputs: [Value(name: "b_out", .float32, nil)])
        let attributes: [Attribute] = [
            Attribute("f", .float(1.5)), Attribute("i", .int(-3)), Attribute("s", .string(Data("hi".utf8))),
            Attribute("t", .tensor(t)), Attribute("g", .graph(branch)), Attribute("st", .sparseTensor(sparse)),
            Attribute("tp", .type(.tensor(TensorType(.int8, [.known(2)])))), Attribute("fs", .floats([1, 2])),
            Attribute("is", .ints([4, 5])), Attribute("ss", .strings([Data("a".utf8)])), Attribute("ts", .tensors([t, t])),
            Attribute("gs", .graphs([branch])), Attribute("sts", .sparseTensors([sparse])),
            Attribute("tps", .types([.tensor(TensorType(.float16, nil))]), docString: "types"),
            Attribute("empty_ints", .ints([])),
        ]
        let function = Function(
            name: "MyOp", domain: "custom", inputs: ["a"], outputs: ["b"], attributeNames: ["scale"],
            attributeDefaults: [Attribute("bias", .float(0))],
            nodes: [Node(opType: "Mul", inputs: ["a", "a"], outputs: ["b"],
                         attributes: [Attribute("scale", .reference("scale", kind: .float))])],
            opsetImports: [OpsetImport(domain: "", version: 17)])
        let graph = Graph(
            name: "kinds",
            nodes: [
                Node(name: "n", opType: "Custom", domain: "custom", inputs: ["x"], outputs: ["y"], attributes: attributes),
                Node(name: "f", opType: "MyOp", domain: "custom", inputs: ["y"], outputs: ["z"]),
            ],
            inputs: [Value(name: "x", .float32, [2])], outputs: [Value(name: "z", .float32, [2])],
            sparseInitializers: [sparse])
        let model = Model(
            opsetImports: [OpsetImport(domain: "", version: 17), OpsetImport(domain: "custom", version: 1)],
            graph: graph, functions: [function])
        let decoded = try ONNXFormat.decode(try ONNXFormat.encode(model), baseDirectory: nil, source: "kinds")
        #expect(decoded == model, "differs in \(differences(model, decoded))")
    }

    @Test("attributes without a type field are typed by the field that is set")
    func untypedAttributes() throws {
        var node = Onnx_NodeProto()
        node.opType = "Custom"
        node.input = ["x"]
        node.output = ["y"]
        var f = Onnx_AttributeProto()
        f.name = "f"
        f.f = 2.5
        var ints = Onnx_AttributeProto()
        ints.name = "ints"
        ints.ints = [1, 2]
        var s = Onnx_AttributeProto()
        s.name = "s"
        s.s = Data("x".utf8)
        node.attribute = [f, ints, s]
        let model = ProtoBuilder.model(nodes: [node], inputs: ["x"], outputs: ["y"])
        let decoded = try ONNXFormat.decode(try model.serializedBytes(), baseDirectory: nil, source: "old.onnx")
        let attrs = decoded.graph.nodes[0].attributes
        #expect(attrs.map(\.value) == [.float(2.5), .ints([1, 2]), .string(Data("x".utf8))])
        #expect(attrs.allSatisfy { $0.carried.isEmpty })
    }

    @Test("graph validation errors are reported with the file name")
    func validationError() throws {
        var node = Onnx_NodeProto()
        node.opType = "Relu"
        node.name = "r"
        node.input = ["nowhere"]
        node.output = ["y"]
        let model = ProtoBuilder.model(nodes: [node], inputs: ["x"], outputs: ["y"])
        let bytes: Data = try model.serializedBytes()
        let message = formatError { () throws(FormatError) in _ = try ONNXFormat.decode(bytes, baseDirectory: nil, source: "dangling.onnx") }
        let text = try #require(message)
        #expect(text.hasPrefix("dangling.onnx: "))
        #expect(text.contains("nowhere"))

        var noGraph = Onnx_ModelProto()
        noGraph.irVersion = 8
        let noGraphBytes: Data = try noGraph.serializedBytes()
        let missing = formatError { () throws(FormatError) in _ = try ONNXFormat.decode(noGraphBytes, baseDirectory: nil, source: "nograph.onnx") }
        #expect(missing == "nograph.onnx: not an ONNX model: it has no graph")
    }
}

/// Builds ONNX protobuf messages directly, for inputs the IR cannot express.
enum ProtoBuilder {
    static func valueInfo(_ name: String, _ type: Int32 = 1, dims: [Int64]? = nil) -> Onnx_ValueInfoProto {
        var tensor = Onnx_TypeProto.Tensor()
        tensor.elemType = type
        if let dims {
            var shape = Onnx_TensorShapeProto()
            shape.dim = dims.map { d in
                var dim = Onnx_TensorShapeProto.Dimension()
                dim.dimValue = d
                return dim
            }
            tensor.shape = shape
        }
        var t = Onnx_TypeProto()
        t.tensorType = tensor
        var v = Onnx_ValueInfoProto()
        v.name = name
        v.type = t
        return v
    }

    static func model(
        nodes: [Onnx_NodeProto], inputs: [String], outputs: [String], initializers: [Onnx_TensorProto] = []
    ) -> Onnx_ModelProto {
        var graph = Onnx_GraphProto()
        graph.name = "g"
        graph.node = nodes
        graph.input = inputs.map { valueInfo($0) }
        graph.output = outputs.map { valueInfo($0) }
        graph.initializer = initializers
        var opset = Onnx_OperatorSetIdProto()
        opset.domain = ""
        opset.version = 17
        var model = Onnx_ModelProto()
        model.irVersion = 8
        model.opsetImport = [opset]
        model.graph = graph
        return model
    }

    static func tensor(_ name: String, _ type: Int32, _ dims: [Int64]) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.name = name
        t.dataType = type
        t.dims = dims
        return t
    }
}
