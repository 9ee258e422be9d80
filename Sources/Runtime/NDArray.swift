import Foundation
import Graph

/// A tensor at run time: element type, shape, and the buffer holding its packed row-major elements.
///
/// Kernels read and write elements through typed pointers; copying an `NDArray` shares its buffer.
public struct NDArray: @unchecked Sendable {
    public let elementType: ElementType
    public let shape: [Int]
    public let buffer: Buffer

    /// A zero-filled array.
    public init(_ elementType: ElementType, shape: [Int]) {
        let count = shape.reduce(1, *)
        self.init(elementType, shape: shape, buffer: Buffer(zeroedByteCount: elementType.byteCount(forElements: count) ?? 0))
    }

    /// An array over an existing buffer, which must hold at least the elements `shape` needs.
    public init(_ elementType: ElementType, shape: [Int], buffer: Buffer) {
        self.elementType = elementType
        self.shape = shape
        self.buffer = buffer
    }

    /// A float32 array with the given values.
    public init(shape: [Int], floats: [Float]) {
        precondition(shape.reduce(1, *) == floats.count, "shape \(shape) does not hold \(floats.count) values")
        self.init(.float32, shape: shape)
        floats.withUnsafeBufferPointer { source in
            buffer.pointer.copyMemory(from: source.baseAddress!, byteCount: floats.count * 4)
        }
    }

    /// An array over a constant tensor's elements: the tensor's own bytes when they are 64-byte
    /// aligned (a tensor of a mapped `.pare` file), else a copy.
    public init(_ tensor: borrowing Tensor) throws(RuntimeError) {
        guard case .bytes(let data) = tensor.storage, let bytes = tensor.elementType.byteCount(forElements: tensor.elementCount) else {
            throw RuntimeError.unsupported("tensor '\(tensor.name)' of type \(tensor.elementType)")
        }
        guard data.count == bytes else {
            throw RuntimeError.badInput("tensor '\(tensor.name)' holds \(data.count) bytes, shape \(tensor.shape) needs \(bytes)")
        }
        // Data this large lives in a heap or mapped buffer whose address stays fixed while the
        // Data is alive and unmodified; the buffer keeps it alive and kernels never write constants.
        if bytes >= 64, let base = data.withUnsafeBytes({ $0.baseAddress }), Int(bitPattern: base) % 64 == 0 {
            self.init(tensor.elementType, shape: tensor.shape,
                      buffer: Buffer(borrowing: UnsafeMutableRawPointer(mutating: base), byteCount: bytes, keeping: data))
            return
        }
        self.init(tensor.elementType, shape: tensor.shape)
        data.withUnsafeBytes { source in
            if bytes > 0 { buffer.pointer.copyMemory(from: source.baseAddress!, byteCount: bytes) }
        }
    }

    public var count: Int { shape.reduce(1, *) }
    public var rank: Int { shape.count }
    public var byteCount: Int { elementType.byteCount(forElements: count) ?? 0 }

    /// Typed access to the elements; `T` must match `elementType`'s storage.
    public func pointer<T>(as type: T.Type) -> UnsafeMutablePointer<T> {
        buffer.pointer.assumingMemoryBound(to: T.self)
    }

    public var floats: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: pointer(as: Float.self), count: count)
    }

    /// The elements as Float, converting from any numeric type.
    public func floatArray() -> [Float] {
        tensor(name: "").floatValues() ?? []
    }

    /// The elements as Int64, converting from any integer type.
    public func int64Array() -> [Int64] {
        tensor(name: "").int64Values() ?? []
    }

    /// The same elements viewed with another shape of equal element count (no copy).
    public func reshaped(_ newShape: [Int]) -> NDArray {
        precondition(newShape.reduce(1, *) == count, "cannot view \(shape) as \(newShape)")
        return NDArray(elementType, shape: newShape, buffer: buffer)
    }

    /// A constant tensor with a copy of the elements.
    public func tensor(name: String) -> Tensor {
        Tensor(name: name, elementType: elementType, shape: shape,
               storage: .bytes(Data(bytes: buffer.pointer, count: byteCount)))
    }
}

