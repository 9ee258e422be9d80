import Foundation
import Synchronization

/// Persistent worker threads for `Parallel`. A job's tasks are claimed one at a time from a
/// shared counter by the calling thread and by idle workers. Workers spin for a short while
/// after a job before sleeping: the next kernel's loop usually comes within microseconds, and a
/// sleeping thread takes tens of microseconds to wake — longer than many kernels take
/// (Dispatch's `concurrentPerform` did not bring in a second thread for loops under ~0.5 ms).
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// One parallel loop: tasks `0..<count`, run by the caller and up to `helpers` workers.
    private final class Job: @unchecked Sendable {
        typealias Body = (Int) -> Void
        /// The caller's closure, on the caller's stack: workers may keep the job object after
        /// it returns, so the job must not retain the closure (see `run`).
        let body: UnsafePointer<Body>
        let count: Int
        let next = Atomic<Int>(0)
        let finished = Atomic<Int>(0)
        /// Workers that joined; beyond `helpers` they leave without claiming tasks.
        let joined = Atomic<Int>(0)
        let helpers: Int

        init(body: UnsafePointer<Body>, count: Int, helpers: Int) {
            self.body = body
            self.count = count
            self.helpers = helpers
        }

        /// Claims and runs tasks until none are left.
        func work() {
            while true {
                let i = next.add(1, ordering: .relaxed).oldValue
                if i >= count { return }
                body.pointee(i)
                finished.add(1, ordering: .releasing)
            }
        }
    }

    /// How long an idle worker spins before sleeping.
    private static let spinNanoseconds: UInt64 = 200_000

    /// Serializes jobs; a caller that cannot take it (a nested or concurrent loop) runs alone.
    private let submission = NSLock()
    /// Guards `current`, `workerCount` and the sleepers' wait.
    private let state = NSCondition()
    private var current: Job?
    private var workerCount = 0
    /// Bumped for each job; workers watch it.
    private let generation = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)

    /// Runs `body(i)` for every `i` in `0..<count` on the calling thread and up to `threads - 1`
    /// workers; returns when all have run.
    func run(_ count: Int, threads: Int, _ body: (Int) -> Void) {
        guard count > 1, threads > 1, submission.try() else {
            for i in 0..<count { body(i) }
            return
        }
        defer { submission.unlock() }
        let helpers = min(threads, count) - 1
        ensureWorkers(helpers)
        // Tasks are claimed only before `finished` reaches `count`, and this call waits for
        // that, so no worker calls the closure after it returns: it may be non-escaping.
        withoutActuallyEscaping(body) { body in
            withUnsafePointer(to: body) { body in
                runJob(Job(body: body, count: count, helpers: helpers))
            }
        }
    }

    /// Publishes `job`, works on it, and waits until every task has run.
    private func runJob(_ job: Job) {
        state.lock()
        current = job
        state.unlock()
        generation.add(1, ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            state.lock()
            state.broadcast()
            state.unlock()
        }
        job.work()
        while job.finished.load(ordering: .acquiring) < job.count {}
        state.lock()
        current = nil
        state.unlock()
    }

    private func ensureWorkers(_ needed: Int) {
        state.lock()
        defer { state.unlock() }
        while workerCount < needed {
            workerCount += 1
            let thread = Thread { [self] in workerLoop() }
            thread.name = "pare-worker-\(workerCount)"
            thread.stackSize = 1 << 22
            thread.start()
        }
    }

    private func workerLoop() {
        var seen = generation.load(ordering: .sequentiallyConsistent)
        while true {
            seen = waitForJob(after: seen)
            state.lock()
            let job = current
            state.unlock()
            guard let job else { continue }
            if job.joined.add(1, ordering: .relaxed).oldValue < job.helpers { job.work() }
        }
    }

    /// Spins, then sleeps, until the generation differs from `seen`; returns the new one.
    private func waitForJob(after seen: Int) -> Int {
        let deadline = DispatchTime.now().uptimeNanoseconds + Self.spinNanoseconds
        var spins = 0
        while true {
            let now = generation.load(ordering: .sequentiallyConsistent)
            if now != seen { return now }
            spins += 1
            if spins & 1023 == 0 && DispatchTime.now().uptimeNanoseconds > deadline { break }
        }
        state.lock()
        defer { state.unlock() }
        sleepers.add(1, ordering: .sequentiallyConsistent)
        defer { sleepers.subtract(1, ordering: .sequentiallyConsistent) }
        while true {
            let now = generation.load(ordering: .sequentiallyConsistent)
            if now != seen { return now }
            state.wait()
        }
    }
}
