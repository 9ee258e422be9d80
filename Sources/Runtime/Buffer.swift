import Foundation

/// Raw memory holding one run-time tensor's elements: owned (freed with the buffer) or borrowed
/// from something that outlives it (the session's arena, a memory-mapped file).
public final class Buffer: @unchecked Sendable {
    public let pointer: UnsafeMutableRawPointer
    public let byteCount: Int
    private let owned: Bool
    /// Keeps a borrowed region's owner alive as long as this buffer.
    private let owner: AnyObject?
    /// Keeps alive the Data whose bytes a buffer borrows (held directly: no box per constant).
    private let ownerData: Data?

    /// Allocates `byteCount` zeroed bytes, 64-byte aligned.
    public init(zeroedByteCount byteCount: Int) {
        let size = max(byteCount, 1)
        pointer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
        pointer.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        self.byteCount = byteCount
        owned = true
        owner = nil
        ownerData = nil
    }

    /// Allocates `byteCount` bytes, 64-byte aligned, without clearing them.
    public init(uninitializedByteCount byteCount: Int) {
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: 64)
        self.byteCount = byteCount
        owned = true
        owner = nil
        ownerData = nil
    }

    /// Wraps memory owned by `owner`, which must stay valid while the buffer lives.
    public init(borrowing pointer: UnsafeMutableRawPointer, byteCount: Int, owner: AnyObject?) {
        self.pointer = pointer
        self.byteCount = byteCount
        owned = false
        self.owner = owner
        ownerData = nil
    }

    /// Wraps the bytes of `data` at `pointer`, keeping `data` alive while the buffer lives.
    init(borrowing pointer: UnsafeMutableRawPointer, byteCount: Int, keeping data: Data) {
        self.pointer = pointer
        self.byteCount = byteCount
        owned = false
        owner = nil
        ownerData = data
    }

    deinit {
        if owned { pointer.deallocate() }
    }
}
