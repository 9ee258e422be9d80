import Foundation
import Graph

/// Reads and writes Pare's mobile format (`.pare`): one file, a checksummed header and section
/// table, a compact varint graph, and tensor blobs 64-byte aligned so that a mapped file's weights
/// are used in place. docs/mobile-format.md is the specification.
public enum PareFormat {
    /// True when `data` starts with the `.pare` magic bytes.
    public static func hasMagic(_ data: Data) -> Bool {
        // In place: `prefix` would make a Data slice (a tenth of a small model's decode).
        data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in PareLayout.startsWithMagic(bytes) }
    }

    /// True when the file at `url` starts with the `.pare` magic bytes (whatever its extension).
    public static func isPareFile(_ url: URL) -> Bool { isPareFile(atPath: url.path) }

    /// True when the file at `path` starts with the `.pare` magic bytes (whatever its extension).
    public static func isPareFile(atPath path: String) -> Bool {
        // POSIX reads rather than FileHandle, whose first use costs more than loading a small model.
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        // Eight bytes into an integer: no Data (whose code and types a process's first use pays for).
        var head: UInt64 = 0
        let count = withUnsafeMutableBytes(of: &head) { pread(fd, $0.baseAddress, $0.count, 0) }
        return count == PareLayout.magic.count && withUnsafeBytes(of: head) { PareLayout.startsWithMagic($0) }
    }

    /// Maps the file at `url` and decodes it. Uncompressed tensors are views of the mapping (no
    /// copy); the mapping lives as long as any of them.
    public static func read(contentsOf url: URL, options: PareReadOptions = .init()) throws(FormatError) -> PareFile {
        try read(atPath: url.path, options: options)
    }

    /// Maps the file at `path` and decodes it, as `read(contentsOf:options:)` does. (A path rather
    /// than a URL: a process's first URL costs more than loading a small model.)
    public static func read(atPath path: String, options: PareReadOptions = .init()) throws(FormatError) -> PareFile {
        let data = try ONNXStreaming.mapModelFile(path)
        guard !data.isEmpty else { throw FormatError(source: path, "is empty (0 bytes)") }
        return try decode(mapped: data, path: path, options: options)
    }

    /// The `.pare` file at `path` decoded, or nil when the file does not start with the `.pare`
    /// magic bytes (another format). One open and one mapping, where `isPareFile` followed by
    /// `read` opens the file twice.
    public static func readIfPare(atPath path: String, options: PareReadOptions = .init()) throws(FormatError) -> PareFile? {
        let data = try ONNXStreaming.mapModelFile(path)
        return hasMagic(data) ? try decode(mapped: data, path: path, options: options) : nil
    }

    /// Reads the file at `path` as `readIfPare(atPath:options:)` does, but calls `prepare` with it
    /// (to build a session, say) while the CRCs of its uncompressed blobs are still being checked
    /// on worker threads, and returns the file and what `prepare` made once every check has passed.
    /// `prepare` may read weights that are not checked yet; if a check fails, what it made is
    /// dropped and the checksum error thrown, even when `prepare` threw. With
    /// `verifiesTensorData: false` nothing is being checked and this is `readIfPare` then `prepare`.
    public static func readIfPare<Prepared>(atPath path: String, options: PareReadOptions = .init(),
                                            preparing prepare: (PareFile) throws -> Prepared) throws -> (file: PareFile, prepared: Prepared)? {
        let data = try ONNXStreaming.mapModelFile(path)
        guard hasMagic(data) else { return nil }
        var file = try decodeLeavingChecks(mapped: data, path: path, options: options)
        let prepared: Prepared
        do {
            prepared = try prepare(file)
        } catch {
            try file.completeChecks()
            throw error
        }
        try file.completeChecks()
        return (file, prepared)
    }

    private static func decode(mapped data: Data, path: String, options: PareReadOptions) throws(FormatError) -> PareFile {
        var file = try decodeLeavingChecks(mapped: data, path: path, options: options)
        try file.completeChecks()
        return file
    }

    /// The file decoded, with the checks of its uncompressed blobs possibly still running.
    private static func decodeLeavingChecks(mapped data: Data, path: String, options: PareReadOptions) throws(FormatError) -> PareFile {
        let result = data.withUnsafeBytes { bytes in
            // Tensors are slices of the mapping's Data: each shares (and keeps alive) the mapping
            // without an allocation of its own. Their indices start at their file offset.
            var decoder = PareDecoder(source: path, bytes: bytes, options: options) { range in
                range.isEmpty ? Data() : data[(data.startIndex + range.lowerBound)..<(data.startIndex + range.upperBound)]
            }
            return Result { () throws(FormatError) in try decoder.decode() }
        }
        return try result.get()
    }

    /// Decodes a `.pare` file held in memory (tensors are copied out of `data`).
    public static func decode(_ data: Data, source: String, options: PareReadOptions = .init()) throws(FormatError) -> PareFile {
        let copy = [UInt8](data)
        let result = copy.withUnsafeBytes { bytes in
            var decoder = PareDecoder(source: source, bytes: bytes, options: options) { range in
                Data(UnsafeRawBufferPointer(rebasing: bytes[range]))
            }
            return Result { () throws(FormatError) in try decoder.decode() }
        }
        var file = try result.get()
        try file.completeChecks()
        return file
    }

    /// The file `model` encodes to. The same model and options always give the same bytes.
    /// - Throws: when the model holds model-local functions (inline them first) or a tensor whose
    ///   data does not match its type and shape.
    public static func encode(_ model: Model, options: PareWriteOptions = .init()) throws(FormatError) -> Data {
        try PareFileLayout(model, options: options, source: "model '\(model.graph.name)'").encoded()
    }

    /// Writes `model` to `url` atomically: a temporary file renamed into place once complete.
    public static func write(_ model: Model, to url: URL, options: PareWriteOptions = .init()) throws(FormatError) {
        let layout = try PareFileLayout(model, options: options, source: url.path)
        var file = try AtomicFile(url)
        try layout.write(to: &file)
        try file.commit()
    }
}
