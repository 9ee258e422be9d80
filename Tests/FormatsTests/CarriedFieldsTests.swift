import Foundation
import Graph
import Testing
@testable import Formats

/// Fields Pare does not model must come back out unchanged.
@Suite("ONNX carried fields")
struct CarriedFieldsTests {
    /// Field 999, varint 42: a field no ONNX version defines.
    static let unknownField = Data([0xB8, 0x3E, 0x2A])

    static func decodeEncode(_ bytes: Data, source: String = "carried.onnx") throws -> Data {
        let model = try ONNXFormat.decode(bytes, baseDirectory: nil, source: source)
        return try ONNXFormat.encode(model)
    }

    @Test("unknown fields on a node and on the model survive")
    func unknownFields() throws {
        var node = Onnx_NodeProto()
        node.name = "r"
        node.opType = "Relu"
        node.input = ["x"]
        node.output = ["y"]
        let nodeBytes: Data = try node.serializedBytes() + CarriedFieldsTests.unknownField
        let nodeWithUnknown = try Onnx_NodeProto(serializedBytes: nodeBytes)
        var modelBytes: Data = try ProtoBuilder.model(nodes: [nodeWithUnknown], inputs: ["x"], outputs: ["y"]).serializedBytes()
        modelBytes += CarriedFieldsTests.unknownField

        let model = try ONNXFormat.decode(modelBytes, baseDirectory: nil, source: "unknown.onnx")
        #expect(!model.carried.isEmpty)
        #expect(!model.graph.nodes[0].carried.isEmpty)
        let output = try ONNXFormat.encode(model)
        let reparsed = try Onnx_ModelProto(serializedBytes: output)
        #expect(reparsed.unknownFields.data == CarriedFieldsTests.unknownField)
        #expect(reparsed.graph.node[0].unknownFields.data == CarriedFieldsTests.unknownField)
        #expect(reparsed.graph.node[0].opType == "Relu")
        #expect(try ONNXFormat.decode(output, baseDirectory: nil, source: "unknown.onnx") == model)
    }

    @Test("an unknown field appended to a real sample survives")
    func unknownFieldOnSample() throws {
        let url = try #require(Fixtures.existing("unet_thesis.onnx"))
        let bytes = try Data(contentsOf: url) + CarriedFieldsTests.unknownField
        let output = try CarriedFieldsTests.decodeEncode(bytes, source: "unet_thesis.onnx")
        #expect(output.suffix(3) == CarriedFieldsTests.unknownField)
        #expect(try Onnx_ModelProto(serializedBytes: output).unknownFields.data == CarriedFieldsTests.unknownField)
    }

    @Test("a sample's proto is unchanged by a round trip when every field is explicit")
    func protoLevelEquality() throws {
        let original = CarriedFieldsTests.richModel()
        let output = try CarriedFieldsTests.decodeEncode(try original.serializedBytes())
        let reparsed = try Onnx_ModelProto(serializedBytes: output)
        #expect(reparsed.trainingInfo == original.trainingInfo)
        #expect(reparsed.configuration == original.configuration)
        #expect(reparsed.graph.quantizationAnnotation == original.graph.quantizationAnnotation)
        #expect(reparsed.graph.node == original.graph.node)
        #expect(reparsed.graph.valueInfo == original.graph.valueInfo)
        #expect(reparsed.graph.input == original.graph.input)
        #expect(reparsed.graph.initializer == original.graph.initializer)
        #expect(reparsed.functions == original.functions)
        #expect(reparsed == original)
    }

    @Test("known fields the IR does not model are carried, and only where present")
    func knownFieldsAreCarried() throws {
        let model = try ONNXFormat.decode(try CarriedFieldsTests.richModel().serializedBytes(), baseDirectory: nil, source: "rich.onnx")
        #expect(!model.carried.isEmpty)  // training_info, configuration
        #expect(!model.graph.carried.isEmpty)  // quantization_annotation
        #expect(!model.graph.nodes[0].carried.isEmpty)  // overload, device_configurations
        #expect(model.graph.nodes[1].carried.isEmpty)
        #expect(!model.graph.initializers[0].carried.isEmpty)  // segment
        #expect(model.graph.initializers[1].carried.isEmpty)
        #expect(!model.functions[0].carried.isEmpty)  // overload
        guard case .carried? = model.graph.valueInfo[0].type else {
            Issue.record("a sequence type must be carried, got \(String(describing: model.graph.valueInfo[0].type))")
            return
        }
        guard case .carried? = model.graph.valueInfo[1].type else {
            Issue.record("a type with a denotation must be carried")
            return
        }
        guard case .carried? = model.graph.inputs[0].type else {
            Issue.record("a dimension with a denotation must be carried")
            return
        }
        #expect(model.graph.outputs[0].type == .tensor(TensorType(.float32, [.known(4)])))
    }

    /// A model using known fields the IR does not model, every field set explicitly so that the
    /// writer's output can be compared message for message.
    static func richModel() -> Onnx_ModelProto {
        func entry(_ k: String, _ v: String) -> Onnx_StringStringEntryProto {
            var e = Onnx_StringStringEntryProto()
            e.key = k
            e.value = v
            return e
        }
        func attribute(_ name: String, int value: Int64) -> Onnx_AttributeProto {
            var a = Onnx_AttributeProto()
            a.name = name
            a.type = .int
            a.i = value
            return a
        }
        var segment = Onnx_TensorProto.Segment()
        segment.begin = 0
        segment.end = 4
        var weight = ProtoBuilder.tensor("w", 1, [4])
        weight.rawData = Fixtures.floats([1, 2, 3, 4])
        weight.segment = segment
        var plain = ProtoBuilder.tensor("b", 1, [4])
        plain.rawData = Fixtures.floats([0, 0, 0, 1])

        var add = Onnx_NodeProto()
        add.input = ["x", "w"]
        add.output = ["h"]
        add.name = "add"
        add.opType = "Add"
        add.overload = "fast"
        var sharding = Onnx_ShardingSpecProto()
        sharding.tensorName = "w"
        sharding.device = [0, 1]
        var device = Onnx_NodeDeviceConfigurationProto()
        device.configurationID = "mesh"
        device.shardingSpec = [sharding]
        device.pipelineStage = 1
        add.deviceConfigurations = [device]
        add.attribute = [attribute("unused", int: 3)]
        var add2 = Onnx_NodeProto()
        add2.input = ["h", "b"]
        add2.output = ["y"]
        add2.name = "add2"
        add2.opType = "Add"

        var model = ProtoBuilder.model(nodes: [add, add2], inputs: ["x"], outputs: ["y"], initializers: [weight, plain])
        // A sequence-typed value_info, and a tensor type with a denotation.
        var sequence = Onnx_TypeProto.Sequence()
        sequence.elemType = ProtoBuilder.valueInfo("", 1, dims: [2]).type
        var sequenceType = Onnx_TypeProto()
        sequenceType.sequenceType = sequence
        var seqInfo = Onnx_ValueInfoProto()
        seqInfo.name = "seq"
        seqInfo.type = sequenceType
        var denoted = ProtoBuilder.valueInfo("h", 1, dims: [4])
        denoted.type.denotation = "TENSOR"
        model.graph.valueInfo = [seqInfo, denoted]
        var input = ProtoBuilder.valueInfo("x", 1, dims: [4])
        input.type.tensorType.shape.dim[0].denotation = "DATA_BATCH"
        model.graph.input = [input]
        model.graph.output = [ProtoBuilder.valueInfo("y", 1, dims: [4])]
        var annotation = Onnx_TensorAnnotation()
        annotation.tensorName = "w"
        annotation.quantParameterTensorNames = [entry("SCALE_TENSOR", "w_scale")]
        model.graph.quantizationAnnotation = [annotation]

        var training = Onnx_TrainingInfoProto()
        var algorithm = Onnx_GraphProto()
        algorithm.name = "train"
        training.algorithm = algorithm
        training.updateBinding = [entry("w", "w_new")]
        model.trainingInfo = [training]
        var configuration = Onnx_DeviceConfigurationProto()
        configuration.name = "mesh"
        configuration.numDevices = 2
        configuration.device = ["gpu0", "gpu1"]
        model.configuration = [configuration]

        var function = Onnx_FunctionProto()
        function.name = "F"
        function.domain = "custom"
        function.input = ["a"]
        function.output = ["b"]
        var identity = Onnx_NodeProto()
        identity.input = ["a"]
        identity.output = ["b"]
        identity.opType = "Identity"
        function.node = [identity]
        function.overload = "v2"
        model.functions = [function]
        return model
    }
}
