import Foundation
import Testing
@testable import Formats

/// CRC-32 against published check values, Python's `zlib.crc32`, and a bit-at-a-time reference,
/// over every length and alignment around the folding path's block sizes.
struct CRC32Tests {
    /// The definition: one bit at a time, reflected polynomial 0xEDB88320.
    static func reference(_ bytes: some Sequence<UInt8>, continuing crc: UInt32 = 0) -> UInt32 {
        var register = ~crc
        for byte in bytes {
            register ^= UInt32(byte)
            for _ in 0..<8 { register = register & 1 == 1 ? (register >> 1) ^ 0xEDB8_8320 : register >> 1 }
        }
        return ~register
    }

    static let pattern = Data((0..<100_003).map { UInt8(($0 * 7 + 3) % 251) })

    @Test("CRC-32 check values")
    func checkValues() {
        #expect(CRC32.checksum(Data("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum(Data()) == 0)
        // zlib.crc32 in Python 3.11 of: 1 MiB of zeros; bytes(range(256)) * 4099; the pattern.
        #expect(CRC32.checksum(Data(count: 1 << 20)) == 0xA738_EA1C)
        #expect(CRC32.checksum(Data((0..<(256 * 4099)).map { UInt8(truncatingIfNeeded: $0) })) == 0x1FF6_05C6)
        #expect(CRC32.checksum(Self.pattern) == 0xE128_2231)
    }

    @Test("Every length up to 2,100 bytes, at four alignments, continuing from a non-zero CRC")
    func lengthsAndAlignments() {
        Self.pattern.withUnsafeBytes { bytes in
            var mismatches: [String] = []
            for length in 0...2100 {
                for offset in 0..<4 {
                    let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)])
                    let start = UInt32(truncatingIfNeeded: length &* 2_654_435_761)
                    if CRC32.checksum(slice, continuing: start) != Self.reference(slice, continuing: start) {
                        mismatches.append("\(length)@\(offset)")
                    }
                }
            }
            #expect(mismatches.isEmpty, "lengths@offsets: \(mismatches.prefix(20))")
        }
    }

    @Test("Split anywhere, the second part continuing the first gives the whole's CRC")
    func continuation() {
        let whole = CRC32.checksum(Self.pattern)
        for split in [0, 1, 15, 16, 255, 256, 257, 1000, 4096, 65_537, 99_999, 100_003] {
            let first = CRC32.checksum(Self.pattern.prefix(split))
            #expect(CRC32.checksum(Self.pattern.suffix(from: split), continuing: first) == whole, "split at \(split)")
        }
    }
}
