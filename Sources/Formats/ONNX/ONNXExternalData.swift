import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Loads tensor data stored outside the model file (`data_location: EXTERNAL`).
///
/// Locations must stay inside the model's folder: relative, no `..`, and still inside after
/// symlinks are resolved. Each file is memory-mapped once and tensors are slices of it.
final class ExternalDataLoader {
    let source: String
    let baseDirectory: URL?
    private var resolvedBase: String?
    private var files: [String: MappedFile] = [:]

    init(source: String, baseDirectory: URL?) {
        self.source = source
        self.baseDirectory = baseDirectory
    }

    private func fail(_ message: String) -> FormatError { FormatError(source: source, message) }

    /// The bytes the `external_data` entries of the tensor labelled `label` point at.
    func load(_ entries: [Onnx_StringStringEntryProto], label: String) throws(FormatError) -> Data {
        var location: String?
        var offsetText: String?
        var lengthText: String?
        for entry in entries {
            switch entry.key {
            case "location": location = entry.value
            case "offset": offsetText = entry.value
            case "length": lengthText = entry.value
            default: break  // checksum, basepath: not needed to read
            }
        }
        guard let location, !location.isEmpty else {
            throw fail("\(label): data_location is EXTERNAL but external_data has no location")
        }
        guard !location.contains("\0") else {
            throw fail("\(label): external data location '\(location.debugDescription)' is not a valid path")
        }
        if location.hasPrefix("/") {
            throw fail("\(label): external data location '\(location)' escapes the model's folder (absolute paths are not allowed)")
        }
        if location.split(separator: "/").contains("..") {
            throw fail("\(label): external data location '\(location)' escapes the model's folder")
        }
        guard let baseDirectory else {
            throw fail("\(label): external data '\(location)' cannot be loaded: the model was decoded from memory without a base directory")
        }
        let base = try resolvedBaseDirectory(baseDirectory, label: label)
        let candidate = baseDirectory.appendingPathComponent(location).path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory) else {
            throw fail("\(label): external data file '\(location)' not found (looked for \(candidate))")
        }
        guard !isDirectory.boolValue else {
            throw fail("\(label): external data location '\(location)' is a folder, not a file")
        }
        guard let resolved = realPath(candidate) else {
            throw fail("\(label): external data file '\(location)' cannot be resolved: \(String(cString: strerror(errno)))")
        }
        guard resolved.hasPrefix(base == "/" ? "/" : base + "/") else {
            throw fail("\(label): external data location '\(location)' escapes the model's folder (it resolves to \(resolved))")
        }
        let file = try mappedFile(resolved, location: location, label: label)

        let size = file.data.count
        var offset = 0
        if let offsetText {
            guard let value = Int(offsetText), value >= 0 else {
                throw fail("\(label): external data offset '\(offsetText)' is not a non-negative integer")
            }
            offset = value
        }
        guard offset <= size else {
            throw fail("\(label): external data offset \(offset) is past the end of '\(location)' (\(size) bytes)")
        }
        var length = size - offset
        if let lengthText {
            guard let value = Int(lengthText), value >= 0 else {
                throw fail("\(label): external data length '\(lengthText)' is not a non-negative integer")
            }
            guard value <= size - offset else {
                throw fail("\(label): external data range \(offset)..<\(offset.addingReportingOverflow(value).partialValue) lies outside '\(location)' (\(size) bytes)")
            }
            length = value
        }
        return file.slice(offset: offset, length: length)
    }

    private func resolvedBaseDirectory(_ url: URL, label: String) throws(FormatError) -> String {
        if let resolvedBase { return resolvedBase }
        guard let path = realPath(url.path) else {
            throw fail("\(label): the model's folder \(url.path) cannot be resolved: \(String(cString: strerror(errno)))")
        }
        resolvedBase = path
        return path
    }

    private func mappedFile(_ path: String, location: String, label: String) throws(FormatError) -> MappedFile {
        if let file = files[path] { return file }
        let data: Data
        do {
            data = try ONNXStreaming.mapFile(path)
        } catch {
            throw fail("\(label): cannot read external data file '\(location)': \(error.message)")
        }
        let file = MappedFile(data)
        files[path] = file
        return file
    }

    private func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

/// A file's bytes, memory-mapped, handed out as slices that share the mapping and start at index 0.
final class MappedFile: @unchecked Sendable {  // immutable after init
    let data: Data
    private let base: UnsafeRawPointer?

    init(_ data: Data) {
        self.data = data
        // Data above the inline size lives in a heap buffer (here: the mapping), so its address is
        // stable for as long as `data` is alive and unmodified, which this class guarantees.
        self.base = data.count >= 64 ? data.withUnsafeBytes { $0.baseAddress } : nil
    }

    /// `length` bytes at `offset` (already bounds-checked) without copying them.
    func slice(offset: Int, length: Int) -> Data {
        guard length > 0 else { return Data() }
        guard let base else { return Data(data[data.startIndex + offset ..< data.startIndex + offset + length]) }
        let start = UnsafeMutableRawPointer(mutating: base + offset)
        return Data(bytesNoCopy: start, count: length, deallocator: .custom { _, _ in withExtendedLifetime(self) {} })
    }
}

/// Tensor bytes placed into the external data file while a model is written: 64-byte aligned,
/// in the order tensors are met.
struct ExternalDataPlan {
    /// File name of the data file, relative to the model's folder.
    let location: String
    private(set) var chunks: [(offset: Int, data: Data)] = []
    private(set) var size = 0

    init(location: String) { self.location = location }

    /// Reserves room for `data` and returns its offset.
    mutating func place(_ data: Data) -> Int {
        let offset = (size + 63) / 64 * 64
        chunks.append((offset, data))
        size = offset + data.count
        return offset
    }

    /// Writes the chunks, zero-padded to their offsets, to `file`.
    func write(to file: inout AtomicFile) throws(FormatError) {
        var position = 0
        for chunk in chunks {
            try file.writeZeros(chunk.offset - position)
            try file.write(chunk.data)
            position = chunk.offset + chunk.data.count
        }
    }
}
