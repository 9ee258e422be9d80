import Foundation

/// Appends the primitives of the `.pare` encoding (docs/mobile-format.md, "Primitives") to a buffer.
struct PareByteSink {
    private(set) var bytes: [UInt8] = []

    /// Unsigned LEB128.
    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func varint(_ value: Int) {
        precondition(value >= 0, "varint of a negative value")
        varint(UInt64(value))
    }

    /// Zigzag, then LEB128: small magnitudes of either sign take one byte.
    mutating func signedVarint(_ value: Int64) {
        varint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    mutating func float32(_ value: Float) { uint32(value.bitPattern) }

    mutating func uint16(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
    }

    mutating func uint32(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    mutating func uint64(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    mutating func append<C: Collection>(contentsOf other: C) where C.Element == UInt8 { bytes.append(contentsOf: other) }

    mutating func zeros(_ count: Int) { bytes.append(contentsOf: repeatElement(0, count: count)) }

    var count: Int { bytes.count }
}

/// Reads the primitives of the `.pare` encoding from a region of memory, checking every read
/// against the region's end. Errors name `context` (the section being read).
struct PareByteSource {
    private let base: UnsafeRawPointer
    private let end: Int
    private(set) var position: Int
    let source: String
    var context: String
    /// The entry being read within `context`, spelled out only when an error names it: loading
    /// reads every node, and formatting a description for each would cost more than decoding it.
    var item: Item = .none

    enum Item {
        case none
        case tensor(index: Int)
        case namedTensor(String)
        case node(index: Int)
        case namedNode(index: Int, name: String, opType: String)

        var description: String {
            switch self {
            case .none: ""
            case .tensor(let index): ", tensor \(index)"
            case .namedTensor(let name): ", tensor '\(name)'"
            case .node(let index): ", node \(index)"
            case .namedNode(let index, let name, let opType): ", node \(index) (\(name.isEmpty ? opType : "\(name) (\(opType))"))"
            }
        }
    }

    init(_ buffer: UnsafeRawBufferPointer, source: String, context: String) {
        base = buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
        end = buffer.count
        position = 0
        self.source = source
        self.context = context
    }

    var remaining: Int { end - position }
    var isAtEnd: Bool { position == end }

    func error(_ message: String) -> FormatError {
        FormatError(source: source, "\(context)\(item.description): \(message)")
    }

    mutating func byte() throws(FormatError) -> UInt8 {
        guard position < end else { throw error("truncated: needs more bytes at offset \(position) of \(end)") }
        defer { position += 1 }
        return base.load(fromByteOffset: position, as: UInt8.self)
    }

    mutating func varint() throws(FormatError) -> UInt64 {
        let start = position
        var result: UInt64 = 0
        for shift in stride(from: 0, to: 64, by: 7) {
            let b = try byte()
            if shift == 63 && b > 1 { throw error("varint at offset \(start) overflows 64 bits") }
            result |= UInt64(b & 0x7F) << UInt64(shift)
            if b & 0x80 == 0 { return result }
        }
        throw error("varint at offset \(start) is longer than 10 bytes")
    }

    /// A varint that must fit `Int` and not exceed `limit`, named `what` in errors.
    mutating func count(_ what: String, limit: Int) throws(FormatError) -> Int {
        let value = try varint()
        guard value <= UInt64(limit) else { throw error("\(what) \(value) exceeds \(limit)") }
        return Int(value)
    }

    /// A count of items that each take at least `minimumBytes` more bytes: bounded by what is left,
    /// so a corrupt count cannot make the reader allocate more than the file could describe.
    mutating func itemCount(_ what: String, minimumBytes: Int = 1) throws(FormatError) -> Int {
        try count(what, limit: remaining / max(1, minimumBytes))
    }

    mutating func signedVarint() throws(FormatError) -> Int64 {
        let v = try varint()
        return Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1)
    }

    mutating func uint16() throws(FormatError) -> UInt16 {
        try need(2)
        defer { position += 2 }
        return UInt16(littleEndian: base.loadUnaligned(fromByteOffset: position, as: UInt16.self))
    }

    mutating func uint32() throws(FormatError) -> UInt32 {
        try need(4)
        defer { position += 4 }
        return UInt32(littleEndian: base.loadUnaligned(fromByteOffset: position, as: UInt32.self))
    }

    mutating func uint64() throws(FormatError) -> UInt64 {
        try need(8)
        defer { position += 8 }
        return UInt64(littleEndian: base.loadUnaligned(fromByteOffset: position, as: UInt64.self))
    }

    mutating func float32() throws(FormatError) -> Float { Float(bitPattern: try uint32()) }

    /// Steps over the next bytes when they repeat the bytes at `earlier` (positions in this same
    /// region); false, without moving, when they do not.
    mutating func skipRepeat(of earlier: Range<Int>) -> Bool {
        guard earlier.count <= remaining, earlier.lowerBound >= 0, earlier.upperBound <= end,
              memcmp(base + position, base + earlier.lowerBound, earlier.count) == 0 else { return false }
        position += earlier.count
        return true
    }

    /// Steps over `count` bytes.
    mutating func skip(_ count: Int) throws(FormatError) {
        try need(count)
        position += count
    }

    private func need(_ count: Int) throws(FormatError) {
        guard count <= remaining else { throw error("truncated: needs \(count) bytes at offset \(position), \(remaining) left") }
    }
}
