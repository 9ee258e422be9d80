import Foundation

/// A small constant decoded for arithmetic during inference: integers and bools exactly as
/// `Int64`, floating-point values as `Double`.
struct SmallTensor: Sendable, Hashable {
    enum Numbers: Sendable, Hashable {
        case ints([Int64])
        case floats([Double])

        var count: Int {
            switch self {
            case .ints(let v): v.count
            case .floats(let v): v.count
            }
        }

        var asDoubles: [Double] {
            switch self {
            case .ints(let v): v.map(Double.init)
            case .floats(let v): v
            }
        }

        /// Elements at `positions`, in that order.
        func picking(_ positions: [Int]) -> Numbers {
            switch self {
            case .ints(let v): .ints(positions.map { v[$0] })
            case .floats(let v): .floats(positions.map { v[$0] })
            }
        }
    }

    var elementType: ElementType
    var shape: [Int]
    var numbers: Numbers

    var count: Int { shape.reduce(1, *) }

    init(elementType: ElementType, shape: [Int], numbers: Numbers) {
        self.elementType = elementType
        self.shape = shape
        self.numbers = numbers
    }

    init(int64s: [Int64], shape: [Int]? = nil) {
        self.init(elementType: .int64, shape: shape ?? [int64s.count], numbers: .ints(int64s))
    }

    /// Decodes `tensor`; nil for strings and element types inference does not compute with.
    init?(_ tensor: Tensor) {
        let type = tensor.elementType
        if type.isInteger || type == .bool {
            guard let v = tensor.int64Values(), v.count == tensor.elementCount else { return nil }
            self.init(elementType: type, shape: tensor.shape, numbers: .ints(v))
        } else if type == .float32 || type == .float64 || type == .float16 || type == .bfloat16 {
            guard let v = tensor.floatValues(), v.count == tensor.elementCount else { return nil }
            self.init(elementType: type, shape: tensor.shape, numbers: .floats(v.map(Double.init)))
        } else {
            return nil
        }
    }

    /// Encodes as a tensor of `elementType`; nil for types this helper does not write.
    func tensor(name: String) -> Tensor? {
        let data: Data
        switch (elementType, numbers) {
        case (.int64, .ints(let v)): data = pack(v)
        case (.int32, .ints(let v)): data = pack(v.map { Int32(truncatingIfNeeded: $0) })
        case (.int16, .ints(let v)): data = pack(v.map { Int16(truncatingIfNeeded: $0) })
        case (.int8, .ints(let v)): data = pack(v.map { Int8(truncatingIfNeeded: $0) })
        case (.uint8, .ints(let v)): data = pack(v.map { UInt8(truncatingIfNeeded: $0) })
        case (.uint16, .ints(let v)): data = pack(v.map { UInt16(truncatingIfNeeded: $0) })
        case (.uint32, .ints(let v)): data = pack(v.map { UInt32(truncatingIfNeeded: $0) })
        case (.uint64, .ints(let v)): data = pack(v.map { UInt64(bitPattern: $0) })
        case (.bool, .ints(let v)): data = pack(v.map { $0 != 0 ? UInt8(1) : 0 })
        case (.float32, .floats(let v)): data = pack(v.map { Float($0) })
        case (.float64, .floats(let v)): data = pack(v)
        default: return nil
        }
        return Tensor(name: name, elementType: elementType, shape: shape, storage: .bytes(data))
    }

    private func pack<T>(_ values: [T]) -> Data { values.withUnsafeBytes { Data($0) } }

    /// The same elements as `type`, converted as ONNX `Cast` does (floats truncate toward zero).
    func cast(to type: ElementType) -> SmallTensor? {
        if type.isInteger || type == .bool {
            switch numbers {
            case .ints(let v):
                return SmallTensor(elementType: type, shape: shape, numbers: .ints(type == .bool ? v.map { $0 != 0 ? 1 : 0 } : v))
            case .floats(let v):
                guard v.allSatisfy({ $0.isFinite && abs($0) < 9.2e18 }) else { return nil }
                return SmallTensor(elementType: type, shape: shape, numbers: .ints(v.map { type == .bool ? ($0 != 0 ? 1 : 0) : Int64($0) }))
            }
        }
        guard type == .float32 || type == .float64 else { return nil }
        let doubles = numbers.asDoubles
        return SmallTensor(elementType: type, shape: shape, numbers: .floats(type == .float32 ? doubles.map { Double(Float($0)) } : doubles))
    }

    /// The same elements with a new shape of equal element count.
    func reshaped(_ newShape: [Int]) -> SmallTensor? {
        newShape.reduce(1, *) == count ? SmallTensor(elementType: elementType, shape: newShape, numbers: numbers) : nil
    }

    /// Elements picked by one list of indices per axis (Slice): output[i0, i1, …] = self[idx0[i0], idx1[i1], …].
    func selecting(_ indexLists: [[Int]]) -> SmallTensor {
        let strides = rowMajorStrides(shape)
        let outShape = indexLists.map(\.count)
        var positions: [Int] = [0]
        for (axis, list) in indexLists.enumerated() {
            positions = positions.flatMap { base in list.map { base + $0 * strides[axis] } }
        }
        if outShape.contains(0) { positions = [] }
        return SmallTensor(elementType: elementType, shape: outShape, numbers: numbers.picking(positions))
    }

    /// ONNX `Gather` along `axis` with (already non-negative) `indices` of shape `indexShape`.
    func gathering(axis: Int, indices: [Int], indexShape: [Int]) -> SmallTensor {
        let outer = shape[..<axis].reduce(1, *)
        let inner = shape[(axis + 1)...].reduce(1, *)
        let axisSize = shape[axis]
        var positions: [Int] = []
        positions.reserveCapacity(outer * indices.count * inner)
        for o in 0..<outer {
            for index in indices {
                for k in 0..<inner { positions.append((o * axisSize + index) * inner + k) }
            }
        }
        let outShape = Array(shape[..<axis]) + indexShape + Array(shape[(axis + 1)...])
        return SmallTensor(elementType: elementType, shape: outShape, numbers: numbers.picking(positions))
    }

    /// Concatenates `parts` (same rank, same element kind) along `axis`.
    static func concatenating(_ parts: [SmallTensor], axis: Int) -> SmallTensor? {
        guard let first = parts.first else { return nil }
        let outer = first.shape[..<axis].reduce(1, *)
        var ints: [Int64] = [], floats: [Double] = []
        var useFloats = false
        for part in parts { if case .floats = part.numbers { useFloats = true } }
        for o in 0..<outer {
            for part in parts {
                let block = part.shape[axis...].reduce(1, *)
                let range = (o * block)..<((o + 1) * block)
                switch part.numbers {
                case .ints(let v): if useFloats { floats += v[range].map(Double.init) } else { ints += v[range] }
                case .floats(let v): floats += v[range]
                }
            }
        }
        var shape = first.shape
        shape[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
        return SmallTensor(elementType: first.elementType, shape: shape, numbers: useFloats ? .floats(floats) : .ints(ints))
    }

    /// Elementwise function of broadcast operands (numpy rules), computed on integers when every
    /// operand is integral and `intOp` is given, else on doubles. nil when an operation fails.
    static func broadcasting(
        _ operands: [SmallTensor], resultType: ElementType,
        intOp: (([Int64]) -> Int64?)?, floatOp: ([Double]) -> Double?
    ) -> SmallTensor? {
        guard let outShape = broadcastShapes(operands.map(\.shape)) else { return nil }
        let total = outShape.reduce(1, *)
        guard total <= InferenceContext.maxPropagatedElements else { return nil }
        let outStrides = rowMajorStrides(outShape)
        let operandStrides: [[Int]] = operands.map { op in
            let padded = Array(repeating: 1, count: outShape.count - op.shape.count) + op.shape
            let strides = rowMajorStrides(padded)
            return zip(padded, strides).map { $0 == 1 ? 0 : $1 }
        }
        func offsets(_ linear: Int) -> [Int] {
            var rest = linear
            var result = Array(repeating: 0, count: operands.count)
            for axis in 0..<outShape.count {
                let coordinate = rest / outStrides[axis]
                rest %= outStrides[axis]
                for k in operands.indices { result[k] += coordinate * operandStrides[k][axis] }
            }
            return result
        }
        let allInts = operands.allSatisfy { if case .ints = $0.numbers { true } else { false } }
        if allInts, let intOp {
            let columns: [[Int64]] = operands.map { if case .ints(let v) = $0.numbers { v } else { [] } }
            var out: [Int64] = []
            out.reserveCapacity(total)
            for i in 0..<total {
                let at = offsets(i)
                guard let r = intOp(operands.indices.map { columns[$0][at[$0]] }) else { return nil }
                out.append(r)
            }
            let numbers: Numbers = resultType.isFloatingPoint ? .floats(out.map(Double.init)) : .ints(out)
            return SmallTensor(elementType: resultType, shape: outShape, numbers: numbers)
        }
        let columns = operands.map(\.numbers.asDoubles)
        var out: [Double] = []
        out.reserveCapacity(total)
        for i in 0..<total {
            let at = offsets(i)
            guard let r = floatOp(operands.indices.map { columns[$0][at[$0]] }) else { return nil }
            out.append(r)
        }
        if resultType.isInteger || resultType == .bool {
            guard out.allSatisfy({ $0.isFinite && abs($0) < 9.2e18 }) else { return nil }
            return SmallTensor(elementType: resultType, shape: outShape, numbers: .ints(out.map { Int64($0) }))
        }
        if resultType == .float32 { out = out.map { Double(Float($0)) } }
        return SmallTensor(elementType: resultType, shape: outShape, numbers: .floats(out))
    }
}

/// Row-major strides of `shape`.
func rowMajorStrides(_ shape: [Int]) -> [Int] {
    var strides = Array(repeating: 1, count: shape.count)
    var running = 1
    for axis in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[axis] = running
        running *= max(shape[axis], 1)
    }
    return strides
}

/// Numpy (multidirectional) broadcasting of static shapes; nil when they do not broadcast. Public
/// so the runtime's broadcasting kernels follow the same rule as shape inference.
public func broadcastShapes(_ shapes: [[Int]]) -> [Int]? {
    let rank = shapes.map(\.count).max() ?? 0
    var result = Array(repeating: 1, count: rank)
    for shape in shapes {
        let offset = rank - shape.count
        for (i, d) in shape.enumerated() {
            let r = result[offset + i]
            if r == d || d == 1 { continue }
            if r == 1 { result[offset + i] = d } else { return nil }
        }
    }
    return result
}
