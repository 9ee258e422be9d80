import CChecksum
import Foundation

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) as zip archives, `.npz` files and `.pare`
/// files use it. Checking a model's weights at load is bound by it, so it folds with carry-less
/// multiplication: 512 bits at a time where the CPU has AVX-512 and VPCLMULQDQ (one core here:
/// 90–110 GB/s in L1/L2, 35 from L3, 16 from memory), otherwise through the system libdeflate's
/// 128-bit folding (31, 29 and 13 GB/s; zlib's braided loop 3.1).
enum CRC32 {
    /// The checksum of `bytes`, continuing from `crc` (the checksum of the bytes before them).
    static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return crc }
        return pare_crc32(crc, base, bytes.count)
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
