import CBLAS
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Splits loops across threads (the persistent workers of `WorkerPool`). BLAS itself runs
/// single-threaded (its spinning workers competed with these loops for the cores); kernels
/// split large products across threads themselves.
public enum Parallel {
    /// The cores this process may run on (its CPU affinity on Linux), counted once. Cheaper than
    /// `ProcessInfo.activeProcessorCount`, whose first use costs more than loading a small model.
    public static let availableCores: Int = {
        #if os(Linux)
        // A cpu_set_t: 1024 bits.
        var mask = [UInt64](repeating: 0, count: 16)
        if mask.withUnsafeMutableBytes({ sched_getaffinity(0, $0.count, $0.baseAddress) }) == 0 {
            let count = mask.reduce(0) { $0 + $1.nonzeroBitCount }
            if count > 0 { return count }
        }
        #endif
        return max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }()

    /// Calls `body(range)` on disjoint chunks covering `0..<count`, on up to `threads` threads.
    /// Chunks hold at least `grain` iterations, so tiny loops stay on the calling thread.
    public static func chunks(_ count: Int, threads: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let workers = min(threads, max(1, count / max(grain, 1)))
        if workers <= 1 {
            body(0..<count)
            return
        }
        let chunkSize = (count + workers - 1) / workers
        WorkerPool.shared.run(workers, threads: workers) { w in
            let start = w * chunkSize
            let end = min(count, start + chunkSize)
            if start < end { body(start..<end) }
        }
    }

    /// Calls `body(i)` for each `i` in `0..<count`, spread over up to `threads` threads.
    public static func forEach(_ count: Int, threads: Int, grain: Int = 1, _ body: (Int) -> Void) {
        chunks(count, threads: threads, grain: grain) { range in
            for i in range { body(i) }
        }
    }
}
