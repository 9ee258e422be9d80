
/// Splits loops across threads (the persistent workers of `WorkerPool`). BLAS itself runs
/// single-threaded (its spinning workers competed with these loops for the cores); kernels
/// split large products across threads themselves.
public enum Parallel {
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
