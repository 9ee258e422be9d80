import Synchronization

/// What a kernel derived from its input shapes on its last run (output shape, window geometry),
/// reused while the shapes stay the same: shape inference costs more than a small conv's
/// arithmetic (half of the 4 µs a MobileNetV2 conv node spent outside its loops). One entry,
/// since a session reruns one plan; a lock keeps concurrent runs of a session safe.
///
/// The lock is a `Mutex<Void>` beside the entry: stored inline (an `NSLock` is two heap
/// allocations per kernel at every session creation), and one generic type for every memo (a
/// mutex holding the entry would be a type of its own for each kind of value, each instantiated
/// by the runtime on a process's first load).
final class ShapeMemo<Value: Sendable>: @unchecked Sendable {
    private let lock = Mutex<Void>(())
    private var key: [[Int]] = []
    private var value: Value?

    /// The value for these input shapes (an absent input as nil): the remembered one when the
    /// shapes are those of the last call, else `make()`'s, remembered. Errors are not remembered.
    func value(for inputs: [NDArray?], _ make: () throws -> Value) rethrows -> Value {
        let shapes = inputs.map { $0?.shape ?? [-1] }
        if let remembered = lock.withLock({ _ in key == shapes ? value : nil }) { return remembered }
        let made = try make()
        lock.withLock { _ in
            key = shapes
            value = made
        }
        return made
    }
}
