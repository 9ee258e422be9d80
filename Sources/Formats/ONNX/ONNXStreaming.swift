import Foundation
import SwiftProtobuf
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Keeps peak memory near one copy of the weights when reading and writing files.
///
/// Protobuf decoding copies every `raw_data` out of the input, and encoding builds the whole file
/// in one buffer; done naively, loading or saving a model holds its weights twice. Reading instead
/// decodes the main graph's initializers one at a time from a private (copy-on-write) file
/// mapping: a large `raw_data` becomes a view of the mapping, other large fields are copied and
/// their pages released. Writing streams each initializer's `raw_data` straight from the IR's
/// buffer to the file. Both produce exactly what whole-message decoding and encoding would.
enum ONNXStreaming {
    // MARK: Wire format

    /// One field of a serialized message: its number and the byte range of tag, length and value.
    struct WireField {
        var number: Int
        var wireType: Int
        var whole: Range<Int>
        var payload: Range<Int>
    }

    /// The top-level fields of the message in `bytes[range]`, or nil when it is not well formed
    /// (or uses groups): callers then fall back to ordinary decoding, which reports the error.
    static func fields(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> [WireField]? {
        var result: [WireField] = []
        var at = range.lowerBound
        func varint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while at < range.upperBound, shift < 64 {
                let byte = bytes[at]
                at += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
            return nil
        }
        while at < range.upperBound {
            let start = at
            guard let tag = varint(), tag >> 3 > 0, tag >> 3 < (1 << 29) else { return nil }
            let wireType = Int(tag & 7)
            let payloadStart: Int
            switch wireType {
            case 0:
                guard varint() != nil else { return nil }
                payloadStart = start
            case 1, 5:
                let width = wireType == 1 ? 8 : 4
                guard range.upperBound - at >= width else { return nil }
                payloadStart = at
                at += width
            case 2:
                guard let length = varint(), length <= UInt64(range.upperBound - at) else { return nil }
                payloadStart = at
                at += Int(length)
            default:
                return nil
            }
            result.append(WireField(number: Int(tag >> 3), wireType: wireType, whole: start..<at, payload: payloadStart..<at))
        }
        return result
    }

    // MARK: Reading

    /// Decodes a model, with the main graph's initializers decoded one by one. When `release` is
    /// set (only for private, read-only file mappings), the pages of each initializer are given
    /// back to the kernel once decoded. Returns nil when the layout is unusual (no graph, several
    /// graph fields, malformed); the caller then decodes the whole message instead.
    static func decodePiecewise(_ data: Data, release: Bool) -> Onnx_ModelProto? {
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Onnx_ModelProto? in
            guard let top = fields(raw, 0..<raw.count) else { return nil }
            let graphFields = top.filter { $0.number == 7 }
            guard graphFields.count == 1, let graphField = graphFields.first, graphField.wireType == 2,
                  let inner = fields(raw, graphField.payload)
            else { return nil }
            var model = Onnx_ModelProto()
            var graph = Onnx_GraphProto()
            var mapping: MappedFile?
            do {
                // Top-level fields other than the graph, in order (runs merged in one call each).
                try mergeRuns(top, into: &model, from: data, skipping: { $0.number == 7 })
                var pending: Range<Int>?
                for field in inner {
                    guard field.number == 5 && field.wireType == 2 else {
                        pending = pending.map { $0.lowerBound..<field.whole.upperBound } ?? field.whole
                        continue
                    }
                    if let run = pending {
                        try graph.merge(serializedBytes: slice(data, run))
                        pending = nil
                    }
                    if let tensor = try initializerViewingRawData(raw, field.payload, data: data, mapping: &mapping) {
                        graph.initializer.append(tensor)
                        continue
                    }
                    try graph.merge(serializedBytes: slice(data, field.whole))
                    // Only large copies are worth handing pages back for: each release costs TLB
                    // shootdowns on every core.
                    if release && field.payload.count >= 1 << 20 { releasePages(raw, field.payload) }
                }
                if let run = pending { try graph.merge(serializedBytes: slice(data, run)) }
            } catch {
                return nil
            }
            model.graph = graph
            return model
        }
    }

    /// The initializer serialized in `raw[payload]` with its `raw_data` a view of `data` instead of
    /// a copy (protobuf decoding copies every bytes field), when it has exactly one raw_data of at
    /// least 1 KiB; nil otherwise. The file is mapped copy-on-write, so the view stays valid and
    /// private even when a pass rescales the tensor in place.
    private static func initializerViewingRawData(
        _ raw: UnsafeRawBufferPointer, _ payload: Range<Int>, data: Data, mapping: inout MappedFile?
    ) throws -> Onnx_TensorProto? {
        guard let fields = fields(raw, payload) else { return nil }
        let rawData = fields.filter { $0.number == 9 }
        guard rawData.count == 1, let field = rawData.first, field.wireType == 2, field.payload.count >= 1024 else { return nil }
        var rest = Data()
        for other in fields where other.number != 9 { rest.append(slice(data, other.whole)) }
        var tensor = try Onnx_TensorProto(serializedBytes: rest)
        if mapping == nil { mapping = MappedFile(data) }
        tensor.rawData = mapping!.slice(offset: field.payload.lowerBound, length: field.payload.count)
        return tensor
    }

    private static func mergeRuns<M: SwiftProtobuf.Message>(
        _ list: [WireField], into message: inout M, from data: Data, skipping skip: (WireField) -> Bool
    ) throws {
        var pending: Range<Int>?
        for field in list {
            if skip(field) {
                if let run = pending { try message.merge(serializedBytes: slice(data, run)) }
                pending = nil
            } else {
                pending = pending.map { $0.lowerBound..<field.whole.upperBound } ?? field.whole
            }
        }
        if let run = pending { try message.merge(serializedBytes: slice(data, run)) }
    }

    private static func slice(_ data: Data, _ range: Range<Int>) -> Data {
        data[data.startIndex + range.lowerBound ..< data.startIndex + range.upperBound]
    }

    /// Drops the whole pages inside `range` from a private read-only file mapping; touching them
    /// again reads them back from the file.
    private static func releasePages(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>) {
        guard let base = raw.baseAddress else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard page > 0 else { return }
        let address = Int(bitPattern: base)
        let first = (address + range.lowerBound + page - 1) / page * page
        let end = (address + range.upperBound) / page * page
        guard end > first, let pointer = UnsafeMutableRawPointer(bitPattern: first) else { return }
        _ = madvise(pointer, end - first, Int32(MADV_DONTNEED))
    }

    /// Maps the model file at `path`, with errors for a missing file or a folder.
    static func mapModelFile(_ path: String) throws(FormatError) -> Data {
        try mapFile(path, describingMissing: true)
    }

    /// The file at `path`, mapped privately (copy-on-write), as Data that unmaps when released.
    /// With `describingMissing`, a missing file or a folder gets the messages a user who typed a
    /// model path expects. (POSIX calls, one open and one fstat: the first FileManager or
    /// FileHandle in a process costs more than loading a small model.)
    static func mapFile(_ path: String, describingMissing: Bool = false) throws(FormatError) -> Data {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if describingMissing && errno == ENOENT { throw FormatError(source: path, "no such file") }
            throw FormatError(source: path, "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FormatError(source: path, "cannot read: \(String(cString: strerror(errno)))") }
        if describingMissing && info.st_mode & S_IFMT == S_IFDIR { throw FormatError(source: path, "is a folder, not a model file") }
        let size = Int(info.st_size)
        guard size > 0 else { return Data() }
        // Writable but private (copy-on-write): a pass that rescales a weight in place, when its
        // Data is the only owner, changes this process's copy of the page, never the file, and a
        // read-only mapping would crash it.
        guard let address = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0), address != MAP_FAILED else {
            throw FormatError(source: path, "cannot map into memory: \(String(cString: strerror(errno)))")
        }
        return Data(bytesNoCopy: address, count: size, deallocator: .custom { pointer, count in
            _ = munmap(pointer, count)
        })
    }

    // MARK: Writing

    /// A model laid out for writing: the bytes exactly those of `serializedBytes()`, but with the
    /// main graph's initializers' `raw_data` written from their own buffers instead of copied.
    struct Layout {
        private var head = Data()
        private var graphHead = Data()
        private var pieces: [TensorPieces] = []
        private var graphTail = Data()
        private var tail = Data()
        /// Bytes the serialized model occupies.
        private(set) var size = 0

        init(_ model: Onnx_ModelProto) throws {
            // swift-protobuf writes fields in number order, then unknown fields; graph is field 7.
            var head = model
            head.clearGraph()
            head.opsetImport = []
            head.metadataProps = []
            head.trainingInfo = []
            head.functions = []
            head.configuration = []
            head.unknownFields = UnknownStorage()
            var tail = model
            tail.clearIrVersion()
            tail.clearProducerName()
            tail.clearProducerVersion()
            tail.clearDomain()
            tail.clearModelVersion()
            tail.clearDocString()
            tail.clearGraph()
            // Graph fields 1 (node) and 2 (name) come before 5 (initializer), the others after.
            let graph = model.graph
            var graphHead = Onnx_GraphProto()
            graphHead.node = graph.node
            if graph.hasName { graphHead.name = graph.name }
            var graphTail = graph
            graphTail.node = []
            graphTail.clearName()
            graphTail.initializer = []

            self.head = try head.serializedBytes()
            self.tail = try tail.serializedBytes()
            self.graphHead = try graphHead.serializedBytes()
            self.graphTail = try graphTail.serializedBytes()
            pieces.reserveCapacity(graph.initializer.count)
            var graphSize = self.graphHead.count + self.graphTail.count
            for tensor in graph.initializer {
                let piece = try TensorPieces(tensor)
                pieces.append(piece)
                graphSize += 1 + ONNXStreaming.varintSize(piece.size) + piece.size
            }
            self.graphHead = ONNXStreaming.tag(7) + ONNXStreaming.varint(graphSize) + self.graphHead
            size = self.head.count + 1 + ONNXStreaming.varintSize(graphSize) + graphSize + self.tail.count
        }

        func write(to file: inout AtomicFile) throws(FormatError) {
            try file.write(head)
            try file.write(graphHead)
            for piece in pieces {
                try file.write(ONNXStreaming.tag(5) + ONNXStreaming.varint(piece.size) + piece.head)
                if let raw = piece.raw {
                    try file.write(ONNXStreaming.tag(9) + ONNXStreaming.varint(raw.count))
                    try file.write(raw)
                }
                try file.write(piece.tail)
            }
            try file.write(graphTail)
            try file.write(tail)
        }
    }

    /// A tensor split around its `raw_data` (field 9): fields before it, the bytes, fields after.
    fileprivate struct TensorPieces {
        var head: Data
        var raw: Data?
        var tail: Data
        var size: Int

        init(_ tensor: Onnx_TensorProto) throws {
            var before = tensor
            before.clearRawData()
            before.doubleData = []
            before.uint64Data = []
            before.clearDocString()
            before.externalData = []
            before.clearDataLocation()
            before.metadataProps = []
            before.unknownFields = UnknownStorage()
            var after = tensor
            after.dims = []
            after.clearDataType()
            after.clearSegment()
            after.floatData = []
            after.int32Data = []
            after.stringData = []
            after.int64Data = []
            after.clearName()
            after.clearRawData()
            head = try before.serializedBytes()
            tail = try after.serializedBytes()
            raw = tensor.hasRawData ? tensor.rawData : nil
            size = head.count + tail.count + (raw.map { 1 + ONNXStreaming.varintSize($0.count) + $0.count } ?? 0)
        }
    }

    static func varintSize(_ value: Int) -> Int {
        var v = UInt64(value)
        var n = 1
        while v >= 0x80 {
            v >>= 7
            n += 1
        }
        return n
    }

    static func varint(_ value: Int) -> Data {
        var v = UInt64(value)
        var out = Data()
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
        return out
    }

    /// The tag of a length-delimited field.
    static func tag(_ number: Int) -> Data { varint(number << 3 | 2) }
}
