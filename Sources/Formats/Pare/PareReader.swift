import Foundation
import Graph

/// Options for reading a `.pare` file.
public struct PareReadOptions: Sendable {
    /// Check every tensor blob's CRC-32 while loading (the default). Off, uncompressed blobs are
    /// used unread, so loading costs O(graph) rather than O(weights); `PareFile.verifyTensorData()`
    /// checks them later. Compressed blobs are always checked, since they are decoded anyway.
    public var verifiesTensorData: Bool

    public init(verifiesTensorData: Bool = true) {
        self.verifiesTensorData = verifiesTensorData
    }
}

/// One section of a `.pare` file, as its section table describes it.
public struct PareSection: Sendable, Hashable, Codable {
    /// The four-letter kind ("GRPH"), or its hex value when not printable.
    public var kind: String
    public var offset: Int
    public var length: Int
    /// False for sections this reader skipped because it does not know them.
    public var known: Bool
}

/// How one tensor is stored in a `.pare` file.
public struct PareTensorEntry: Sendable, Hashable, Codable {
    public var name: String
    public var elementType: String
    public var shape: [Int]
    /// "none" or "zstd".
    public var compression: String
    /// Bytes the tensor occupies in the file (0 for string tensors, whose strings sit in the string table).
    public var storedBytes: Int
    /// Bytes of the tensor's elements once decoded.
    public var decodedBytes: Int
}

/// A `.pare` file read into a model, with what its header and tables say.
public struct PareFile: Sendable {
    public var model: Model
    /// The numbering validation made of the model's graph: a `Session` given it skips
    /// numbering the graph again (it checks that the numbering still describes the graph).
    public let numbering: ValueNumbering
    public var majorVersion: Int
    public var minorVersion: Int
    public var fileBytes: Int
    public var sections: [PareSection]
    public var tensors: [PareTensorEntry]
    /// Checks of uncompressed blobs deferred by `verifiesTensorData: false`.
    let deferredChecks: [DeferredCheck]
    /// Checks of uncompressed blobs that loading started on worker threads and that must pass
    /// before the file is handed out (`completeChecks()`).
    var checksInFlight: BlobVerifier?
    /// The gaps between blobs inside DATA, whose zero check is deferred with the blobs'.
    let deferredGaps: [DeferredGap]
    let source: String

    struct DeferredGap: @unchecked Sendable {
        /// The gap's offset in the file.
        let offset: Int
        let bytes: Data
    }

    struct DeferredCheck: @unchecked Sendable {
        let name: String
        let bytes: Data
        let crc: UInt32
        /// The tensor's position in the tensor table.
        let tensor: Int
    }

    /// Checks the CRC-32 of every blob whose check loading deferred, and that the gaps between
    /// those blobs are zero.
    public func verifyTensorData() throws(FormatError) {
        if let bad = BlobVerifier.firstMismatch(in: deferredChecks) { throw FormatError(source: source, PareDecoder.blobMismatch(bad)) }
        for gap in deferredGaps {
            if let bad = gap.bytes.firstIndex(where: { $0 != 0 }) {
                throw FormatError(source: source, PareDecoder.nonzeroPadding(at: gap.offset + (bad - gap.bytes.startIndex), is: gap.bytes[bad]))
            }
        }
    }
}

extension PareFile {
    /// Waits for the blob checks loading left running; throws if one failed.
    mutating func completeChecks() throws(FormatError) {
        guard let verifier = checksInFlight else { return }
        checksInFlight = nil
        if let bad = verifier.firstMismatch() { throw FormatError(source: source, PareDecoder.blobMismatch(bad)) }
    }
}

/// Decodes a `.pare` file held in memory, checking every offset, length and count before use.
struct PareDecoder {
    let source: String
    let bytes: UnsafeRawBufferPointer
    let options: PareReadOptions
    /// Makes a tensor's data from a range of `bytes`: a no-copy view when the file is mapped.
    let view: (Range<Int>) -> Data

    /// The string table: each entry's bytes (their range in `bytes`) and its text, decoded once.
    private var stringRanges: [Range<Int>] = []
    private var texts: [String] = []
    /// For each string-table entry, the first entry with the same bytes: value names are
    /// numbered by these keys, never hashed as strings.
    private var stringKeys: [Int] = []
    private var tensors: [Tensor] = []
    /// The key of each tensor's name, by tensor-table position.
    private var tensorNameKeys: [Int] = []
    private var entries: [PareTensorEntry] = []
    private var deferred: [PareFile.DeferredCheck] = []
    /// Checks of uncompressed blobs running while the rest of the file is decoded.
    private var checksInFlight: BlobVerifier?

    init(source: String, bytes: UnsafeRawBufferPointer, options: PareReadOptions, view: @escaping (Range<Int>) -> Data) {
        self.source = source
        self.bytes = bytes
        self.options = options
        self.view = view
    }

    private func fail(_ message: String) -> FormatError { FormatError(source: source, message) }

    mutating func decode() throws(FormatError) -> PareFile {
        let size = bytes.count
        guard size >= PareLayout.headerSize else {
            if size >= PareLayout.magic.count && !hasMagic { throw fail("not a .pare file (wrong magic bytes)") }
            throw fail("truncated: \(size) bytes, a .pare header needs \(PareLayout.headerSize)")
        }
        guard hasMagic else { throw fail("not a .pare file (wrong magic bytes)") }
        var header = PareByteSource(UnsafeRawBufferPointer(rebasing: bytes[8..<PareLayout.headerSize]), source: source, context: "header")
        let major = try header.uint16(), minor = try header.uint16()
        guard major == PareLayout.majorVersion else {
            throw fail("written in .pare format version \(major).\(minor); this reader reads version \(PareLayout.majorVersion).x (up to \(PareLayout.majorVersion).\(PareLayout.minorVersion))")
        }
        _ = try header.uint32()  // flags: none defined in 1.x; readers ignore them
        let declaredSize = try header.uint64()
        guard declaredSize == UInt64(size) else {
            throw fail(declaredSize > UInt64(size)
                ? "truncated: the header says \(declaredSize) bytes, the file has \(size)"
                : "\(UInt64(size) - declaredSize) bytes after the end the header gives (\(declaredSize) bytes)")
        }
        let count = Int(try header.uint32())
        guard count <= PareLayout.maximumSections else { throw fail("header: \(count) sections, more than the \(PareLayout.maximumSections) allowed") }
        let tableEnd = PareLayout.headerSize + count * PareLayout.sectionEntrySize
        guard tableEnd <= size else { throw fail("truncated: the section table of \(count) entries ends at \(tableEnd), past the file's \(size) bytes") }
        let storedCRC = try header.uint32()
        var crc = CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<28]))
        crc = CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[PareLayout.headerSize..<tableEnd]), continuing: crc)
        guard crc == storedCRC else { throw fail("header checksum mismatch (the header or section table is corrupt)") }

        // The section table: in bounds, not overlapping, each known kind once.
        var sections: [PareSection] = []
        // By the kind's position in allCases: an array, not a dictionary keyed by the enum, whose
        // first use in a process costs a runtime conformance lookup (tens of microseconds).
        var ranges = [Range<Int>?](repeating: nil, count: PareLayout.Section.allCases.count)
        func slot(_ kind: PareLayout.Section) -> Int { PareLayout.Section.allCases.firstIndex(of: kind)! }
        var covered: [Range<Int>] = [0..<tableEnd]
        var table = PareByteSource(UnsafeRawBufferPointer(rebasing: bytes[PareLayout.headerSize..<tableEnd]), source: source, context: "section table")
        for _ in 0..<count {
            let kind = try table.uint32(), flags = try table.uint32()
            let offset = try table.uint64(), length = try table.uint64(), sectionCRC = try table.uint32()
            _ = try table.uint32()
            let tag = PareLayout.Section.tag(kind)
            guard offset >= UInt64(tableEnd), offset <= UInt64(size), length <= UInt64(size) - offset else {
                throw fail("section \(tag): offset \(offset) and length \(length) fall outside the file (\(tableEnd)..<\(size))")
            }
            let range = Int(offset)..<Int(offset + length)
            if covered.contains(where: { $0.overlaps(range) }) {
                throw fail("section \(tag): bytes \(range) overlap another section")
            }
            covered.append(range)
            let known = PareLayout.Section(rawValue: kind)
            if known == nil && flags & PareLayout.requiredFlag != 0 {
                throw fail("section \(tag) is required but unknown to this reader (format \(PareLayout.majorVersion).\(PareLayout.minorVersion); the file is \(major).\(minor))")
            }
            if let known {
                guard ranges[slot(known)] == nil else { throw fail("section \(tag) appears twice") }
                ranges[slot(known)] = range
            }
            // Every section but DATA carries a CRC; DATA's blobs carry their own.
            if known != .data {
                let actual = CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[range]))
                guard actual == sectionCRC else { throw fail("section \(tag): checksum mismatch (the section is corrupt)") }
            }
            sections.append(PareSection(kind: tag, offset: range.lowerBound, length: range.count, known: known != nil))
        }
        for kind in PareLayout.Section.allCases where ranges[slot(kind)] == nil {
            throw fail("section \(kind.tag) is missing")
        }
        let data = ranges[slot(.data)]!
        guard data.lowerBound % PareLayout.alignment == 0 else {
            throw fail("section DATA starts at \(data.lowerBound), not a multiple of \(PareLayout.alignment)")
        }

        try decodeStrings(ranges[slot(.strings)]!)
        var blobs = try decodeTensors(ranges[slot(.tensors)]!, data: data)
        covered.removeAll { $0 == data }
        blobs.append(contentsOf: covered)
        do {
            return try decodeAfterTensors(blobs: blobs, data: data, graph: ranges[slot(.graph)]!, metadata: ranges[slot(.metadata)]!,
                                          sections: sections, version: (major, minor))
        } catch {
            // The blobs' checks come first in the reader's order (docs/mobile-format.md §12).
            if let bad = checksInFlight?.firstMismatch() { throw fail(Self.blobMismatch(bad)) }
            throw error
        }
    }

    /// The rest of `decode()` once the tensor table is read (and its blobs are being checked).
    /// `blobs`: the file ranges of the blobs and of every section but DATA.
    private func decodeAfterTensors(blobs: [Range<Int>], data: Range<Int>, graph: Range<Int>, metadata: Range<Int>,
                                    sections: [PareSection], version: (major: UInt16, minor: UInt16)) throws(FormatError) -> PareFile {
        // With blob checks deferred, the gaps between blobs are checked with them: reading them
        // now would fault in pages of DATA that loading otherwise leaves alone.
        let deferredGaps = try checkPaddingIsZero(covered: blobs, deferringInside: options.verifiesTensorData ? nil : data)
        var (model, keys, signature) = try decodeGraph(graph)
        // The metadata's signatures are the graph's inputs and outputs, byte for byte when no
        // graph input is an initializer (then the runtime inputs are all the inputs).
        var isInitializer = [Bool](repeating: false, count: texts.count)
        for key in keys.initializers { isInitializer[key] = true }
        let inputsAreRuntimeInputs = keys.sparseInitializers.isEmpty && !keys.inputs.contains { isInitializer[$0] }
        try decodeMetadata(metadata, into: &model, graphSignature: inputsAreRuntimeInputs ? signature : nil)
        let numbering: ValueNumbering
        do {
            // The tensor table's entries were checked against their types and shapes as they
            // were read (decodeTensors).
            numbering = try model.graph.validated(ValueNumbering(model.graph, keys: consume keys, keyCount: texts.count),
                                                  initializersChecked: true)
        } catch {
            throw fail(error.description)
        }
        return PareFile(model: model, numbering: numbering, majorVersion: Int(version.major), minorVersion: Int(version.minor),
                        fileBytes: bytes.count, sections: sections, tensors: entries, deferredChecks: deferred,
                        checksInFlight: checksInFlight, deferredGaps: deferredGaps, source: source)
    }

    static func blobMismatch(_ check: PareFile.DeferredCheck) -> String {
        "tensor '\(check.name)': data checksum mismatch (the file is corrupt)"
    }

    private var hasMagic: Bool { PareLayout.startsWithMagic(bytes) }

    private func section(_ range: Range<Int>, _ context: String) -> PareByteSource {
        PareByteSource(UnsafeRawBufferPointer(rebasing: bytes[range]), source: source, context: context)
    }

    private func expectEnd(_ reader: PareByteSource) throws(FormatError) {
        guard reader.isAtEnd else { throw reader.error("\(reader.remaining) bytes left over at its end") }
    }

    /// Bytes no section or blob describes must be zero, so that no byte of a file goes unchecked.
    /// The parts of gaps inside `deferringInside` (DATA, when blob checks are deferred) are not
    /// read but returned, for `PareFile.verifyTensorData()` to check.
    private func checkPaddingIsZero(covered: [Range<Int>], deferringInside data: Range<Int>?) throws(FormatError) -> [PareFile.DeferredGap] {
        var deferred: [PareFile.DeferredGap] = []
        func check(_ gap: Range<Int>) throws(FormatError) {
            guard !gap.isEmpty else { return }
            if let data, gap.overlaps(data) {
                let inside = gap.clamped(to: data)
                deferred.append(PareFile.DeferredGap(offset: inside.lowerBound, bytes: view(inside)))
                try check(gap.lowerBound..<inside.lowerBound)
                try check(inside.upperBound..<gap.upperBound)
            } else if let bad = firstNonzero(gap) {
                throw fail(Self.nonzeroPadding(at: bad, is: bytes[bad]))
            }
        }
        var position = 0
        for range in covered.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if range.lowerBound > position { try check(position..<range.lowerBound) }
            position = max(position, range.upperBound)
        }
        try check(position..<bytes.count)
        return deferred
    }

    static func nonzeroPadding(at offset: Int, is byte: UInt8) -> String {
        "padding byte at offset \(offset) is \(byte), not zero (the file is corrupt)"
    }

    /// The offset of the first nonzero byte in `range`, checking eight bytes at a time.
    private func firstNonzero(_ range: Range<Int>) -> Int? {
        var offset = range.lowerBound
        while offset + 8 <= range.upperBound {
            if bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self) != 0 { break }
            offset += 8
        }
        return (offset..<range.upperBound).first { bytes[$0] != 0 }
    }

    // MARK: Strings and tensors

    private mutating func decodeStrings(_ range: Range<Int>) throws(FormatError) {
        var reader = section(range, "section STRS")
        let count = try reader.itemCount("string count")
        stringRanges.reserveCapacity(count)
        texts.reserveCapacity(count)
        for _ in 0..<count {
            let length = try reader.count("string length", limit: reader.remaining)
            let start = range.lowerBound + reader.position
            try reader.skip(length)
            stringRanges.append(start..<(start + length))
            // Most entries are names, each read by several nodes: one String each, shared.
            texts.append(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<(start + length)]), as: UTF8.self))
        }
        try expectEnd(reader)
        guard stringRanges.first?.isEmpty == true else { throw reader.error("string 0 must be the empty string") }
        stringKeys = PareStringKeys.canonicalIndices(stringRanges, in: bytes)
    }

    private func stringIndex(_ reader: inout PareByteSource) throws(FormatError) -> Int {
        let index = try reader.varint()
        guard index < UInt64(texts.count) else { throw reader.error("string index \(index) is past the string table's \(texts.count) entries") }
        return Int(index)
    }

    /// A string-table entry as bytes (attribute strings need not be UTF-8).
    private func string(_ reader: inout PareByteSource) throws(FormatError) -> Data {
        Data(UnsafeRawBufferPointer(rebasing: bytes[stringRanges[try stringIndex(&reader)]]))
    }

    private func text(_ reader: inout PareByteSource) throws(FormatError) -> String {
        texts[try stringIndex(&reader)]
    }

    private func elementType(_ reader: inout PareByteSource) throws(FormatError) -> ElementType {
        let raw = try reader.varint()
        guard raw <= UInt64(Int.max), let type = ElementType(rawValue: Int(raw)), type != .undefined else {
            throw reader.error("unknown element type \(raw)")
        }
        return type
    }

    private func shape(_ reader: inout PareByteSource) throws(FormatError) -> [Int] {
        let rank = try reader.count("rank", limit: min(PareLayout.maximumRank, reader.remaining))
        var dims: [Int] = []
        dims.reserveCapacity(rank)
        var total = 1
        for _ in 0..<rank {
            let d = try reader.count("dimension", limit: Int(Int32.max))
            let (product, overflow) = total.multipliedReportingOverflow(by: d)
            guard !overflow, product <= Int(Int32.max) * 64 else { throw reader.error("shape \(dims + [d]) holds too many elements") }
            total = product
            dims.append(d)
        }
        return dims
    }

    /// Reads the tensor table, making each tensor from its blob; returns the blobs' file ranges.
    private mutating func decodeTensors(_ range: Range<Int>, data: Range<Int>) throws(FormatError) -> [Range<Int>] {
        var reader = section(range, "section TENS")
        let count = try reader.itemCount("tensor count", minimumBytes: 4)
        var blobs: [Range<Int>] = []
        // Blobs to check now (and decode, when compressed).
        var pending: [PareFile.DeferredCheck] = []
        blobs.reserveCapacity(count)
        tensors.reserveCapacity(count)
        entries.reserveCapacity(count)
        tensorNameKeys.reserveCapacity(count)
        // The end of the furthest blob so far: a blob starting there or later overlaps none of
        // them (writers store blobs in order), so only one out of order is compared with each.
        var blobsEnd = 0
        for index in 0..<count {
            reader.item = .tensor(index: index)
            let nameIndex = try stringIndex(&reader)
            let name = texts[nameIndex]
            tensorNameKeys.append(stringKeys[nameIndex])
            reader.item = .namedTensor(name)
            let type = try elementType(&reader)
            let shape = try self.shape(&reader)
            let elements = shape.reduce(1, *)
            let encoding = try reader.varint()
            switch PareLayout.Encoding(rawValue: encoding) {
            case .strings:
                guard type == .string else { throw reader.error("string encoding for a tensor of type \(type)") }
                let n = try reader.itemCount("string count")
                guard n == elements else { throw reader.error("shape \(shape) needs \(elements) strings, the entry has \(n)") }
                var values: [Data] = []
                for _ in 0..<n { values.append(try string(&reader)) }
                tensors.append(Tensor(name: name, elementType: type, shape: shape, storage: .strings(values)))
                entries.append(PareTensorEntry(name: name, elementType: type.description, shape: shape, compression: "none",
                                               storedBytes: 0, decodedBytes: values.reduce(0) { $0 + $1.count }))
            case .raw:
                guard let expected = type.byteCount(forElements: elements) else { throw reader.error("type \(type) has no raw encoding") }
                let compressionCode = try reader.varint()
                guard let compression = PareLayout.Compression(rawValue: compressionCode) else {
                    throw reader.error("unknown compression \(compressionCode)")
                }
                let offset = try reader.count("blob offset", limit: data.count)
                let length = try reader.count("blob length", limit: data.count - offset)
                let crc = try reader.uint32()
                guard offset % PareLayout.alignment == 0 else { throw reader.error("blob offset \(offset) is not a multiple of \(PareLayout.alignment)") }
                if compression == .none && length != expected {
                    throw reader.error("blob holds \(length) bytes, shape \(shape) of \(type) needs \(expected)")
                }
                let blob = (data.lowerBound + offset)..<(data.lowerBound + offset + length)
                if blob.lowerBound < blobsEnd, let overlap = blobs.first(where: { $0.overlaps(blob) }) {
                    throw reader.error("blob \(blob) overlaps blob \(overlap)")
                }
                blobsEnd = max(blobsEnd, blob.upperBound)
                blobs.append(blob)
                let check = PareFile.DeferredCheck(name: name, bytes: view(blob), crc: crc, tensor: tensors.count)
                if compression == .zstd || options.verifiesTensorData {
                    pending.append(check)
                } else {
                    deferred.append(check)
                }
                tensors.append(Tensor(name: name, elementType: type, shape: shape, storage: .bytes(compression == .zstd ? Data() : check.bytes)))
                entries.append(PareTensorEntry(name: name, elementType: type.description, shape: shape,
                                               compression: compression == .zstd ? "zstd" : "none", storedBytes: length, decodedBytes: expected))
            case nil:
                throw reader.error("unknown encoding \(encoding)")
            }
        }
        reader.item = .none
        try expectEnd(reader)
        if pending.contains(where: { entries[$0.tensor].compression == "zstd" }) {
            try checkAndDecompress(pending)
        } else if !pending.isEmpty {
            // Uncompressed blobs are not needed to decode the rest: their checks run meanwhile.
            let verifier = BlobVerifier(pending)
            verifier.startHelpers()
            checksInFlight = verifier
        }
        return blobs
    }

    /// Checks the CRCs of `pending` blobs and decodes the compressed ones.
    private mutating func checkAndDecompress(_ pending: [PareFile.DeferredCheck]) throws(FormatError) {
        if let bad = BlobVerifier.firstMismatch(in: pending) { throw fail(Self.blobMismatch(bad)) }
        for item in pending where entries[item.tensor].compression == "zstd" {
            let expected = entries[item.tensor].decodedBytes
            let decoded = item.bytes.withUnsafeBytes { blob in
                Result { () throws(FormatError) in try Zstd.decompress(blob, expectedCount: expected) }
            }
            switch decoded {
            case .success(let data): tensors[item.tensor].storage = .bytes(data)
            case .failure(let error): throw fail("tensor '\(item.name)': \(error.message)")
            }
        }
    }

    private func tensor(_ reader: inout PareByteSource) throws(FormatError) -> Tensor {
        tensors[try tensorIndex(&reader)]
    }

    private func tensorIndex(_ reader: inout PareByteSource) throws(FormatError) -> Int {
        let index = try reader.varint()
        guard index < UInt64(tensors.count) else { throw reader.error("tensor index \(index) is past the tensor table's \(tensors.count) entries") }
        return Int(index)
    }

    /// A name's key (see `stringKeys`) as a node input or output, where the empty name is absent.
    private func nodeValueKey(_ index: Int) -> Int { index == 0 ? -1 : stringKeys[index] }

    // MARK: Graph

    /// The model, the keys of its value names, and where in the file the main graph's input and
    /// output declarations lie (see `decodeMetadata`).
    private func decodeGraph(_ range: Range<Int>) throws(FormatError) -> (Model, ValueNameKeys, signature: Range<Int>) {
        var reader = section(range, "section GRPH")
        let irVersion = try reader.varint()
        let opsetCount = try reader.itemCount("opset count", minimumBytes: 2)
        var opsets: [OpsetImport] = []
        for _ in 0..<opsetCount {
            let domain = try text(&reader)
            opsets.append(OpsetImport(domain: domain, version: Int64(truncatingIfNeeded: try reader.varint())))
        }
        var keys = ValueNameKeys(inputs: [], initializers: [], nodeInputs: [], nodeOutputs: [], outputs: [], sparseInitializers: [])
        var signature = 0..<0
        let graph = try self.graph(&reader, depth: 0, keys: &keys, signature: &signature)
        try expectEnd(reader)
        return (Model(irVersion: Int64(truncatingIfNeeded: irVersion), opsetImports: opsets, graph: graph), keys,
                (range.lowerBound + signature.lowerBound)..<(range.lowerBound + signature.upperBound))
    }

    /// A graph, with the keys of its value names (see `stringKeys`) put in `keys`, and the
    /// positions of its input and output declarations (from the input count on) in `signature`.
    private func graph(_ reader: inout PareByteSource, depth: Int, keys: inout ValueNameKeys,
                       signature: inout Range<Int>) throws(FormatError) -> Graph {
        guard depth < PareLayout.maximumGraphDepth else { throw reader.error("subgraphs nested deeper than \(PareLayout.maximumGraphDepth)") }
        var graph = Graph(name: try text(&reader))
        let context = depth == 0 ? "section GRPH" : "section GRPH, subgraph '\(graph.name)'"
        let (outerContext, outerItem) = (reader.context, reader.item)
        defer { (reader.context, reader.item) = (outerContext, outerItem) }
        reader.context = context
        reader.item = .none
        let signatureStart = reader.position
        for _ in 0..<(try reader.itemCount("input count", minimumBytes: 2)) {
            let (input, key) = try valueDeclaration(&reader)
            graph.inputs.append(input)
            keys.inputs.append(key)
        }
        for _ in 0..<(try reader.itemCount("output count", minimumBytes: 2)) {
            let (output, key) = try valueDeclaration(&reader)
            graph.outputs.append(output)
            keys.outputs.append(key)
        }
        signature = signatureStart..<reader.position
        let initializerCount = try reader.itemCount("initializer count")
        // Pare's writer lists the whole tensor table, in order: the graph then shares the table
        // (copying each tensor retains its fields). The indices are read twice to find out.
        var listed = reader
        var wholeTable = initializerCount == tensors.count
        for position in 0..<initializerCount where wholeTable { wholeTable = try tensorIndex(&listed) == position }
        if wholeTable {
            reader = listed
            graph.initializers = tensors
            keys.initializers = tensorNameKeys
        } else {
            for _ in 0..<initializerCount {
                let index = try tensorIndex(&reader)
                graph.initializers.append(tensors[index])
                keys.initializers.append(tensorNameKeys[index])
            }
        }
        for _ in 0..<(try reader.itemCount("sparse initializer count", minimumBytes: 3)) {
            let (sparse, nameKey) = try self.sparse(&reader)
            graph.sparseInitializers.append(sparse)
            keys.sparseInitializers.append(nameKey)
        }
        let nodeCount = try reader.itemCount("node count", minimumBytes: 5)
        graph.nodes.reserveCapacity(nodeCount)
        keys.nodeInputs.reserveCapacity(nodes: nodeCount, ids: nodeCount * 3)
        keys.nodeOutputs.reserveCapacity(nodes: nodeCount, ids: nodeCount)
        var recentAttributes = RecentAttributes()
        for index in 0..<nodeCount {
            reader.item = .node(index: index)
            graph.nodes.append(try node(&reader, depth: depth, index: index, keys: &keys, recentAttributes: &recentAttributes))
            reader.item = .none
        }
        return graph
    }

    /// The attribute lists of the last few nodes, with the bytes that encode them. Nodes of one
    /// model often carry the same attributes (every 3×3 conv: the same kernel shape, pads, strides
    /// and dilations); a node whose attribute bytes repeat a recent list's shares that list
    /// instead of decoding (and allocating) it again. The encoding is self-delimiting and a list
    /// refers to nothing outside its bytes but table indices, so equal bytes decode to equal lists.
    struct RecentAttributes {
        /// A struct, not a tuple: an array of tuples is two generic types for the runtime to
        /// instantiate on a process's first load, an array of structs one.
        private struct Entry {
            let bytes: Range<Int>
            let attributes: [Attribute]
        }
        private var entries: [Entry] = []
        /// Entries kept: enough for the few attribute sets a network alternates between.
        private static let capacity = 4

        /// A recent list whose bytes come next in `reader`, stepping over them.
        func repeated(in reader: inout PareByteSource) -> [Attribute]? {
            for entry in entries.reversed() where reader.skipRepeat(of: entry.bytes) { return entry.attributes }
            return nil
        }

        mutating func remember(_ attributes: [Attribute], bytes: Range<Int>) {
            // Lists holding graphs are left out: a subgraph is decoded (and numbered) on its own.
            guard !attributes.isEmpty, !attributes.contains(where: { $0.value.holdsGraphs }) else { return }
            if entries.count == Self.capacity { entries.removeFirst() }
            entries.append(Entry(bytes: bytes, attributes: attributes))
        }
    }

    /// A node; the keys of its inputs' and outputs' names are added to `keys`.
    private func node(_ reader: inout PareByteSource, depth: Int, index: Int, keys: inout ValueNameKeys,
                      recentAttributes: inout RecentAttributes) throws(FormatError) -> Node {
        let code = try reader.varint()
        var domain = "", opType: String
        if code == 0 {
            domain = try text(&reader)
            opType = try text(&reader)
        } else {
            guard code <= UInt64(PareLayout.builtinOps.count) else {
                throw reader.error("op code \(code) is unknown to this reader (it knows 1...\(PareLayout.builtinOps.count))")
            }
            opType = PareLayout.builtinOps[Int(code) - 1]
        }
        // The parts are gathered first and the node made once: a node built up in a variable was
        // copied into the result (a retain of each field) and then destroyed.
        let name = try text(&reader)
        reader.item = .namedNode(index: index, name: name, opType: opType)
        let inputs = try nodeValues(&reader, "input count", keys: &keys.nodeInputs)
        let outputs = try nodeValues(&reader, "output count", keys: &keys.nodeOutputs)
        let attributes: [Attribute]
        if let repeated = recentAttributes.repeated(in: &reader) {
            attributes = repeated
        } else {
            attributes = try attributeList(&reader, depth: depth, recentAttributes: &recentAttributes)
        }
        return Node(name: name, opType: opType, domain: domain, inputs: inputs, outputs: outputs, attributes: attributes)
    }

    /// A node's input or output names (a count, then string indices), their keys added to `keys`
    /// as the node's list.
    private func nodeValues(_ reader: inout PareByteSource, _ what: String, keys: inout NodeValueIDs) throws(FormatError) -> [String] {
        let count = try reader.itemCount(what)
        var names: [String] = []
        names.reserveCapacity(count)
        keys.appendNode()
        for _ in 0..<count {
            let value = try stringIndex(&reader)
            names.append(texts[value])
            keys.appendToLastNode(nodeValueKey(value))
        }
        return names
    }

    /// A node's attribute list, remembered in `recentAttributes` for the nodes after it.
    private func attributeList(_ reader: inout PareByteSource, depth: Int, recentAttributes: inout RecentAttributes) throws(FormatError) -> [Attribute] {
        let start = reader.position
        let count = try reader.itemCount("attribute count", minimumBytes: 3)
        var attributes: [Attribute] = []
        attributes.reserveCapacity(count)
        for _ in 0..<count {
            let name = try text(&reader)
            attributes.append(Attribute(name, try attributeValue(&reader, name: name, depth: depth)))
        }
        recentAttributes.remember(attributes, bytes: start..<reader.position)
        return attributes
    }

    private func attributeValue(_ reader: inout PareByteSource, name: String, depth: Int) throws(FormatError) -> AttributeValue {
        let kind = try reader.varint()
        switch kind {
        case 1: return .float(try reader.float32())
        case 2: return .int(try reader.signedVarint())
        case 3: return .string(try string(&reader))
        case 4: return .tensor(try tensor(&reader))
        case 5: return .graph(try subgraph(&reader, depth: depth + 1))
        case 6: return .floats(try list(&reader, minimumBytes: 4) { (r: inout PareByteSource) throws(FormatError) in try r.float32() })
        case 7: return .ints(try list(&reader) { (r: inout PareByteSource) throws(FormatError) in try r.signedVarint() })
        case 8: return .strings(try list(&reader) { (r: inout PareByteSource) throws(FormatError) in try string(&r) })
        case 9: return .tensors(try list(&reader) { (r: inout PareByteSource) throws(FormatError) in try tensor(&r) })
        case 10: return .graphs(try list(&reader, minimumBytes: 6) { (r: inout PareByteSource) throws(FormatError) in try subgraph(&r, depth: depth + 1) })
        case 11: return .sparseTensor(try sparse(&reader).0)
        case 12: return .sparseTensors(try list(&reader, minimumBytes: 3) { (r: inout PareByteSource) throws(FormatError) in try sparse(&r).0 })
        case 13: return .type(try type(&reader))
        case 14: return .types(try list(&reader) { (r: inout PareByteSource) throws(FormatError) in try type(&r) })
        default: throw reader.error("attribute '\(name)' has unknown kind \(kind)")
        }
    }

    private func list<T>(_ reader: inout PareByteSource, minimumBytes: Int = 1,
                         _ item: (inout PareByteSource) throws(FormatError) -> T) throws(FormatError) -> [T] {
        let count = try reader.itemCount("list length", minimumBytes: minimumBytes)
        var result: [T] = []
        result.reserveCapacity(count)
        for _ in 0..<count { result.append(try item(&reader)) }
        return result
    }

    /// A subgraph (its names are numbered when it is validated, not by key).
    private func subgraph(_ reader: inout PareByteSource, depth: Int) throws(FormatError) -> Graph {
        var keys = ValueNameKeys(inputs: [], initializers: [], nodeInputs: [], nodeOutputs: [], outputs: [], sparseInitializers: [])
        var signature = 0..<0
        return try graph(&reader, depth: depth, keys: &keys, signature: &signature)
    }

    /// A sparse tensor, and the key of its name (its values tensor's).
    private func sparse(_ reader: inout PareByteSource) throws(FormatError) -> (SparseTensor, nameKey: Int) {
        let values = try tensorIndex(&reader), indices = try tensor(&reader)
        return (SparseTensor(values: tensors[values], indices: indices, shape: try shape(&reader)), tensorNameKeys[values])
    }

    /// A declared value, and the key of its name (see `stringKeys`).
    private func valueDeclaration(_ reader: inout PareByteSource) throws(FormatError) -> (value: Value, key: Int) {
        let name = try stringIndex(&reader)
        return (Value(name: texts[name], type: try type(&reader)), stringKeys[name])
    }

    private func type(_ reader: inout PareByteSource) throws(FormatError) -> ValueType? {
        let tag = try reader.varint()
        switch tag {
        case 0: return nil
        case 1:
            // A declared type may leave the element type undefined (0); a stored tensor may not.
            let raw = try reader.varint()
            guard raw <= UInt64(Int.max), let element = ElementType(rawValue: Int(raw)) else { throw reader.error("unknown element type \(raw)") }
            let rankPlusOne = try reader.count("rank", limit: min(PareLayout.maximumRank + 1, reader.remaining + 1))
            guard rankPlusOne > 0 else { return .tensor(TensorType(element, nil)) }
            var dims: [Dim] = []
            for _ in 1..<rankPlusOne {
                let d = try reader.varint()
                switch d {
                case 0: dims.append(.unknown)
                case 1: dims.append(.symbol(try text(&reader)))
                default:
                    guard d - 2 <= UInt64(Int32.max) else { throw reader.error("dimension \(d - 2) is too large") }
                    dims.append(.known(Int(d - 2)))
                }
            }
            return .tensor(TensorType(element, dims))
        case 2: return .carried(CarriedFields(try string(&reader)))
        default: throw reader.error("unknown type tag \(tag)")
        }
    }

    private func type(_ reader: inout PareByteSource) throws(FormatError) -> ValueType {
        guard let type: ValueType = try type(&reader) else { throw reader.error("a type is missing") }
        return type
    }

    // MARK: Metadata

    /// Reads the metadata into `model`, checking its input/output signatures against the graph.
    /// `graphSignature`, when given, is where the graph's input and output declarations lie, which
    /// are the expected signatures: the same bytes need no decoding (the usual case: writers
    /// encode both alike). Otherwise the signatures are decoded and compared as values.
    private func decodeMetadata(_ range: Range<Int>, into model: inout Model, graphSignature: Range<Int>?) throws(FormatError) {
        var reader = section(range, "section META")
        var entries: [MetadataEntry] = []
        for _ in 0..<(try reader.itemCount("entry count", minimumBytes: 2)) {
            let key = try text(&reader)
            entries.append(MetadataEntry(key, try text(&reader)))
        }
        let signatureStart = range.lowerBound + reader.position
        if let graphSignature, graphSignature.count == range.upperBound - signatureStart,
           memcmp(bytes.baseAddress! + signatureStart, bytes.baseAddress! + graphSignature.lowerBound, graphSignature.count) == 0 {
            try reader.skip(graphSignature.count)
        } else {
            var inputs: [Value] = [], outputs: [Value] = []
            for _ in 0..<(try reader.itemCount("input count", minimumBytes: 2)) { inputs.append(try valueDeclaration(&reader).value) }
            for _ in 0..<(try reader.itemCount("output count", minimumBytes: 2)) { outputs.append(try valueDeclaration(&reader).value) }
            try expectEnd(reader)
            guard inputs == model.graph.runtimeInputs, outputs == model.graph.outputs else {
                throw reader.error("the input/output signatures differ from the graph's inputs and outputs")
            }
        }
        if let producer = entries.first(where: { $0.key == PareMetadataKey.producer })?.value {
            let space = producer.firstIndex(of: " ")
            model.producerName = String(producer[..<(space ?? producer.endIndex)])
            model.producerVersion = space.map { String(producer[producer.index(after: $0)...]) } ?? ""
        }
        model.metadata = entries.filter { $0.key != PareMetadataKey.producer }
    }
}
