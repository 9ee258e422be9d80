import Foundation
import Graph
import SwiftProtobuf

/// Converts decoded ONNX protobuf messages into the IR.
///
/// Fields the IR models become IR fields; every other field of a mapped message (known fields the
/// IR has no place for, and unknown fields) is re-encoded into that element's `carried` bytes, so
/// that writing the IR back loses nothing.
struct ONNXReader {
    let source: String
    let external: ExternalDataLoader

    init(source: String, baseDirectory: URL?) {
        self.source = source
        self.external = ExternalDataLoader(source: source, baseDirectory: baseDirectory)
    }

    func fail(_ message: String) -> FormatError { FormatError(source: source, message) }

    /// Encodes what is left of a message after its modeled fields were cleared.
    func carried<M: SwiftProtobuf.Message>(_ rest: M, _ what: @autoclosure () -> String) throws(FormatError) -> CarriedFields {
        do {
            return CarriedFields(try rest.serializedBytes())
        } catch {
            throw fail("\(what()): cannot re-encode the fields Pare does not model (\(error))")
        }
    }

    // MARK: Model

    func model(_ m: Onnx_ModelProto) throws(FormatError) -> Model {
        guard m.hasGraph else { throw fail("not an ONNX model: it has no graph") }
        var functions: [Function] = []
        functions.reserveCapacity(m.functions.count)
        for f in m.functions { functions.append(try function(f)) }
        var carried = CarriedFields.none
        if !m.trainingInfo.isEmpty || !m.configuration.isEmpty || !m.unknownFields.data.isEmpty {
            var rest = m
            rest.clearIrVersion()
            rest.clearProducerName()
            rest.clearProducerVersion()
            rest.clearDomain()
            rest.clearModelVersion()
            rest.clearDocString()
            rest.clearGraph()
            rest.opsetImport = []
            rest.metadataProps = []
            rest.functions = []
            carried = try self.carried(rest, "model")
        }
        return Model(
            irVersion: m.irVersion, opsetImports: opsets(m.opsetImport), producerName: m.producerName,
            producerVersion: m.producerVersion, domain: m.domain, modelVersion: m.modelVersion,
            docString: m.docString, metadata: metadata(m.metadataProps), graph: try graph(m.graph, "graph"),
            functions: functions, carried: carried)
    }

    func opsets(_ list: [Onnx_OperatorSetIdProto]) -> [OpsetImport] {
        list.map { OpsetImport(domain: $0.domain, version: $0.version) }
    }

    func metadata(_ list: [Onnx_StringStringEntryProto]) -> [MetadataEntry] {
        list.map { MetadataEntry($0.key, $0.value) }
    }

    // MARK: Graph

    /// `label` names the graph in messages: "graph", or the node attribute that holds a subgraph.
    func graph(_ g: Onnx_GraphProto, _ label: String) throws(FormatError) -> Graph {
        var nodes: [Node] = []
        nodes.reserveCapacity(g.node.count)
        for n in g.node { nodes.append(try node(n)) }
        var initializers: [Tensor] = []
        initializers.reserveCapacity(g.initializer.count)
        for (i, t) in g.initializer.enumerated() {
            initializers.append(try tensor(t, "initializer #\(i) of \(label)"))
        }
        var sparse: [SparseTensor] = []
        for (i, s) in g.sparseInitializer.enumerated() {
            sparse.append(try sparseTensor(s, "sparse initializer #\(i) of \(label)"))
        }
        var carried = CarriedFields.none
        if !g.quantizationAnnotation.isEmpty || !g.unknownFields.data.isEmpty {
            var rest = g
            rest.node = []
            rest.clearName()
            rest.initializer = []
            rest.clearDocString()
            rest.input = []
            rest.output = []
            rest.valueInfo = []
            rest.sparseInitializer = []
            rest.metadataProps = []
            carried = try self.carried(rest, label)
        }
        return Graph(
            name: g.name, nodes: nodes, inputs: try values(g.input), outputs: try values(g.output),
            valueInfo: try values(g.valueInfo), initializers: initializers, sparseInitializers: sparse,
            docString: g.docString, metadata: metadata(g.metadataProps), carried: carried)
    }

    // MARK: Values and types

    func values(_ list: [Onnx_ValueInfoProto]) throws(FormatError) -> [Value] {
        var result: [Value] = []
        result.reserveCapacity(list.count)
        for v in list { result.append(try value(v)) }
        return result
    }

    func value(_ v: Onnx_ValueInfoProto) throws(FormatError) -> Value {
        let type: ValueType? = v.hasType ? try valueType(v.type, "value '\(v.name)'") : nil
        var carried = CarriedFields.none
        if !v.unknownFields.data.isEmpty {
            var rest = Onnx_ValueInfoProto()
            rest.unknownFields = v.unknownFields
            carried = try self.carried(rest, "value '\(v.name)'")
        }
        return Value(name: v.name, type: type, docString: v.docString, metadata: metadata(v.metadataProps), carried: carried)
    }

    func valueType(_ t: Onnx_TypeProto, _ label: @autoclosure () -> String) throws(FormatError) -> ValueType {
        if let tensor = ONNXValueType.plainTensorType(t) { return .tensor(tensor) }
        return .carried(try carried(t, label()))
    }

    // MARK: Nodes and attributes

    static func nodeLabel(_ n: Onnx_NodeProto) -> String {
        n.name.isEmpty ? "node \(n.opType) → '\(n.output.first ?? "?")'" : "node '\(n.name)' (\(n.opType))"
    }

    func node(_ n: Onnx_NodeProto) throws(FormatError) -> Node {
        var attributes: [Attribute] = []
        attributes.reserveCapacity(n.attribute.count)
        for a in n.attribute { attributes.append(try attribute(a, owner: ONNXReader.nodeLabel(n))) }
        var carried = CarriedFields.none
        if n.hasOverload || !n.deviceConfigurations.isEmpty || !n.unknownFields.data.isEmpty {
            var rest = n
            rest.input = []
            rest.output = []
            rest.clearName()
            rest.clearOpType()
            rest.attribute = []
            rest.clearDocString()
            rest.clearDomain()
            rest.metadataProps = []
            carried = try self.carried(rest, ONNXReader.nodeLabel(n))
        }
        return Node(
            name: n.name, opType: n.opType, domain: n.domain, inputs: n.input, outputs: n.output,
            attributes: attributes, docString: n.docString, metadata: metadata(n.metadataProps), carried: carried)
    }

    func attribute(_ a: Onnx_AttributeProto, owner: String) throws(FormatError) -> Attribute {
        let label = "\(owner): attribute '\(a.name)'"
        let declared: Onnx_AttributeProto.AttributeType? = a.hasType && a.type != .undefined ? a.type : nil
        let value: AttributeValue
        let consumed: Onnx_AttributeProto.AttributeType?
        if a.hasRefAttrName {
            value = .reference(a.refAttrName, kind: declared.map(ONNXAttributeKind.kind) ?? .undefined)
            consumed = nil
        } else {
            guard let kind = declared ?? ONNXAttributeKind.inferred(a) else {
                throw fail("\(label) has no type and no value")
            }
            consumed = kind
            switch kind {
            case .undefined: throw fail("\(label) has no type and no value")
            case .float: value = .float(a.f)
            case .int: value = .int(a.i)
            case .string: value = .string(a.s)
            case .tensor: value = .tensor(try tensor(a.t, label))
            case .graph: value = .graph(try graph(a.g, label))
            case .sparseTensor: value = .sparseTensor(try sparseTensor(a.sparseTensor, label))
            case .typeProto: value = .type(try valueType(a.tp, label))
            case .floats: value = .floats(a.floats)
            case .ints: value = .ints(a.ints)
            case .strings: value = .strings(a.strings)
            case .tensors:
                var list: [Tensor] = []
                for (i, t) in a.tensors.enumerated() { list.append(try tensor(t, "\(label) #\(i)")) }
                value = .tensors(list)
            case .graphs:
                var list: [Graph] = []
                for (i, g) in a.graphs.enumerated() { list.append(try graph(g, "\(label) #\(i)")) }
                value = .graphs(list)
            case .sparseTensors:
                var list: [SparseTensor] = []
                for (i, s) in a.sparseTensors.enumerated() { list.append(try sparseTensor(s, "\(label) #\(i)")) }
                value = .sparseTensors(list)
            case .typeProtos:
                var list: [ValueType] = []
                for (i, t) in a.typeProtos.enumerated() { list.append(try valueType(t, "\(label) #\(i)")) }
                value = .types(list)
            }
        }
        var carried = CarriedFields.none
        if ONNXAttributeKind.hasOtherValueFields(a, besides: consumed) || !a.unknownFields.data.isEmpty {
            var rest = a
            rest.clearName()
            rest.clearDocString()
            rest.clearType()
            rest.clearRefAttrName()
            if let consumed { ONNXAttributeKind.clearValue(consumed, in: &rest) }
            carried = try self.carried(rest, label)
        }
        return Attribute(a.name, value, docString: a.docString, carried: carried)
    }

    // MARK: Functions

    func function(_ f: Onnx_FunctionProto) throws(FormatError) -> Function {
        let label = "function '\(f.domain)/\(f.name)'"
        var nodes: [Node] = []
        for n in f.node { nodes.append(try node(n)) }
        var defaults: [Attribute] = []
        for a in f.attributeProto { defaults.append(try attribute(a, owner: label)) }
        var carried = CarriedFields.none
        if f.hasOverload || !f.unknownFields.data.isEmpty {
            var rest = f
            rest.clearName()
            rest.input = []
            rest.output = []
            rest.attribute = []
            rest.node = []
            rest.clearDocString()
            rest.opsetImport = []
            rest.clearDomain()
            rest.attributeProto = []
            rest.valueInfo = []
            rest.metadataProps = []
            carried = try self.carried(rest, label)
        }
        return Function(
            name: f.name, domain: f.domain, inputs: f.input, outputs: f.output, attributeNames: f.attribute,
            attributeDefaults: defaults, nodes: nodes, opsetImports: opsets(f.opsetImport),
            valueInfo: try values(f.valueInfo), docString: f.docString, metadata: metadata(f.metadataProps),
            carried: carried)
    }

    // MARK: Tensors

    /// `context` says where the tensor is, for messages about tensors without a name.
    func tensor(_ t: Onnx_TensorProto, _ context: @autoclosure () -> String) throws(FormatError) -> Tensor {
        let label = t.name.isEmpty ? "tensor in \(context())" : "tensor '\(t.name)'"
        guard let elementType = ONNXElementType.elementType(t.dataType) else {
            throw fail("\(label): unknown data_type \(t.dataType)")
        }
        guard elementType != .undefined else { throw fail("\(label): data_type is UNDEFINED") }
        var shape: [Int] = []
        shape.reserveCapacity(t.dims.count)
        for d in t.dims {
            guard let size = Int(exactly: d), size >= 0 else {
                throw fail("\(label): dims \(t.dims) has a negative dimension")
            }
            shape.append(size)
        }
        guard let count = ONNXTensorCodec.elementCount(shape) else {
            throw fail("\(label): dims \(shape) have more elements than can be addressed")
        }
        let isExternal = t.hasDataLocation && t.dataLocation == .external
        let typedField = ONNXTensorCodec.typedField(for: elementType)
        let storage: Tensor.Storage
        if elementType == .string {
            guard !isExternal else { throw fail("\(label): string tensors cannot use external data") }
            guard t.stringData.count == count else {
                throw fail("\(label): string_data has \(t.stringData.count) strings, shape \(shape) needs \(count)")
            }
            storage = .strings(t.stringData)
        } else {
            guard let expected = ONNXTensorCodec.byteCount(elementType, elements: count) else {
                throw fail("\(label): dims \(shape) of \(elementType) need more bytes than can be addressed")
            }
            let needs = "shape \(shape) of \(elementType) needs"
            if isExternal {
                let data = try external.load(t.externalData, label: label)
                guard data.count == expected else {
                    throw fail("\(label): external data has \(data.count) bytes, \(needs) \(expected)")
                }
                storage = .bytes(data)
            } else if t.hasRawData {
                let data = t.rawData
                guard data.count == expected else {
                    throw fail("\(label): raw_data has \(data.count) bytes, \(needs) \(expected)")
                }
                storage = .bytes(data)
            } else if let field = typedField {
                let entries = ONNXTensorCodec.entryCount(t, field)
                let wanted = ONNXTensorCodec.typedEntryCount(for: elementType, elements: count)
                if entries == 0 && wanted > 0 {
                    throw fail("\(label): has no data (no raw_data, no \(field.rawValue)); \(needs) \(expected) bytes")
                }
                guard entries == wanted else {
                    throw fail("\(label): \(field.rawValue) has \(entries) values, \(needs) \(wanted)")
                }
                storage = .bytes(ONNXTensorCodec.bytesFromTypedField(t, type: elementType, elements: count))
            } else {
                throw fail("\(label): data_type \(elementType) has no storage")
            }
        }
        var carried = CarriedFields.none
        if t.hasSegment || !t.unknownFields.data.isEmpty || hasOtherDataFields(t, besides: typedField) {
            var rest = t
            rest.dims = []
            rest.clearDataType()
            rest.clearName()
            rest.clearRawData()
            rest.clearDocString()
            rest.externalData = []
            rest.clearDataLocation()
            rest.metadataProps = []
            switch typedField {
            case .floatData?: rest.floatData = []
            case .int32Data?: rest.int32Data = []
            case .stringData?: rest.stringData = []
            case .int64Data?: rest.int64Data = []
            case .doubleData?: rest.doubleData = []
            case .uint64Data?: rest.uint64Data = []
            case nil: break
            }
            carried = try self.carried(rest, label)
        }
        return Tensor(
            name: t.name, elementType: elementType, shape: shape, storage: storage, docString: t.docString,
            metadata: metadata(t.metadataProps), carried: carried)
    }

    /// True when a typed data field other than the one the element type uses is set.
    private func hasOtherDataFields(_ t: Onnx_TensorProto, besides used: ONNXTensorCodec.TypedField?) -> Bool {
        (!t.floatData.isEmpty && used != .floatData) || (!t.int32Data.isEmpty && used != .int32Data)
            || (!t.stringData.isEmpty && used != .stringData) || (!t.int64Data.isEmpty && used != .int64Data)
            || (!t.doubleData.isEmpty && used != .doubleData) || (!t.uint64Data.isEmpty && used != .uint64Data)
    }

    func sparseTensor(_ s: Onnx_SparseTensorProto, _ context: @autoclosure () -> String) throws(FormatError) -> SparseTensor {
        guard s.hasValues else { throw fail("sparse tensor in \(context()): has no values") }
        let values = try tensor(s.values, "values of sparse tensor in \(context())")
        let label = values.name.isEmpty ? "sparse tensor in \(context())" : "sparse tensor '\(values.name)'"
        guard s.hasIndices else { throw fail("\(label): has no indices") }
        let indices = try tensor(s.indices, "indices of \(label)")
        var shape: [Int] = []
        for d in s.dims {
            guard let size = Int(exactly: d), size >= 0 else {
                throw fail("\(label): dims \(s.dims) has a negative dimension")
            }
            shape.append(size)
        }
        guard ONNXTensorCodec.elementCount(shape) != nil else {
            throw fail("\(label): dims \(shape) have more elements than can be addressed")
        }
        var carried = CarriedFields.none
        if !s.unknownFields.data.isEmpty {
            var rest = Onnx_SparseTensorProto()
            rest.unknownFields = s.unknownFields
            carried = try self.carried(rest, label)
        }
        return SparseTensor(values: values, indices: indices, shape: shape, carried: carried)
    }
}
