import Foundation
import Runtime
import Testing

/// `Parallel` runs loops on persistent worker threads; every index must run exactly once, and
/// nested or concurrent loops must neither deadlock nor lose work.
@Suite struct ParallelTests {
    /// Counts how often each index ran.
    final class Tally: @unchecked Sendable {
        let counts: UnsafeMutablePointer<Int>
        let size: Int
        init(_ size: Int) {
            self.size = size
            counts = .allocate(capacity: size)
            counts.initialize(repeating: 0, count: size)
        }
        deinit { counts.deallocate() }
        var all: [Int] { Array(UnsafeBufferPointer(start: counts, count: size)) }
    }

    @Test("every index runs once, for many sizes and thread counts")
    func everyIndexOnce() {
        for threads in [1, 2, 3, 8] {
            for count in [0, 1, 2, 3, 7, 64, 1000, 100_003] {
                let tally = Tally(count)
                Parallel.chunks(count, threads: threads, grain: 3) { range in
                    for i in range { tally.counts[i] += 1 }
                }
                #expect(tally.all.allSatisfy { $0 == 1 }, "count \(count), threads \(threads)")
            }
        }
    }

    @Test("thousands of back-to-back small loops complete (workers spin, sleep and wake)")
    func manySmallLoops() async throws {
        let tally = Tally(64)
        for round in 0..<5000 {
            Parallel.forEach(64, threads: 2) { i in tally.counts[i] += 1 }
            // Now and then give the workers time to fall asleep.
            if round % 1000 == 999 { try await Task.sleep(nanoseconds: 2_000_000) }
        }
        #expect(tally.all.allSatisfy { $0 == 5000 })
    }

    @Test("a loop inside a loop runs on the calling thread instead of waiting for itself")
    func nestedLoops() {
        let tally = Tally(40 * 50)
        Parallel.forEach(40, threads: 2) { i in
            Parallel.forEach(50, threads: 2) { j in tally.counts[i * 50 + j] += 1 }
        }
        #expect(tally.all.allSatisfy { $0 == 1 })
    }

    @Test("loops started from several threads at once all complete")
    func concurrentCallers() {
        let tallies = (0..<4).map { _ in Tally(10_000) }
        DispatchQueue.concurrentPerform(iterations: 4) { caller in
            for _ in 0..<50 {
                Parallel.chunks(10_000, threads: 2, grain: 100) { range in
                    for i in range { tallies[caller].counts[i] += 1 }
                }
            }
        }
        for tally in tallies { #expect(tally.all.allSatisfy { $0 == 50 }) }
    }
}
