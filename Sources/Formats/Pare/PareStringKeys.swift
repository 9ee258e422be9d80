import Foundation

/// Which entries of a string table hold the same bytes. A writer stores each distinct string
/// once, but a reader cannot rely on it: value names are numbered by entry, so an entry that
/// repeats another must count as that other one.
enum PareStringKeys {
    /// For each of `ranges` (byte ranges of `bytes`), the index of the first range with the same
    /// bytes: its own index unless it repeats an earlier one.
    static func canonicalIndices(_ ranges: [Range<Int>], in bytes: UnsafeRawBufferPointer) -> [Int] {
        // Open addressing over a power-of-two table of entry indices, hashed over the raw bytes:
        // no String is hashed (Swift's seeded hashing of every name was a tenth of a small load).
        var capacity = 16
        while capacity < ranges.count * 2 { capacity *= 2 }
        let mask = capacity - 1
        var slots = [Int](repeating: -1, count: capacity)
        var canonical = [Int](repeating: 0, count: ranges.count)
        for (index, range) in ranges.enumerated() {
            let text = UnsafeRawBufferPointer(rebasing: bytes[range])
            var slot = Int(truncatingIfNeeded: hash(text)) & mask
            while true {
                let other = slots[slot]
                if other < 0 {
                    slots[slot] = index
                    canonical[index] = index
                    break
                }
                if ranges[other].count == range.count && (range.isEmpty || memcmp(text.baseAddress!, bytes.baseAddress! + ranges[other].lowerBound, range.count) == 0) {
                    canonical[index] = other
                    break
                }
                slot = (slot + 1) & mask
            }
        }
        return canonical
    }

    /// A hash of `bytes` read eight at a time: each word multiplied in, then the bits mixed by
    /// MurmurHash3's 64-bit finalizer (its published constants). Names are short; a byte-at-a-time
    /// hash spent more time than the probing.
    private static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h = UInt64(bytes.count) &* 0x9e37_79b9_7f4a_7c15
        var offset = 0
        while offset + 8 <= bytes.count {
            h = (h ^ bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* 0x9e37_79b9_7f4a_7c15
            offset += 8
        }
        if offset < bytes.count {
            var tail: UInt64 = 0
            for k in offset..<bytes.count { tail |= UInt64(bytes[k]) << (8 * UInt64(k - offset)) }
            h = (h ^ tail) &* 0x9e37_79b9_7f4a_7c15
        }
        h ^= h >> 33
        h &*= 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        h &*= 0xc4ce_b9fe_1a85_ec53
        return h ^ (h >> 33)
    }
}
