import Foundation

/// What a kernel derived from its input shapes on its last run (output shape, window geometry),
/// reused while the shapes stay the same: shape inference costs more than a small conv's
/// arithmetic (half of the 4 µs a MobileNetV2 conv node spent outside its loops). One entry,
/// since a session reruns one plan; a lock keeps concurrent runs of a session safe.
final class ShapeMemo<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var key: [[Int]] = []
    private var value: Value?

    /// The value for these input shapes (an absent input as nil): the remembered one when the
    /// shapes are those of the last call, else `make()`'s, remembered. Errors are not remembered.
    func value(for inputs: [NDArray?], _ make: () throws -> Value) rethrows -> Value {
        let shapes = inputs.map { $0?.shape ?? [-1] }
        lock.lock()
        if let value, key == shapes {
            lock.unlock()
            return value
        }
        lock.unlock()
        let made = try make()
        lock.lock()
        key = shapes
        value = made
        lock.unlock()
        return made
    }
}
