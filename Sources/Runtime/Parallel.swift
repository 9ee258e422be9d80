import Dispatch

/// Splits loops across threads. BLAS itself runs single-threaded (its spinning workers competed
/// with these loops for the cores); kernels split large products across threads themselves.
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
        // Chunks are disjoint and concurrentPerform returns only when all are done, so the body
        // (which typically writes through raw pointers) may run concurrently without being Sendable.
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                let start = w * chunkSize
                let end = min(count, start + chunkSize)
                if start < end { shared.value(start..<end) }
            }
        }
    }

    /// Calls `body(i)` for each `i` in `0..<count`, spread over up to `threads` threads.
    public static func forEach(_ count: Int, threads: Int, grain: Int = 1, _ body: (Int) -> Void) {
        chunks(count, threads: threads, grain: grain) { range in
            for i in range { body(i) }
        }
    }
}

/// Carries a value across a concurrency boundary the compiler cannot check.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
