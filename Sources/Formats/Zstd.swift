import CZstd
import Foundation

/// One-shot zstd frames through the system libzstd, for compressed tensor blobs.
enum Zstd {
    /// `bytes` as one zstd frame at `level`, which records the content size (readers check it).
    static func compress(_ bytes: UnsafeRawBufferPointer, level: Int32) -> [UInt8]? {
        let bound = ZSTD_compressBound(bytes.count)
        var out = [UInt8](repeating: 0, count: bound)
        let written = out.withUnsafeMutableBytes { dst in
            ZSTD_compress(dst.baseAddress, bound, bytes.baseAddress, bytes.count, level)
        }
        guard ZSTD_isError(written) == 0 else { return nil }
        out.removeLast(bound - written)
        return out
    }

    /// Decompresses one frame that must hold exactly `expectedCount` bytes.
    static func decompress(_ frame: UnsafeRawBufferPointer, expectedCount: Int) throws(FormatError) -> Data {
        // Exactly one frame: ZSTD_decompress would go on through any frames after it.
        let frameSize = ZSTD_findFrameCompressedSize(frame.baseAddress, frame.count)
        guard ZSTD_isError(frameSize) == 0, frameSize == frame.count else {
            throw FormatError(source: "", "the blob is not exactly one zstd frame")
        }
        let declared = ZSTD_getFrameContentSize(frame.baseAddress, frame.count)
        // ZSTD_CONTENTSIZE_ERROR and _UNKNOWN are the two largest UInt64 values.
        guard declared < UInt64.max - 1 else {
            throw FormatError(source: "", "not a zstd frame with a recorded size")
        }
        guard declared == UInt64(expectedCount) else {
            throw FormatError(source: "", "zstd frame holds \(declared) bytes, expected \(expectedCount)")
        }
        var out = Data(count: expectedCount)
        let result = out.withUnsafeMutableBytes { dst in
            ZSTD_decompress(dst.baseAddress, expectedCount, frame.baseAddress, frame.count)
        }
        if ZSTD_isError(result) != 0 {
            throw FormatError(source: "", "zstd: \(String(cString: ZSTD_getErrorName(result)))")
        }
        guard result == expectedCount else {
            throw FormatError(source: "", "zstd frame decompressed to \(result) bytes, expected \(expectedCount)")
        }
        return out
    }
}
