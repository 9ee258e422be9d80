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

    /// The checksum of bytes A followed by bytes B, from A's checksum, B's checksum and B's length
    /// (A's checksum carried over B's length, then added: the initial and final inversions cancel).
    static func combine(_ first: UInt32, _ second: UInt32, secondCount: Int) -> UInt32 {
        multiply(first, powerOfX(8 * secondCount)) ^ second
    }

    /// The checksum of A followed by B when B's length is `combinedPieceCount`, with the power of x
    /// computed once.
    static func combine(_ first: UInt32, piece second: UInt32) -> UInt32 {
        multiply(first, pieceShift) ^ second
    }

    /// The length for which `combine(_:piece:)` has its multiplier ready: 128 KiB.
    static let combinedPieceCount = 1 << 17
    private static let pieceShift = powerOfX(8 * combinedPieceCount)

    /// a·b mod P for polynomials in reflected form (bit 31 holds the coefficient of x^0).
    static func multiply(_ a: UInt32, _ b: UInt32) -> UInt32 {
        var product: UInt32 = 0, a = a, b = b
        while a != 0 {
            if a & 0x8000_0000 != 0 { product ^= b }
            a <<= 1
            b = b & 1 != 0 ? (b >> 1) ^ 0xEDB8_8320 : b >> 1
        }
        return product
    }

    /// x^n mod P in reflected form, by squaring.
    static func powerOfX(_ n: Int) -> UInt32 {
        var result: UInt32 = 0x8000_0000, square: UInt32 = 0x4000_0000, n = n
        while n > 0 {
            if n & 1 != 0 { result = multiply(result, square) }
            square = multiply(square, square)
            n >>= 1
        }
        return result
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
