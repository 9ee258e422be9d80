/// Places intermediate tensors in one arena so that tensors whose lifetimes do not overlap share
/// memory: greedy by size, each tensor at the lowest 64-byte-aligned offset free during its
/// lifetime (the approach of TFLite's arena planner).
enum MemoryPlanner {
    struct Request {
        var id: Int
        var byteCount: Int
        /// First and last step (inclusive) during which the tensor must stay intact.
        var firstStep: Int
        var lastStep: Int
    }

    /// Offsets per request id, and the arena size they need.
    static func plan(_ requests: [Request]) -> (slots: [Int: ArenaSlot], arenaBytes: Int) {
        let sorted = requests.sorted { ($0.byteCount, $1.id) > ($1.byteCount, $0.id) }
        var placed: [(slot: ArenaSlot, first: Int, last: Int)] = []
        var slots: [Int: ArenaSlot] = [:]
        var arenaBytes = 0
        for request in sorted where request.byteCount > 0 {
            let conflicts = placed
                .filter { $0.first <= request.lastStep && request.firstStep <= $0.last }
                .map(\.slot)
                .sorted { $0.offset < $1.offset }
            var offset = 0
            for other in conflicts {
                if offset + request.byteCount <= other.offset { break }
                offset = max(offset, align(other.offset + other.byteCount))
            }
            let slot = ArenaSlot(offset: offset, byteCount: request.byteCount)
            placed.append((slot, request.firstStep, request.lastStep))
            slots[request.id] = slot
            arenaBytes = max(arenaBytes, offset + request.byteCount)
        }
        return (slots, align(arenaBytes))
    }

    static func align(_ value: Int) -> Int { (value + 63) & ~63 }
}
