import Synchronization

/// What a kernel derived from its input shapes on its last run (output shape, window geometry),
/// reused while the shapes stay the same: shape inference costs more than a small conv's
/// arithmetic (half of the 4 µs a MobileNetV2 conv node spent outside its loops). One entry,
/// since a session reruns one plan; a lock keeps concurrent runs of a session safe. (A `Mutex`
/// is stored inline: an `NSLock` is two heap allocations per kernel at every session creation.)
final class ShapeMemo<Value: Sendable>: Sendable {
    private let entry = Mutex<(key: [[Int]], value: Value?)>(([], nil))

    /// The value for these input shapes (an absent input as nil): the remembered one when the
    /// shapes are those of the last call, else `make()`'s, remembered. Errors are not remembered.
    func value(for inputs: [NDArray?], _ make: () throws -> Value) rethrows -> Value {
        let shapes = inputs.map { $0?.shape ?? [-1] }
        let remembered = entry.withLock { entry -> Value? in entry.key == shapes ? entry.value : nil }
        if let remembered { return remembered }
        let made = try make()
        entry.withLock { $0 = (shapes, made) }
        return made
    }
}
