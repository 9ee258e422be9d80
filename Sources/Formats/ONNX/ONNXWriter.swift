import Foundation
import Graph
import SwiftProtobuf

/// Converts the IR into ONNX protobuf messages.
///
/// Each message is built from the IR's fields, then the element's `carried` bytes (the fields the
/// reader did not model) are merged back in.
final class ONNXWriter {
    let source: String
    /// Tensors of at least this many bytes go to external data; nil keeps every tensor inline.
    let externalMinimumBytes: Int?
    private(set) var plan: ExternalDataPlan

    init(source: String, externalMinimumBytes: Int?, externalLocation: String) {
        self.source = source
        self.externalMinimumBytes = externalMinimumBytes
        self.plan = ExternalDataPlan(location: externalLocation)
    }

    func fail(_ message: String) -> FormatError { FormatError(source: source, message) }

    func merge<M: SwiftProtobuf.Message>(_ carried: CarriedFields, into message: inout M, _ what: @autoclosure () -> String) throws(FormatError) {
        guard !carried.isEmpty else { return }
        do {
            try message.merge(serializedBytes: carried.bytes)
        } catch {
            throw fail("\(what()): carried fields are not valid ONNX protobuf (\(error))")
        }
    }

    // MARK: Model

    func model(_ model: Model) throws(FormatError) -> Onnx_ModelProto {
        var m = Onnx_ModelProto()
        m.irVersion = model.irVersion
        if !model.producerName.isEmpty { m.producerName = model.producerName }
        if !model.producerVersion.isEmpty { m.producerVersion = model.producerVersion }
        if !model.domain.isEmpty { m.domain = model.domain }
        if model.modelVersion != 0 { m.modelVersion = model.modelVersion }
        if !model.docString.isEmpty { m.docString = model.docString }
        m.graph = try graph(model.graph, "graph")
        m.opsetImport = opsets(model.opsetImports)
        m.metadataProps = metadata(model.metadata)
        var functions: [Onnx_FunctionProto] = []
        for f in model.functions { functions.append(try function(f)) }
        m.functions = functions
        try merge(model.carried, into: &m, "model")
        return m
    }

    func opsets(_ list: [OpsetImport]) -> [Onnx_OperatorSetIdProto] {
        list.map { o in
            var p = Onnx_OperatorSetIdProto()
            p.domain = o.domain
            p.version = o.version
            return p
        }
    }

    func metadata(_ list: [MetadataEntry]) -> [Onnx_StringStringEntryProto] {
        list.map { e in
            var p = Onnx_StringStringEntryProto()
            p.key = e.key
            p.value = e.value
            return p
        }
    }

    // MARK: Graph

    func graph(_ graph: Graph, _ label: String) throws(FormatError) -> Onnx_GraphProto {
        var g = Onnx_GraphProto()
        var nodes: [Onnx_NodeProto] = []
        nodes.reserveCapacity(graph.nodes.count)
        for n in graph.nodes { nodes.append(try node(n)) }
        g.node = nodes
        if !graph.name.isEmpty { g.name = graph.name }
        var initializers: [Onnx_TensorProto] = []
        initializers.reserveCapacity(graph.initializers.count)
        for (i, t) in graph.initializers.enumerated() {
            initializers.append(try tensor(t, "initializer #\(i) of \(label)"))
        }
        g.initializer = initializers
        if !graph.docString.isEmpty { g.docString = graph.docString }
        g.input = try values(graph.inputs)
        g.output = try values(graph.outputs)
        g.valueInfo = try values(graph.valueInfo)
        var sparse: [Onnx_SparseTensorProto] = []
        for (i, s) in graph.sparseInitializers.enumerated() {
            sparse.append(try sparseTensor(s, "sparse initializer #\(i) of \(label)"))
        }
        g.sparseInitializer = sparse
        g.metadataProps = metadata(graph.metadata)
        try merge(graph.carried, into: &g, label)
        return g
    }

    // MARK: Values and types

    func values(_ list: [Value]) throws(FormatError) -> [Onnx_ValueInfoProto] {
        var result: [Onnx_ValueInfoProto] = []
        result.reserveCapacity(list.count)
        for v in list { result.append(try value(v)) }
        return result
    }

    func value(_ value: Value) throws(FormatError) -> Onnx_ValueInfoProto {
        var v = Onnx_ValueInfoProto()
        v.name = value.name
        if let type = value.type { v.type = try typeProto(type, "value '\(value.name)'") }
        if !value.docString.isEmpty { v.docString = value.docString }
        v.metadataProps = metadata(value.metadata)
        try merge(value.carried, into: &v, "value '\(value.name)'")
        return v
    }

    func typeProto(_ type: ValueType, _ label: @autoclosure () -> String) throws(FormatError) -> Onnx_TypeProto {
        switch type {
        case .tensor(let t):
            return ONNXValueType.typeProto(t)
        case .carried(let bytes):
            var t = Onnx_TypeProto()
            try merge(bytes, into: &t, label())
            return t
        }
    }

    // MARK: Nodes and attributes

    func node(_ node: Node) throws(FormatError) -> Onnx_NodeProto {
        var n = Onnx_NodeProto()
        n.input = node.inputs
        n.output = node.outputs
        if !node.name.isEmpty { n.name = node.name }
        n.opType = node.opType
        var attributes: [Onnx_AttributeProto] = []
        attributes.reserveCapacity(node.attributes.count)
        for a in node.attributes { attributes.append(try attribute(a, owner: "node \(node.displayName)")) }
        n.attribute = attributes
        if !node.docString.isEmpty { n.docString = node.docString }
        if !node.domain.isEmpty { n.domain = node.domain }
        n.metadataProps = metadata(node.metadata)
        try merge(node.carried, into: &n, "node \(node.displayName)")
        return n
    }

    func attribute(_ attribute: Attribute, owner: String) throws(FormatError) -> Onnx_AttributeProto {
        let label = "\(owner): attribute '\(attribute.name)'"
        var a = Onnx_AttributeProto()
        a.name = attribute.name
        let kind = attribute.value.kind
        if kind != .undefined { a.type = ONNXAttributeKind.type(kind) }
        switch attribute.value {
        case .float(let v): a.f = v
        case .int(let v): a.i = v
        case .string(let v): a.s = v
        case .tensor(let t): a.t = try tensor(t, label)
        case .graph(let g): a.g = try graph(g, label)
        case .sparseTensor(let s): a.sparseTensor = try sparseTensor(s, label)
        case .type(let t): a.tp = try typeProto(t, label)
        case .floats(let v): a.floats = v
        case .ints(let v): a.ints = v
        case .strings(let v): a.strings = v
        case .tensors(let list):
            var result: [Onnx_TensorProto] = []
            for (i, t) in list.enumerated() { result.append(try tensor(t, "\(label) #\(i)")) }
            a.tensors = result
        case .graphs(let list):
            var result: [Onnx_GraphProto] = []
            for (i, g) in list.enumerated() { result.append(try graph(g, "\(label) #\(i)")) }
            a.graphs = result
        case .sparseTensors(let list):
            var result: [Onnx_SparseTensorProto] = []
            for (i, s) in list.enumerated() { result.append(try sparseTensor(s, "\(label) #\(i)")) }
            a.sparseTensors = result
        case .types(let list):
            var result: [Onnx_TypeProto] = []
            for (i, t) in list.enumerated() { result.append(try typeProto(t, "\(label) #\(i)")) }
            a.typeProtos = result
        case .reference(let name, _):
            a.refAttrName = name
        }
        if !attribute.docString.isEmpty { a.docString = attribute.docString }
        try merge(attribute.carried, into: &a, label)
        return a
    }

    // MARK: Functions

    func function(_ function: Function) throws(FormatError) -> Onnx_FunctionProto {
        let label = "function '\(function.domain)/\(function.name)'"
        var f = Onnx_FunctionProto()
        f.name = function.name
        f.input = function.inputs
        f.output = function.outputs
        f.attribute = function.attributeNames
        var nodes: [Onnx_NodeProto] = []
        for n in function.nodes { nodes.append(try node(n)) }
        f.node = nodes
        if !function.docString.isEmpty { f.docString = function.docString }
        f.opsetImport = opsets(function.opsetImports)
        f.domain = function.domain
        var defaults: [Onnx_AttributeProto] = []
        for a in function.attributeDefaults { defaults.append(try attribute(a, owner: label)) }
        f.attributeProto = defaults
        f.valueInfo = try values(function.valueInfo)
        f.metadataProps = metadata(function.metadata)
        try merge(function.carried, into: &f, label)
        return f
    }

    // MARK: Tensors

    func tensor(_ tensor: Tensor, _ context: @autoclosure () -> String) throws(FormatError) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.dims = tensor.shape.map { Int64($0) }
        t.dataType = ONNXElementType.code(tensor.elementType)
        if !tensor.name.isEmpty { t.name = tensor.name }
        switch tensor.storage {
        case .strings(let strings):
            t.stringData = strings
        case .bytes(let data):
            if let minimum = externalMinimumBytes, data.count >= minimum, data.count > 0 {
                let offset = plan.place(data)
                t.externalData = metadata([
                    MetadataEntry("location", plan.location),
                    MetadataEntry("offset", String(offset)),
                    MetadataEntry("length", String(data.count)),
                ])
                t.dataLocation = .external
            } else {
                t.rawData = data
            }
        }
        if !tensor.docString.isEmpty { t.docString = tensor.docString }
        t.metadataProps = metadata(tensor.metadata)
        try merge(tensor.carried, into: &t, tensor.name.isEmpty ? "tensor in \(context())" : "tensor '\(tensor.name)'")
        return t
    }

    func sparseTensor(_ sparse: SparseTensor, _ context: @autoclosure () -> String) throws(FormatError) -> Onnx_SparseTensorProto {
        var s = Onnx_SparseTensorProto()
        s.values = try tensor(sparse.values, "values of sparse tensor in \(context())")
        s.indices = try tensor(sparse.indices, "indices of sparse tensor in \(context())")
        s.dims = sparse.shape.map { Int64($0) }
        try merge(sparse.carried, into: &s, "sparse tensor '\(sparse.name)'")
        return s
    }
}
