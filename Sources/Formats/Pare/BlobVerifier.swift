import Dispatch
import Foundation
import Synchronization

/// Checks the CRC-32 of tensor blobs. From 1 MiB of blobs, in pieces of 128 KiB claimed by worker
/// threads started beforehand and by the thread that asks for the result: pieces let the threads
/// finish together however unequal the blobs are, and their CRCs are combined per blob at the
/// end. Below that, the asking thread checks the blobs whole.
///
/// `startHelpers()` hands the pieces to workers and returns at once, so a reader can go on
/// decoding the graph (or a caller building a session) while the weights are checked;
/// `firstMismatch()`, called from one thread, checks what is left and waits for the workers.
final class BlobVerifier: @unchecked Sendable {
    /// Bytes of blobs from which worker threads are started (below, the calling thread checks them
    /// all in `firstMismatch()`: waking a thread costs more than it saves).
    static let helperThresholdBytes = 1 << 20
    /// Worker threads for large files: one per other core, up to 7.
    private static let helperCount = min(max(ProcessInfo.processInfo.activeProcessorCount - 1, 0), 7)

    private struct Piece {
        let check: Int
        let range: Range<Int>
    }

    private let checks: [PareFile.DeferredCheck]
    private let pieces: [Piece]
    /// Written once per piece by whichever thread checks it, read after all have finished.
    private let pieceCRCs: UnsafeMutableBufferPointer<UInt32>
    /// The pieces not yet claimed, `front ..< back`, packed as back << 32 | front: workers claim
    /// from the front and the calling thread from the back, so that the two fault in pages far
    /// apart (neighbouring pages share a page-table lock that the kernel takes on each fault).
    private let unclaimed: Atomic<UInt64>
    private let finishedPieces = Atomic<Int>(0)
    private let helpers: Int
    /// Signalled when the last piece finishes, when workers share the pieces.
    private let allFinished: DispatchSemaphore?
    private var result: PareFile.DeferredCheck??

    init(_ checks: [PareFile.DeferredCheck]) {
        self.checks = checks
        let total = checks.reduce(0) { $0 + $1.bytes.count }
        helpers = total < Self.helperThresholdBytes ? 0 : Self.helperCount
        // The calling thread alone checks whole blobs.
        guard helpers > 0 else {
            pieces = []
            pieceCRCs = .allocate(capacity: 0)
            unclaimed = Atomic(0)
            allFinished = nil
            return
        }
        // A blob's first piece takes the remainder, so that every later piece is exactly
        // `CRC32.combinedPieceCount` long (one multiplication to combine).
        let size = CRC32.combinedPieceCount
        var pieces: [Piece] = []
        for (index, check) in checks.enumerated() {
            let count = check.bytes.count
            var start = 0, end = count % size == 0 ? min(size, count) : count % size
            repeat {
                pieces.append(Piece(check: index, range: start..<end))
                start = end
                end += size
            } while start < count
        }
        self.pieces = pieces
        unclaimed = Atomic(UInt64(pieces.count) << 32)
        pieceCRCs = .allocate(capacity: pieces.count)
        pieceCRCs.initialize(repeating: 0)
        allFinished = DispatchSemaphore(value: 0)
    }

    deinit { pieceCRCs.deallocate() }

    /// Starts the worker threads, if the blobs are large enough to be worth them.
    func startHelpers() {
        for _ in 0..<helpers {
            DispatchQueue.global(qos: .userInitiated).async { self.work(fromFront: true) }
        }
    }

    /// The first blob of `checks` whose CRC-32 differs from the recorded one, checked now (on
    /// worker threads too, from 1 MiB).
    static func firstMismatch(in checks: [PareFile.DeferredCheck]) -> PareFile.DeferredCheck? {
        let verifier = BlobVerifier(checks)
        verifier.startHelpers()
        return verifier.firstMismatch()
    }

    /// Checks the pieces no worker has taken, waits for the workers' pieces, and returns the first
    /// blob (in the order given) whose CRC-32 differs from the recorded one.
    func firstMismatch() -> PareFile.DeferredCheck? {
        if let result { return result }
        guard helpers > 0 else {
            let mismatch = checks.first { check in check.bytes.withUnsafeBytes { CRC32.checksum($0) } != check.crc }
            result = mismatch
            return mismatch
        }
        work(fromFront: false)
        if finishedPieces.load(ordering: .acquiring) < pieces.count { allFinished?.wait() }
        var first = 0
        var mismatch: PareFile.DeferredCheck?
        while first < pieces.count {
            let check = pieces[first].check
            var crc = pieceCRCs[first]
            var next = first + 1
            while next < pieces.count && pieces[next].check == check {
                crc = CRC32.combine(crc, piece: pieceCRCs[next])
                next += 1
            }
            if crc != checks[check].crc {
                mismatch = checks[check]
                break
            }
            first = next
        }
        result = mismatch
        return mismatch
    }

    /// The index of a piece no thread has claimed, from the front or the back of those left.
    private func claim(fromFront: Bool) -> Int? {
        var packed = unclaimed.load(ordering: .relaxed)
        while true {
            let front = packed & 0xFFFF_FFFF, back = packed >> 32
            guard front < back else { return nil }
            let claimed = fromFront ? back << 32 | (front + 1) : (back - 1) << 32 | front
            let (exchanged, current) = unclaimed.compareExchange(expected: packed, desired: claimed, ordering: .relaxed)
            if exchanged { return Int(fromFront ? front : back - 1) }
            packed = current
        }
    }

    /// Claims and checks pieces until none are left.
    private func work(fromFront: Bool) {
        while let index = claim(fromFront: fromFront) {
            let piece = pieces[index]
            pieceCRCs[index] = checks[piece.check].bytes.withUnsafeBytes { bytes in
                CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[piece.range]))
            }
            if finishedPieces.add(1, ordering: .acquiringAndReleasing).newValue == pieces.count { allFinished?.signal() }
        }
    }
}
