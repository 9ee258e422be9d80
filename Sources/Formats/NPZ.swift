import Foundation
import Graph

/// NumPy's `.npz` archives: a zip file of `.npy` arrays, one entry `<name>.npy` per array, as
/// `np.savez` writes them.
///
/// Reading takes every entry's sizes and offset from the central directory (numpy writes local
/// headers with zip64 placeholder sizes), supports zip64 archives, and checks each entry's CRC-32.
/// Stored entries are read as they are; deflated ones (`np.savez_compressed`) are inflated.
/// Writing stores entries uncompressed with CRC-32s, using zip64 records only where sizes or
/// offsets need them, and fixed timestamps so the same arrays always give the same bytes.
public enum NPZ {
    /// Reads every array of the archive at `url`, in archive order.
    public static func read(contentsOf url: URL) throws(FormatError) -> [Tensor] {
        let path = url.path
        return try decode(try NPY.readFile(path), source: path)
    }

    /// Decodes the bytes of an `.npz` archive; `source` names the data in error messages.
    public static func decode(_ data: Data, source: String) throws(FormatError) -> [Tensor] {
        let archive = ZipReader(data: data, source: source)
        var tensors: [Tensor] = []
        var seen: Set<String> = []
        for entry in try archive.entries() {
            if entry.name.hasSuffix("/") && entry.uncompressedSize == 0 { continue }  // a folder
            let location = "entry '\(entry.name)'"
            guard entry.name.hasSuffix(".npy") else {
                throw FormatError(source: source, "\(location) is not a .npy array")
            }
            let name = String(entry.name.dropLast(4))
            guard seen.insert(name).inserted else {
                throw FormatError(source: source, "\(location): the archive holds array '\(name)' twice")
            }
            let bytes = try archive.contents(of: entry)
            tensors.append(try NPY.decode(bytes, name: name, source: source, location: location))
        }
        return tensors
    }

    /// The bytes of an `.npz` archive holding `tensors`, each stored as `<name>.npy`.
    public static func encode(_ tensors: [Tensor]) throws(FormatError) -> Data {
        var out = Data()
        for part in try parts(tensors, source: "archive", forceZip64: false) { out.append(part) }
        return out
    }

    /// Writes `tensors` to `url` as an `.npz` archive, atomically.
    public static func write(_ tensors: [Tensor], to url: URL) throws(FormatError) {
        try write(tensors, to: url, forceZip64: false)
    }

    /// `forceZip64` writes zip64 records even for small archives, so tests can check that path.
    static func write(_ tensors: [Tensor], to url: URL, forceZip64: Bool) throws(FormatError) {
        let parts = try parts(tensors, source: url.path, forceZip64: forceZip64)
        var file = try AtomicFile(url)
        for part in parts { try file.write(part) }
        try file.commit()
    }

    /// The archive as a list of byte runs: headers, and the tensors' own element data (not copied).
    static func parts(_ tensors: [Tensor], source: String, forceZip64: Bool) throws(FormatError) -> [Data] {
        var seen: Set<String> = []
        var parts: [Data] = []
        var central = Data()
        var offset = 0
        for tensor in tensors {
            guard seen.insert(tensor.name).inserted else {
                throw FormatError(source: source, "two arrays are called '\(tensor.name)'")
            }
            let header = try NPY.header(for: tensor, source: source)
            let elements = try NPY.elementBytes(of: tensor, source: source)
            let crc = CRC32.checksum(elements, continuing: CRC32.checksum(header))
            let entry = ZipWriter.Entry(
                name: tensor.name + ".npy", size: header.count + elements.count, crc: crc, offset: offset,
                forceZip64: forceZip64)
            let local = entry.localHeader()
            parts += [local, header, elements]
            offset += local.count + header.count + elements.count
            central.append(entry.centralHeader())
        }
        parts.append(central)
        parts.append(ZipWriter.end(entries: tensors.count, centralOffset: offset, centralSize: central.count, forceZip64: forceZip64))
        return parts
    }
}

// MARK: - Reading zip archives

/// The central directory of a zip archive, read with every offset and length bounds-checked.
struct ZipReader {
    let data: Data
    let source: String

    struct Entry {
        var name: String
        var method: UInt16
        var flags: UInt16
        var crc: UInt32
        var compressedSize: Int
        var uncompressedSize: Int
        var localHeaderOffset: Int
    }

    private func failure(_ message: String) -> FormatError { FormatError(source: source, message) }

    /// Little-endian integer of `width` bytes at `offset`, or nil past the end.
    private func integer(_ offset: Int, _ width: Int) -> UInt64? {
        guard offset >= 0, width <= 8, offset <= data.count - width else { return nil }
        var value: UInt64 = 0
        let base = data.startIndex + offset
        for i in 0..<width { value |= UInt64(data[base + i]) << (8 * UInt64(i)) }
        return value
    }

    private func u16(_ offset: Int) -> Int? { integer(offset, 2).map { Int($0) } }
    private func u32(_ offset: Int) -> Int? { integer(offset, 4).map { Int($0) } }
    /// A 64-bit size or offset, nil when it does not fit in `Int` either.
    private func u64(_ offset: Int) -> Int? { integer(offset, 8).flatMap { $0 <= UInt64(Int.max) ? Int($0) : nil } }

    /// Every entry of the central directory, in order.
    func entries() throws(FormatError) -> [Entry] {
        guard data.count >= 4, let signature = u32(0) else {
            throw failure("not an .npz archive: \(data.count) bytes, too short for a zip file")
        }
        guard signature == 0x0403_4B50 || signature == 0x0605_4B50 else {
            throw failure(signature & 0xFFFF == 0x4B50 || data.count < 22
                ? "not an .npz archive: no zip local header at the start"
                : "not an .npz archive (bad magic; expected a zip file starting with PK)")
        }
        let end = try findEnd()
        var count = u16(end + 10)!
        var directorySize = u32(end + 12)!
        var directoryOffset = u32(end + 16)!
        if u16(end + 4)! != 0 || u16(end + 6)! != 0 {
            throw failure("multi-part zip archives are not supported")
        }
        guard u16(end + 8)! == count else {
            throw failure("the end-of-directory record disagrees with itself on the number of entries (corrupt)")
        }
        if count == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            // zip64: a locator just before the end record points to the zip64 end record.
            guard end >= 20, u32(end - 20) == 0x0706_4B50, let zip64End = u64(end - 12) else {
                throw failure("zip64 archive without a zip64 end-of-directory locator (truncated or corrupt)")
            }
            guard u32(zip64End) == 0x0606_4B50, let entries = u64(zip64End + 32),
                  let size = u64(zip64End + 40), let offset = u64(zip64End + 48) else {
                throw failure("the zip64 end-of-directory record at offset \(zip64End) is missing or truncated")
            }
            count = entries
            directorySize = size
            directoryOffset = offset
        }
        guard directoryOffset <= end, directorySize <= end - directoryOffset else {
            throw failure("the central directory (offset \(directoryOffset), \(directorySize) bytes) lies outside the archive (truncated or corrupt)")
        }
        guard count <= directorySize / 46 else {
            throw failure("the central directory claims \(count) entries in \(directorySize) bytes (corrupt)")
        }
        var entries: [Entry] = []
        var position = directoryOffset
        let limit = directoryOffset + directorySize
        for index in 0..<count {
            guard position <= limit - 46, u32(position) == 0x0201_4B50 else {
                throw failure("central directory entry \(index) at offset \(position) is corrupt (bad signature or truncated)")
            }
            let flags = u16(position + 8)!, method = u16(position + 10)!
            let crc = u32(position + 16)!
            var compressed = u32(position + 20)!, uncompressed = u32(position + 24)!
            let nameLength = u16(position + 28)!, extraLength = u16(position + 30)!, commentLength = u16(position + 32)!
            var localOffset = u32(position + 42)!
            let nameStart = position + 46
            guard nameLength + extraLength + commentLength <= limit - nameStart else {
                throw failure("central directory entry \(index) runs past the directory's end (corrupt)")
            }
            let base = data.startIndex
            let name = String(decoding: data[(base + nameStart)..<(base + nameStart + nameLength)], as: UTF8.self)
            let location = "entry '\(name)'"
            // zip64 extra field (id 1): the 64-bit values of exactly the fields that read 0xFFFFFFFF.
            var extra = nameStart + nameLength
            let extraEnd = extra + extraLength
            while extra + 4 <= extraEnd {
                let id = u16(extra)!, size = u16(extra + 2)!
                guard size <= extraEnd - extra - 4 else {
                    throw failure("\(location): an extra field runs past its entry (corrupt)")
                }
                if id == 1 {
                    var field = extra + 4
                    func next() throws(FormatError) -> Int {
                        guard field + 8 <= extra + 4 + size, let value = u64(field) else {
                            throw failure("\(location): the zip64 extra field is too short")
                        }
                        field += 8
                        return value
                    }
                    if uncompressed == 0xFFFF_FFFF { uncompressed = try next() }
                    if compressed == 0xFFFF_FFFF { compressed = try next() }
                    if localOffset == 0xFFFF_FFFF { localOffset = try next() }
                }
                extra += 4 + size
            }
            entries.append(Entry(name: name, method: UInt16(method), flags: UInt16(flags), crc: UInt32(crc),
                                 compressedSize: compressed, uncompressedSize: uncompressed, localHeaderOffset: localOffset))
            position = extraEnd + commentLength
        }
        guard position == limit else {
            throw failure("the central directory has \(limit - position) bytes after its \(count) entries (corrupt)")
        }
        return entries
    }

    /// The offset of the end-of-central-directory record: the last one whose comment reaches the
    /// end of the data (a comment may be up to 65535 bytes).
    private func findEnd() throws(FormatError) -> Int {
        guard data.count >= 22 else { throw failure("truncated: \(data.count) bytes, too short for a zip archive") }
        var offset = data.count - 22
        let lowest = max(0, data.count - 22 - 65535)
        while offset >= lowest {
            if u32(offset) == 0x0605_4B50, let comment = u16(offset + 20), offset + 22 + comment == data.count {
                return offset
            }
            offset -= 1
        }
        throw failure("no zip end-of-central-directory record (truncated or not a zip file)")
    }

    /// The uncompressed bytes of `entry`, checked against its CRC-32.
    func contents(of entry: Entry) throws(FormatError) -> Data {
        let location = "entry '\(entry.name)'"
        guard entry.flags & 1 == 0 else { throw failure("\(location) is encrypted") }
        let header = entry.localHeaderOffset
        guard u32(header) == 0x0403_4B50, let nameLength = u16(header + 26), let extraLength = u16(header + 28) else {
            throw failure("\(location): no local header at offset \(header) (truncated or corrupt)")
        }
        let nameStart = data.startIndex + header + 30
        guard nameStart + nameLength <= data.endIndex,
              String(decoding: data[nameStart..<(nameStart + nameLength)], as: UTF8.self) == entry.name else {
            throw failure("\(location): the local header at offset \(header) names another entry (corrupt)")
        }
        let start = header + 30 + nameLength + extraLength
        guard start <= data.count, entry.compressedSize <= data.count - start else {
            throw failure("\(location): truncated: its \(entry.compressedSize) bytes at offset \(start) run past the end of the archive (\(data.count) bytes)")
        }
        let base = data.startIndex
        let stored = data[(base + start)..<(base + start + entry.compressedSize)]
        let bytes: Data
        switch entry.method {
        case 0:
            guard entry.compressedSize == entry.uncompressedSize else {
                throw failure("\(location): stored entry with \(entry.compressedSize) bytes stored but \(entry.uncompressedSize) uncompressed (corrupt)")
            }
            bytes = stored
        case 8:
            do {
                bytes = try Inflate.decompress(stored, expectedSize: entry.uncompressedSize)
            } catch {
                throw failure("\(location): compressed data is corrupt: \(error.message)")
            }
        default:
            throw failure("\(location) uses zip compression method \(entry.method); only stored and deflated entries are supported")
        }
        let crc = CRC32.checksum(bytes)
        guard crc == entry.crc else {
            throw failure("\(location): CRC-32 mismatch (stored \(hex(entry.crc)), computed \(hex(crc))): the data is corrupt")
        }
        return bytes
    }

    private func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}

// MARK: - Writing zip archives

enum ZipWriter {
    /// One stored entry: its headers, zip64 where a size or offset needs it (or when forced).
    struct Entry {
        var name: String
        var size: Int
        var crc: UInt32
        var offset: Int
        var forceZip64: Bool

        private static let limit = 0xFFFF_FFFF
        private var bigSize: Bool { forceZip64 || size >= Self.limit }
        private var bigOffset: Bool { forceZip64 || offset >= Self.limit }
        private var nameBytes: [UInt8] { Array(name.utf8) }
        /// Bit 11 says the name is UTF-8.
        private var flags: UInt16 { name.utf8.allSatisfy { $0 < 0x80 } ? 0 : 0x0800 }

        func localHeader() -> Data {
            var out = Data()
            out.appendLE(UInt32(0x0403_4B50))
            out.appendLE(UInt16(bigSize ? 45 : 20))  // version needed: 4.5 for zip64, else 2.0
            out.appendLE(flags)
            out.appendLE(UInt16(0))  // stored
            out.appendLE(UInt16(0))  // time 00:00
            out.appendLE(UInt16(0x21))  // date 1980-01-01
            out.appendLE(crc)
            let size32 = UInt32(bigSize ? Self.limit : size)
            out.appendLE(size32)
            out.appendLE(size32)
            out.appendLE(UInt16(nameBytes.count))
            out.appendLE(UInt16(bigSize ? 20 : 0))
            out.append(contentsOf: nameBytes)
            if bigSize {
                out.appendLE(UInt16(1))
                out.appendLE(UInt16(16))
                out.appendLE(UInt64(size))
                out.appendLE(UInt64(size))
            }
            return out
        }

        func centralHeader() -> Data {
            var extra = Data()
            if bigSize {
                extra.appendLE(UInt64(size))
                extra.appendLE(UInt64(size))
            }
            if bigOffset { extra.appendLE(UInt64(offset)) }
            var out = Data()
            out.appendLE(UInt32(0x0201_4B50))
            out.appendLE(UInt16(0x0300 | 45))  // made by: Unix, 4.5
            out.appendLE(UInt16(bigSize || bigOffset ? 45 : 20))
            out.appendLE(flags)
            out.appendLE(UInt16(0))
            out.appendLE(UInt16(0))
            out.appendLE(UInt16(0x21))
            out.appendLE(crc)
            let size32 = UInt32(bigSize ? Self.limit : size)
            out.appendLE(size32)
            out.appendLE(size32)
            out.appendLE(UInt16(nameBytes.count))
            out.appendLE(UInt16(extra.isEmpty ? 0 : 4 + extra.count))
            out.appendLE(UInt16(0))  // comment
            out.appendLE(UInt16(0))  // disk
            out.appendLE(UInt16(0))  // internal attributes
            out.appendLE(UInt32(0o100644) << 16)  // external attributes: a regular file, rw-r--r--
            out.appendLE(UInt32(bigOffset ? Self.limit : offset))
            out.append(contentsOf: nameBytes)
            if !extra.isEmpty {
                out.appendLE(UInt16(1))
                out.appendLE(UInt16(extra.count))
                out.append(extra)
            }
            return out
        }
    }

    /// The end records: zip64 end record and locator when needed, then the classic end record.
    static func end(entries: Int, centralOffset: Int, centralSize: Int, forceZip64: Bool) -> Data {
        var out = Data()
        let zip64 = forceZip64 || entries >= 0xFFFF || centralOffset >= 0xFFFF_FFFF || centralSize >= 0xFFFF_FFFF
        if zip64 {
            let recordOffset = centralOffset + centralSize
            out.appendLE(UInt32(0x0606_4B50))
            out.appendLE(UInt64(44))  // size of the rest of this record
            out.appendLE(UInt16(0x0300 | 45))
            out.appendLE(UInt16(45))
            out.appendLE(UInt32(0))
            out.appendLE(UInt32(0))
            out.appendLE(UInt64(entries))
            out.appendLE(UInt64(entries))
            out.appendLE(UInt64(centralSize))
            out.appendLE(UInt64(centralOffset))
            out.appendLE(UInt32(0x0706_4B50))
            out.appendLE(UInt32(0))
            out.appendLE(UInt64(recordOffset))
            out.appendLE(UInt32(1))
        }
        out.appendLE(UInt32(0x0605_4B50))
        out.appendLE(UInt16(0))
        out.appendLE(UInt16(0))
        let count16 = UInt16(zip64 ? 0xFFFF : entries)
        out.appendLE(count16)
        out.appendLE(count16)
        out.appendLE(UInt32(zip64 ? 0xFFFF_FFFF : centralSize))
        out.appendLE(UInt32(zip64 ? 0xFFFF_FFFF : centralOffset))
        out.appendLE(UInt16(0))
        return out
    }
}

extension Data {
    mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}
