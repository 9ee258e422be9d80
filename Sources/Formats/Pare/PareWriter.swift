import Foundation
import Graph

/// Options for writing a `.pare` file.
public struct PareWriteOptions: Sendable {
    /// Per-tensor blob compression.
    public enum Compression: Sendable, Hashable {
        case none
        /// zstd at `level`, for each tensor where it saves at least 1/32 of the blob.
        case zstd(level: Int32)
    }

    public var compression: Compression
    /// SHA-256 (hex) of the source model file; a model that already records one keeps it.
    public var sourceSHA256: String?
    /// Preprocessing for apps; given values replace what the model's metadata records.
    public var preprocessing: Preprocessing?

    public init(compression: Compression = .none, sourceSHA256: String? = nil, preprocessing: Preprocessing? = nil) {
        self.compression = compression
        self.sourceSHA256 = sourceSHA256
        self.preprocessing = preprocessing
    }
}

/// A `.pare` file laid out in memory, except for uncompressed tensor blobs, which are written
/// straight from the tensors' own buffers.
struct PareFileLayout {
    /// Header, section table and every section before the data section, padded to its start.
    var head: [UInt8]
    /// Each blob's offset in the file and its bytes.
    var blobs: [(offset: Int, bytes: Data)]
    var size: Int

    init(_ model: Model, options: PareWriteOptions, source: String) throws(FormatError) {
        var encoder = PareGraphEncoder(source: source)
        let graphSection = try encoder.graphSection(model)
        let metadata = encoder.metadataSection(PareMetadata.entries(for: model, options: options), graph: model.graph)

        // Tensor table entries and where each blob goes in the data section.
        var table = PareByteSink()
        table.varint(encoder.tensors.count)
        var blobs: [(offset: Int, bytes: Data)] = []
        var dataLength = 0
        let stored = Self.storedBlobs(encoder.tensors, compression: options.compression)
        for (index, tensor) in encoder.tensors.enumerated() {
            do {
                try tensor.validate()
            } catch {
                throw FormatError(source: source, error.description)
            }
            table.varint(encoder.string(tensor.name))
            table.varint(tensor.elementType.rawValue)
            table.varint(tensor.shape.count)
            for d in tensor.shape { table.varint(UInt64(max(0, d))) }
            switch tensor.storage {
            case .strings(let values):
                table.varint(PareLayout.Encoding.strings.rawValue)
                table.varint(values.count)
                for v in values { table.varint(encoder.bytesString(v)) }
            case .bytes:
                guard let blob = stored[index] else {
                    throw FormatError(source: source, "tensor '\(tensor.name)' of type \(tensor.elementType) has no byte encoding")
                }
                table.varint(PareLayout.Encoding.raw.rawValue)
                table.varint(blob.compression.rawValue)
                let offset = Self.aligned(dataLength)
                table.varint(offset)
                table.varint(blob.bytes.count)
                table.uint32(blob.crc)
                blobs.append((offset, blob.bytes))
                dataLength = offset + blob.bytes.count
            }
        }
        let strings = encoder.stringSection()
        let sections: [(PareLayout.Section, [UInt8])] = [
            (.metadata, metadata), (.strings, strings), (.tensors, table.bytes), (.graph, graphSection),
        ]

        // Header and table first, then the sections back to back, then the aligned data section.
        let count = sections.count + 1
        var offset = PareLayout.headerSize + count * PareLayout.sectionEntrySize
        var entries = PareByteSink()
        for (kind, bytes) in sections {
            Self.entry(&entries, kind, offset: offset, length: bytes.count, crc: bytes.withUnsafeBytes { CRC32.checksum($0) })
            offset += bytes.count
        }
        let dataOffset = Self.aligned(offset)
        Self.entry(&entries, .data, offset: dataOffset, length: dataLength, crc: 0)
        size = dataOffset + dataLength

        var header = PareByteSink()
        header.append(contentsOf: PareLayout.magic)
        header.uint16(PareLayout.majorVersion)
        header.uint16(PareLayout.minorVersion)
        header.uint32(0)
        header.uint64(UInt64(size))
        header.uint32(UInt32(count))
        var crc = header.bytes.withUnsafeBytes { CRC32.checksum($0) }
        crc = entries.bytes.withUnsafeBytes { CRC32.checksum($0, continuing: crc) }
        header.uint32(crc)
        header.append(contentsOf: entries.bytes)
        for (_, bytes) in sections { header.append(contentsOf: bytes) }
        header.zeros(dataOffset - header.count)
        head = header.bytes
        self.blobs = blobs.map { ($0.offset + dataOffset, $0.bytes) }
    }

    static func aligned(_ offset: Int) -> Int {
        (offset + PareLayout.alignment - 1) / PareLayout.alignment * PareLayout.alignment
    }

    private static func entry(_ sink: inout PareByteSink, _ kind: PareLayout.Section, offset: Int, length: Int, crc: UInt32) {
        sink.uint32(kind.rawValue)
        sink.uint32(PareLayout.requiredFlag)
        sink.uint64(UInt64(offset))
        sink.uint64(UInt64(length))
        sink.uint32(crc)
        sink.uint32(0)
    }

    /// Each byte tensor's blob (compressed where that pays) and its CRC, computed in parallel.
    private static func storedBlobs(_ tensors: [Tensor], compression: PareWriteOptions.Compression)
        -> [(bytes: Data, compression: PareLayout.Compression, crc: UInt32)?] {
        let results = UnsafeMutableBufferPointer<(bytes: Data, compression: PareLayout.Compression, crc: UInt32)?>.allocate(capacity: tensors.count)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        let out = SendablePointer(results)
        DispatchQueue.concurrentPerform(iterations: tensors.count) { i in
            guard case .bytes(let data) = tensors[i].storage,
                  tensors[i].elementType.byteCount(forElements: tensors[i].elementCount) != nil else { return }
            var blob = data
            var kind = PareLayout.Compression.none
            if case .zstd(let level) = compression, data.count >= 64,
               let packed = data.withUnsafeBytes({ Zstd.compress($0, level: level) }),
               packed.count <= data.count - data.count / 32 {
                blob = Data(packed)
                kind = .zstd
            }
            out.value[i] = (blob, kind, blob.withUnsafeBytes { CRC32.checksum($0) })
        }
        return Array(results)
    }

    /// The whole file in memory.
    func encoded() -> Data {
        var data = Data(head)
        data.reserveCapacity(size)
        for blob in blobs {
            data.append(Data(count: blob.offset - data.count))
            data.append(blob.bytes)
        }
        return data
    }

    func write(to file: inout AtomicFile) throws(FormatError) {
        try file.write(Data(head))
        var position = head.count
        for blob in blobs {
            try file.writeZeros(blob.offset - position)
            try file.write(blob.bytes)
            position = blob.offset + blob.bytes.count
        }
    }
}

/// A pointer handed to `concurrentPerform` iterations that each write only their own element.
struct SendablePointer<Pointer>: @unchecked Sendable {
    let value: Pointer
    init(_ value: Pointer) { self.value = value }
}
