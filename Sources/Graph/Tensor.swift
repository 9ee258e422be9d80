import Foundation

/// A constant tensor: an initializer, the value of a `Constant` node, or a tensor attribute.
///
/// Numeric data is kept as packed little-endian bytes in a `Data`, which is copy-on-write and may be
/// a slice of a memory-mapped file, so large weights are not copied when a model is loaded or passed
/// around.
public struct Tensor: Sendable, Hashable {
    /// Element storage: packed little-endian bytes for every type but strings.
    public enum Storage: Sendable, Hashable {
        case bytes(Data)
        case strings([Data])
    }

    public var name: String
    public var elementType: ElementType
    public var shape: [Int]
    public var storage: Storage
    public var docString: String
    public var metadata: [MetadataEntry]
    public var carried: CarriedFields

    public init(
        name: String, elementType: ElementType, shape: [Int], storage: Storage,
        docString: String = "", metadata: [MetadataEntry] = [], carried: CarriedFields = .none
    ) {
        self.name = name
        self.elementType = elementType
        self.shape = shape
        self.storage = storage
        self.docString = docString
        self.metadata = metadata
        self.carried = carried
    }

    /// A float32 tensor from values in row-major order.
    public init(name: String, shape: [Int], floats: [Float]) {
        precondition(shape.reduce(1, *) == floats.count, "shape \(shape) does not hold \(floats.count) values")
        self.init(name: name, elementType: .float32, shape: shape, storage: .bytes(floats.withUnsafeBytes { Data($0) }))
    }

    /// An int64 tensor from values in row-major order.
    public init(name: String, shape: [Int], int64s: [Int64]) {
        precondition(shape.reduce(1, *) == int64s.count, "shape \(shape) does not hold \(int64s.count) values")
        self.init(name: name, elementType: .int64, shape: shape, storage: .bytes(int64s.withUnsafeBytes { Data($0) }))
    }

    /// Number of elements the shape describes.
    @inlinable public var elementCount: Int { shape.reduce(1, *) }

    /// Bytes the data occupies as stored (string lengths summed for string tensors).
    public var byteCount: Int {
        switch storage {
        case .bytes(let d): d.count
        case .strings(let s): s.reduce(0) { $0 + $1.count }
        }
    }

    public var type: TensorType { TensorType(elementType, shape: shape) }

    /// The raw bytes, for non-string tensors.
    @inlinable public var bytes: Data? {
        if case .bytes(let d) = storage { return d }
        return nil
    }

    /// Checks that the stored data matches the element type and shape.
    public func validate() throws(GraphError) {
        switch storage {
        case .strings(let s):
            guard elementType == .string else {
                throw .invalidTensor(name, "holds strings but is typed \(elementType)")
            }
            guard s.count == elementCount else {
                throw .invalidTensor(name, "shape \(shape) needs \(elementCount) strings, found \(s.count)")
            }
        case .bytes(let d):
            guard let expected = elementType.byteCount(forElements: elementCount) else {
                throw .invalidTensor(name, "element type \(elementType) cannot be stored as bytes")
            }
            guard d.count == expected else {
                throw .invalidTensor(name, "shape \(shape) of \(elementType) needs \(expected) bytes, found \(d.count)")
            }
        }
        if shape.contains(where: { $0 < 0 }) {
            throw .invalidTensor(name, "has a negative dimension in shape \(shape)")
        }
    }

    /// The elements converted to Float, for numeric and bool tensors; nil for strings and
    /// packed sub-byte or exotic float types.
    public func floatValues() -> [Float]? {
        guard case .bytes(let data) = storage else { return nil }
        let n = elementCount
        return data.withUnsafeBytes { raw -> [Float]? in
            switch elementType {
            case .float32: return unalignedElements(raw, Float.self, n)
            case .float64: return unalignedElements(raw, Double.self, n).map { Float($0) }
            case .float16: return unalignedElements(raw, UInt16.self, n).map(halfToFloat)
            case .bfloat16: return unalignedElements(raw, UInt16.self, n).map(bfloat16ToFloat)
            case .int8: return unalignedElements(raw, Int8.self, n).map { Float($0) }
            case .uint8, .bool: return unalignedElements(raw, UInt8.self, n).map { Float($0) }
            case .int16: return unalignedElements(raw, Int16.self, n).map { Float($0) }
            case .uint16: return unalignedElements(raw, UInt16.self, n).map { Float($0) }
            case .int32: return unalignedElements(raw, Int32.self, n).map { Float($0) }
            case .uint32: return unalignedElements(raw, UInt32.self, n).map { Float($0) }
            case .int64: return unalignedElements(raw, Int64.self, n).map { Float($0) }
            case .uint64: return unalignedElements(raw, UInt64.self, n).map { Float($0) }
            default: return nil
            }
        }
    }

    /// The elements converted to Int64, for integer and bool tensors (floats are truncated);
    /// nil for strings and exotic types.
    public func int64Values() -> [Int64]? {
        guard case .bytes(let data) = storage else { return nil }
        let n = elementCount
        return data.withUnsafeBytes { raw -> [Int64]? in
            switch elementType {
            case .int64: return unalignedElements(raw, Int64.self, n)
            case .int32: return unalignedElements(raw, Int32.self, n).map { Int64($0) }
            case .int16: return unalignedElements(raw, Int16.self, n).map { Int64($0) }
            case .int8: return unalignedElements(raw, Int8.self, n).map { Int64($0) }
            case .uint8, .bool: return unalignedElements(raw, UInt8.self, n).map { Int64($0) }
            case .uint16: return unalignedElements(raw, UInt16.self, n).map { Int64($0) }
            case .uint32: return unalignedElements(raw, UInt32.self, n).map { Int64($0) }
            case .uint64: return unalignedElements(raw, UInt64.self, n).map { Int64(truncatingIfNeeded: $0) }
            case .float32, .float64, .float16, .bfloat16:
                return nil
            default: return nil
            }
        } ?? floatValues().flatMap { floats in
            floats.allSatisfy({ $0.isFinite && abs($0) < 9.2e18 }) ? floats.map { Int64($0) } : nil
        }
    }
}

/// A sparse constant: `values` at `indices` (either [NNZ] linear or [NNZ, rank] coordinates) in a
/// tensor of shape `shape`.
public struct SparseTensor: Sendable, Hashable {
    public var values: Tensor
    public var indices: Tensor
    public var shape: [Int]
    public var carried: CarriedFields

    public init(values: Tensor, indices: Tensor, shape: [Int], carried: CarriedFields = .none) {
        self.values = values
        self.indices = indices
        self.shape = shape
        self.carried = carried
    }

    public var name: String { values.name }

    /// The equivalent dense tensor, zeros where no value is given.
    public func densified() throws(GraphError) -> Tensor {
        guard shape.allSatisfy({ $0 >= 0 }) else { throw .invalidTensor(name, "has a negative dimension in shape \(shape)") }
        let total = shape.reduce(1, *)
        guard let bits = values.elementType.bitWidth, bits % 8 == 0, case .bytes(let valueBytes) = values.storage else {
            throw .invalidTensor(name, "sparse values of type \(values.elementType) cannot be densified")
        }
        guard let index = indices.int64Values() else {
            throw .invalidTensor(name, "sparse indices must be integers")
        }
        let width = bits / 8
        let nnz = values.elementCount
        guard valueBytes.count == nnz * width else {
            throw .invalidTensor(name, "sparse values hold \(valueBytes.count) bytes for \(nnz) elements")
        }
        guard index.count == indices.elementCount else {
            throw .invalidTensor(name, "sparse indices hold \(index.count) values for shape \(indices.shape)")
        }
        var linear: [Int] = []
        if indices.shape.count == 1 {
            linear = index.map { Int($0) }
        } else if indices.shape.count == 2, indices.shape[1] == shape.count {
            var strides = Array(repeating: 1, count: shape.count)
            for axis in stride(from: shape.count - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * shape[axis + 1] }
            for row in 0..<indices.shape[0] {
                var offset = 0
                for axis in 0..<shape.count {
                    // Each coordinate must be in range on its own axis, not just the linear offset.
                    let coordinate = index[row * shape.count + axis]
                    guard coordinate >= 0 && coordinate < shape[axis] else {
                        throw .invalidTensor(name, "sparse index \(coordinate) on axis \(axis) is outside shape \(shape)")
                    }
                    offset += Int(coordinate) * strides[axis]
                }
                linear.append(offset)
            }
        } else {
            throw .invalidTensor(name, "sparse indices have shape \(indices.shape), expected [\(nnz)] or [\(nnz), \(shape.count)]")
        }
        guard linear.count == nnz else {
            throw .invalidTensor(name, "\(linear.count) sparse indices for \(nnz) values")
        }
        if let bad = linear.first(where: { $0 < 0 || $0 >= total }) {
            throw .invalidTensor(name, "sparse index \(bad) is outside the \(total) elements of shape \(shape)")
        }
        var dense = Data(count: total * width)
        dense.withUnsafeMutableBytes { out in
            valueBytes.withUnsafeBytes { src in
                for (k, position) in linear.enumerated() {
                    out.baseAddress!.advanced(by: position * width)
                        .copyMemory(from: src.baseAddress!.advanced(by: k * width), byteCount: width)
                }
            }
        }
        return Tensor(name: name, elementType: values.elementType, shape: shape, storage: .bytes(dense))
    }
}

/// Up to `n` elements of `T` from bytes that need not be aligned for `T` (a `Data` slice of a
/// memory-mapped file can start anywhere), copied rather than rebound.
@inline(__always)
func unalignedElements<T: BitwiseCopyable>(_ raw: UnsafeRawBufferPointer, _ type: T.Type, _ n: Int) -> [T] {
    let count = max(0, min(n, raw.count / MemoryLayout<T>.stride))
    return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
        if count > 0 {
            UnsafeMutableRawBufferPointer(buffer).copyMemory(
                from: UnsafeRawBufferPointer(rebasing: raw[0..<(count * MemoryLayout<T>.stride)]))
        }
        initialized = count
    }
}
