import Foundation
import Graph

/// Encodes a model's graph, metadata and string table in the `.pare` encoding, collecting the
/// tensors the graph refers to (in order of first reference) for the tensor table.
struct PareGraphEncoder {
    let source: String
    private(set) var strings: [Data] = [Data()]
    private var stringIndex: [Data: Int] = [Data(): 0]
    /// Tensors in tensor-table order: main-graph initializers, then attribute tensors and subgraph
    /// initializers as the node walk meets them.
    private(set) var tensors: [Tensor] = []

    init(source: String) { self.source = source }

    mutating func string(_ text: String) -> Int { bytesString(Data(text.utf8)) }

    mutating func bytesString(_ bytes: Data) -> Int {
        if let index = stringIndex[bytes] { return index }
        strings.append(bytes)
        stringIndex[bytes] = strings.count - 1
        return strings.count - 1
    }

    mutating func tensor(_ tensor: Tensor) -> Int {
        tensors.append(tensor)
        return tensors.count - 1
    }

    /// The GRPH section: IR version, opset imports, then the main graph.
    mutating func graphSection(_ model: Model) throws(FormatError) -> [UInt8] {
        guard model.functions.isEmpty else {
            throw FormatError(source: source, "model-local functions (\(model.functions.map(\.name).joined(separator: ", "))) cannot be stored; inline them first (Model.inliningLocalFunctions)")
        }
        var sink = PareByteSink()
        sink.varint(UInt64(max(0, model.irVersion)))
        sink.varint(model.opsetImports.count)
        for opset in model.opsetImports {
            sink.varint(string(opset.domain))
            sink.varint(UInt64(max(0, opset.version)))
        }
        try graph(model.graph, into: &sink)
        return sink.bytes
    }

    /// The META section: key/value pairs, then the input and output signatures.
    mutating func metadataSection(_ entries: [MetadataEntry], graph: Graph) -> [UInt8] {
        var sink = PareByteSink()
        sink.varint(entries.count)
        for entry in entries {
            sink.varint(string(entry.key))
            sink.varint(string(entry.value))
        }
        let inputs = graph.runtimeInputs
        sink.varint(inputs.count)
        for value in inputs { valueDeclaration(value, into: &sink) }
        sink.varint(graph.outputs.count)
        for value in graph.outputs { valueDeclaration(value, into: &sink) }
        return sink.bytes
    }

    /// The STRS section; call it last, once every other section has named its strings.
    func stringSection() -> [UInt8] {
        var sink = PareByteSink()
        sink.varint(strings.count)
        for s in strings {
            sink.varint(s.count)
            sink.append(contentsOf: s)
        }
        return sink.bytes
    }

    private mutating func graph(_ graph: Graph, into sink: inout PareByteSink) throws(FormatError) {
        sink.varint(string(graph.name))
        sink.varint(graph.inputs.count)
        for value in graph.inputs { valueDeclaration(value, into: &sink) }
        sink.varint(graph.outputs.count)
        for value in graph.outputs { valueDeclaration(value, into: &sink) }
        sink.varint(graph.initializers.count)
        for t in graph.initializers { sink.varint(tensor(t)) }
        sink.varint(graph.sparseInitializers.count)
        for s in graph.sparseInitializers { sparse(s, into: &sink) }
        sink.varint(graph.nodes.count)
        for node in graph.nodes { try self.node(node, into: &sink) }
    }

    private mutating func node(_ node: Node, into sink: inout PareByteSink) throws(FormatError) {
        if node.isDefaultDomain, let code = PareLayout.opCodes[node.opType] {
            sink.varint(code)
        } else {
            sink.varint(0)
            sink.varint(string(node.domain))
            sink.varint(string(node.opType))
        }
        sink.varint(string(node.name))
        sink.varint(node.inputs.count)
        for name in node.inputs { sink.varint(string(name)) }
        sink.varint(node.outputs.count)
        for name in node.outputs { sink.varint(string(name)) }
        sink.varint(node.attributes.count)
        for attribute in node.attributes {
            sink.varint(string(attribute.name))
            try value(attribute.value, of: attribute.name, node: node, into: &sink)
        }
    }

    /// An attribute: its ONNX AttributeType number, then its payload.
    private mutating func value(_ value: AttributeValue, of name: String, node: Node, into sink: inout PareByteSink) throws(FormatError) {
        switch value {
        case .float(let v): sink.varint(1); sink.float32(v)
        case .int(let v): sink.varint(2); sink.signedVarint(v)
        case .string(let v): sink.varint(3); sink.varint(bytesString(v))
        case .tensor(let t): sink.varint(4); sink.varint(tensor(t))
        case .graph(let g): sink.varint(5); try graph(g, into: &sink)
        case .floats(let vs): sink.varint(6); sink.varint(vs.count); for v in vs { sink.float32(v) }
        case .ints(let vs): sink.varint(7); sink.varint(vs.count); for v in vs { sink.signedVarint(v) }
        case .strings(let vs): sink.varint(8); sink.varint(vs.count); for v in vs { sink.varint(bytesString(v)) }
        case .tensors(let ts): sink.varint(9); sink.varint(ts.count); for t in ts { sink.varint(tensor(t)) }
        case .graphs(let gs): sink.varint(10); sink.varint(gs.count); for g in gs { try graph(g, into: &sink) }
        case .sparseTensor(let s): sink.varint(11); sparse(s, into: &sink)
        case .sparseTensors(let ss): sink.varint(12); sink.varint(ss.count); for s in ss { sparse(s, into: &sink) }
        case .type(let t): sink.varint(13); type(t, into: &sink)
        case .types(let ts): sink.varint(14); sink.varint(ts.count); for t in ts { type(t, into: &sink) }
        case .reference:
            throw FormatError(source: source, "node \(node.displayName): attribute '\(name)' refers to a function attribute; inline model-local functions first")
        }
    }

    private mutating func sparse(_ s: SparseTensor, into sink: inout PareByteSink) {
        sink.varint(tensor(s.values))
        sink.varint(tensor(s.indices))
        sink.varint(s.shape.count)
        for d in s.shape { sink.varint(UInt64(max(0, d))) }
    }

    mutating func valueDeclaration(_ value: Value, into sink: inout PareByteSink) {
        sink.varint(string(value.name))
        if let type = value.type { self.type(type, into: &sink) } else { sink.varint(0) }
    }

    /// 0 = no type; 1 = tensor (element type, rank + 1 or 0 when unknown, dims);
    /// 2 = a type Pare does not model, as ONNX TypeProto bytes.
    private mutating func type(_ type: ValueType, into sink: inout PareByteSink) {
        switch type {
        case .tensor(let t):
            sink.varint(1)
            sink.varint(t.elementType.rawValue)
            guard let dims = t.dims else { sink.varint(0); return }
            sink.varint(dims.count + 1)
            for dim in dims {
                switch dim {
                case .unknown: sink.varint(0)
                case .symbol(let s): sink.varint(1); sink.varint(string(s))
                // A negative size (some exporters write -1 for "unknown") is stored as unknown.
                case .known(let v): sink.varint(v < 0 ? 0 : UInt64(v) + 2)
                }
            }
        case .carried(let fields):
            sink.varint(2)
            sink.varint(bytesString(fields.bytes))
        }
    }
}
