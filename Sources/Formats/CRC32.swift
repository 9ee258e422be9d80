import CDeflate
import Foundation

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) as zip archives, `.npz` files and `.pare`
/// files use it, computed by the system libdeflate: it folds with carry-less multiplication where
/// the CPU has it (one core here: 18–30 GB/s over data in cache, 8–12 GB/s from memory; zlib's
/// braided loop 3.1), and checking a large model's weights at load is bound by it.
enum CRC32 {
    /// The checksum of `bytes`, continuing from `crc` (the checksum of the bytes before them).
    static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return crc }
        return libdeflate_crc32(crc, base, bytes.count)
    }

    /// The checksum of the bytes of `data`, continuing from `crc`.
    static func checksum<D: DataProtocol>(_ data: D, continuing crc: UInt32 = 0) -> UInt32 {
        var crc = crc
        for region in data.regions {
            crc = region.withUnsafeBytes { checksum($0, continuing: crc) }
        }
        return crc
    }
}
