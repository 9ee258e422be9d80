import Foundation
import Testing
import Graph
@testable import Formats

/// Helpers for the `.pare` tests: what the format keeps of a model, and files rebuilt with other
/// versions or extra sections.
enum PareFixtures {
    /// The sample models as the mobile format stores them: local functions inlined.
    static func sample(_ name: String) throws -> Model {
        try ONNXFormat.read(contentsOf: Fixtures.url(name)).inliningLocalFunctions()
    }

    /// `model` without what `.pare` does not keep: doc strings, per-item metadata, carried
    /// protobuf fields and value_info.
    static func stripped(_ model: Model) -> Model {
        Model(irVersion: model.irVersion, opsetImports: model.opsetImports, graph: stripped(model.graph))
    }

    static func stripped(_ graph: Graph) -> Graph {
        func value(_ v: Value) -> Value { Value(name: v.name, type: v.type) }
        func tensor(_ t: Tensor) -> Tensor { Tensor(name: t.name, elementType: t.elementType, shape: t.shape, storage: t.storage) }
        func sparse(_ s: SparseTensor) -> SparseTensor { SparseTensor(values: tensor(s.values), indices: tensor(s.indices), shape: s.shape) }
        func attribute(_ a: AttributeValue) -> AttributeValue {
            switch a {
            case .tensor(let t): .tensor(tensor(t))
            case .tensors(let ts): .tensors(ts.map(tensor))
            case .graph(let g): .graph(stripped(g))
            case .graphs(let gs): .graphs(gs.map(stripped))
            case .sparseTensor(let s): .sparseTensor(sparse(s))
            case .sparseTensors(let ss): .sparseTensors(ss.map(sparse))
            default: a
            }
        }
        let nodes = graph.nodes.map { n in
            Node(name: n.name, opType: n.opType, domain: n.isDefaultDomain && PareLayout.opCodes[n.opType] != nil ? "" : n.domain,
                 inputs: n.inputs, outputs: n.outputs, attributes: n.attributes.map { Attribute($0.name, attribute($0.value)) })
        }
        return Graph(name: graph.name, nodes: nodes, inputs: graph.inputs.map(value), outputs: graph.outputs.map(value),
                     initializers: graph.initializers.map(tensor), sparseInitializers: graph.sparseInitializers.map(sparse))
    }

    struct Entry {
        var kind: UInt32
        var flags: UInt32
        var offset: Int
        var length: Int
        var crc: UInt32
    }

    static func read32(_ d: [UInt8], _ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(d[at + $1]) << (8 * UInt32($1)) } }
    static func read64(_ d: [UInt8], _ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(d[at + $1]) << (8 * UInt64($1)) } }

    /// The section table of an encoded file.
    static func sections(_ file: Data) -> [Entry] {
        let d = [UInt8](file)
        let count = Int(read32(d, 24))
        return (0..<count).map { i in
            let at = 32 + 32 * i
            return Entry(kind: read32(d, at), flags: read32(d, at + 4), offset: Int(read64(d, at + 8)),
                         length: Int(read64(d, at + 16)), crc: read32(d, at + 24))
        }
    }

    /// `file` with one byte of a section changed, and that section's CRC and the header's fixed to
    /// match: damage only the decoder can find.
    static func patched(_ file: Data, section kind: String, offset: Int, to byte: UInt8) throws -> [UInt8] {
        var d = [UInt8](file)
        let entries = sections(file)
        let index = try #require(entries.firstIndex { PareLayout.Section.tag($0.kind) == kind })
        let entry = entries[index]
        d[entry.offset + offset] = byte
        func store(_ value: UInt32, at position: Int) { for k in 0..<4 { d[position + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(k))) } }
        store(d[entry.offset..<(entry.offset + entry.length)].withUnsafeBytes { CRC32.checksum($0) }, at: 32 + 32 * index + 24)
        let tableEnd = 32 + 32 * entries.count
        let crc = d[0..<28].withUnsafeBytes { CRC32.checksum($0) }
        store(d[32..<tableEnd].withUnsafeBytes { CRC32.checksum($0, continuing: crc) }, at: 28)
        return d
    }

    /// `file` re-issued with another version and extra sections appended after its data (each
    /// with a correct CRC), its header and table consistent: what a future writer would produce.
    static func rebuilt(_ file: Data, major: UInt16 = 1, minor: UInt16 = 0, extra: [(kind: String, flags: UInt32, bytes: [UInt8])] = []) -> Data {
        var entries = sections(file)
        let old = [UInt8](file)
        let oldTableEnd = 32 + 32 * entries.count
        // Room for the new entries, rounded to 64 so the data section stays aligned.
        let shift = (32 * extra.count + 63) / 64 * 64
        for i in entries.indices { entries[i].offset += shift }
        var body = [UInt8](old[oldTableEnd...])
        body.insert(contentsOf: [UInt8](repeating: 0, count: shift - 32 * extra.count), at: 0)
        var end = old.count + shift
        for section in extra {
            let kind = section.kind.utf8.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
            entries.append(Entry(kind: kind, flags: section.flags, offset: end, length: section.bytes.count,
                                 crc: section.bytes.withUnsafeBytes { CRC32.checksum($0) }))
            body += section.bytes
            end += section.bytes.count
        }
        var out = PareByteSink()
        out.append(contentsOf: PareLayout.magic)
        out.uint16(major)
        out.uint16(minor)
        out.uint32(0)
        out.uint64(UInt64(32 + 32 * entries.count + body.count))
        out.uint32(UInt32(entries.count))
        var table = PareByteSink()
        for e in entries {
            table.uint32(e.kind)
            table.uint32(e.flags)
            table.uint64(UInt64(e.offset))
            table.uint64(UInt64(e.length))
            table.uint32(e.crc)
            table.uint32(0)
        }
        var crc = out.bytes.withUnsafeBytes { CRC32.checksum($0) }
        crc = table.bytes.withUnsafeBytes { CRC32.checksum($0, continuing: crc) }
        out.uint32(crc)
        out.append(contentsOf: table.bytes)
        out.append(contentsOf: body)
        return Data(out.bytes)
    }
}

extension SplitMix64 {
    /// A number in 0..<n.
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}
