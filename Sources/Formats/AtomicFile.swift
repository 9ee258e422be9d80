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
        if !committed {
            if descriptor >= 0 { close(descriptor) }
            unlink(temporaryPath)
        }
    }

    /// Appends `data`.
    mutating func write(_ data: Data) throws(FormatError) {
        var failure: Int32 = 0
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            guard var pointer = raw.baseAddress else { return }
            var remaining = raw.count
            while remaining > 0 {
                let written = posixWrite(descriptor, pointer, min(remaining, 1 << 30))
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                pointer += written
                remaining -= written
            }
        }
        if failure != 0 {
            throw FormatError(source: destination.path, "write failed: \(String(cString: strerror(failure)))")
        }
    }

    /// Appends `count` zero bytes.
    mutating func writeZeros(_ count: Int) throws(FormatError) {
        guard count > 0 else { return }
        try write(Data(count: count))
    }

    /// Closes the temporary file and renames it to the destination.
    consuming func commit() throws(FormatError) {
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
