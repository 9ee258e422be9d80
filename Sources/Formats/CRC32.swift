import Foundation

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) as zip archives use it.
///
/// Slicing-by-16: sixteen tables of 256 entries, one after another, so sixteen bytes go per step —
/// fast enough to check every array an `.npz` holds and every weight blob of a `.pare` file.
enum CRC32 {
    private static let table: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 16 * 256)
        for n in 0..<256 {
            var c = UInt32(n)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            table[n] = c
        }
        for n in 0..<256 {
            var c = table[n]
            for k in 1..<16 {
                c = table[Int(c & 0xFF)] ^ (c >> 8)
                table[k * 256 + n] = c
            }
        }
        return table
    }()

    /// The checksum of `bytes`, continuing from `crc` (the checksum of the bytes before them).
    static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard var p = bytes.baseAddress, bytes.count > 0 else { return crc }
        var c = ~crc
        var remaining = bytes.count
        table.withUnsafeBufferPointer { t in
            while remaining >= 16 {
                let a = p.loadUnaligned(as: UInt32.self).littleEndian ^ c
                let b = p.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian
                let d = p.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian
                let e = p.loadUnaligned(fromByteOffset: 12, as: UInt32.self).littleEndian
                c = t[15 * 256 + Int(a & 0xFF)] ^ t[14 * 256 + Int((a >> 8) & 0xFF)]
                    ^ t[13 * 256 + Int((a >> 16) & 0xFF)] ^ t[12 * 256 + Int(a >> 24)]
                    ^ t[11 * 256 + Int(b & 0xFF)] ^ t[10 * 256 + Int((b >> 8) & 0xFF)]
                    ^ t[9 * 256 + Int((b >> 16) & 0xFF)] ^ t[8 * 256 + Int(b >> 24)]
                    ^ t[7 * 256 + Int(d & 0xFF)] ^ t[6 * 256 + Int((d >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((d >> 16) & 0xFF)] ^ t[4 * 256 + Int(d >> 24)]
                    ^ t[3 * 256 + Int(e & 0xFF)] ^ t[2 * 256 + Int((e >> 8) & 0xFF)]
                    ^ t[1 * 256 + Int((e >> 16) & 0xFF)] ^ t[Int(e >> 24)]
                p += 16
                remaining -= 16
            }
            while remaining > 0 {
                c = t[Int((c ^ UInt32(p.load(as: UInt8.self))) & 0xFF)] ^ (c >> 8)
                p += 1
                remaining -= 1
            }
        }
        return ~c
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
