import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file written under a temporary name in its destination folder and renamed into place when
/// complete, so readers never see a partial file and a failed write leaves nothing behind.
struct AtomicFile: ~Copyable {
    let destination: URL
    let temporaryPath: String
    private var descriptor: Int32
    private var committed = false
    /// Bytes not yet written. Small writes are gathered into large ones: the kernel then caches
    /// the file in large folios, and a `.pare` file loaded from that cache maps its weights with a
    /// fraction of the page-fault work (a 7.8 MB file here: 0.16 ms in 64-byte writes, 0.03 ms in
    /// 4 MB ones).
    private var buffer: UnsafeMutableRawBufferPointer?
    private var buffered = 0
    static let bufferCapacity = 4 << 20

    /// Creates the temporary file next to `destination`.
    init(_ destination: URL) throws(FormatError) {
        self.destination = destination
        let folder = destination.deletingLastPathComponent().path
        let name = destination.lastPathComponent
        var path = ""
        var fd: Int32 = -1
        for _ in 0..<16 {
            let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 36)
            path = (folder.isEmpty ? "." : folder) + "/." + name + ".tmp-" + suffix
            fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else {
            throw FormatError(source: destination.path, "cannot create a temporary file in \(folder): \(AtomicFile.lastError())")
        }
        temporaryPath = path
        descriptor = fd
    }

    deinit {
        buffer?.deallocate()
        if !committed {
            if descriptor >= 0 { close(descriptor) }
            unlink(temporaryPath)
        }
    }

    /// Appends `data`.
    mutating func write(_ data: Data) throws(FormatError) {
        var failure: FormatError?
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            do throws(FormatError) { try write(raw) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Appends `bytes`: into the buffer when they fit, else after it, straight from their memory.
    private mutating func write(_ bytes: UnsafeRawBufferPointer) throws(FormatError) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        if buffered + bytes.count > Self.bufferCapacity { try flush() }
        if bytes.count >= Self.bufferCapacity { return try writeAll(source, bytes.count) }
        let buffer = self.buffer ?? UnsafeMutableRawBufferPointer.allocate(byteCount: Self.bufferCapacity, alignment: 64)
        self.buffer = buffer
        buffer.baseAddress!.advanced(by: buffered).copyMemory(from: source, byteCount: bytes.count)
        buffered += bytes.count
    }

    /// Appends `count` zero bytes.
    mutating func writeZeros(_ count: Int) throws(FormatError) {
        guard count > 0 else { return }
        try write(Data(count: count))
    }

    /// Writes out the buffered bytes.
    private mutating func flush() throws(FormatError) {
        guard let buffer, buffered > 0 else { return }
        try writeAll(buffer.baseAddress!, buffered)
        buffered = 0
    }

    private func writeAll(_ start: UnsafeRawPointer, _ count: Int) throws(FormatError) {
        var pointer = start, remaining = count
        while remaining > 0 {
            let written = posixWrite(descriptor, pointer, min(remaining, 1 << 30))
            if written < 0 {
                if errno == EINTR { continue }
                throw FormatError(source: destination.path, "write failed: \(AtomicFile.lastError())")
            }
            pointer += written
            remaining -= written
        }
    }

    /// Writes what is buffered, closes the temporary file and renames it to the destination.
    consuming func commit() throws(FormatError) {
        try flush()
        let fd = descriptor
        descriptor = -1
        if close(fd) != 0 {
            throw FormatError(source: destination.path, "write failed: \(AtomicFile.lastError())")
        }
        if rename(temporaryPath, destination.path) != 0 {
            throw FormatError(source: destination.path, "cannot move the written file into place: \(AtomicFile.lastError())")
        }
        committed = true
    }

    /// Writes `data` to `url` atomically.
    static func write(_ data: Data, to url: URL) throws(FormatError) {
        var file = try AtomicFile(url)
        try file.write(data)
        try file.commit()
    }

    static func lastError() -> String { String(cString: strerror(errno)) }
}

@inline(__always)
private func posixWrite(_ fd: Int32, _ pointer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, pointer, count)
}

/// Writes `data` to `url` through a temporary file renamed into place, so a reader never sees a
/// partial file and a failure leaves no file behind.
public func writeFileAtomically(_ data: Data, to url: URL) throws(FormatError) {
    try AtomicFile.write(data, to: url)
}
