import Foundation
import Graph
import Runtime

/// A floating-point constant widened to Double for folding arithmetic, which goes back to its
/// own element type when stored (so a float16 weight stays float16).
struct RealTensor {
    var elementType: ElementType
    var shape: [Int]
    var values: [Double]

    /// Float element types whose constants passes rewrite.
    static let supportedTypes: Set<ElementType> = [.float32, .float64, .float16, .bfloat16]

    /// The tensor's elements, or nil when it is not a float tensor of a supported type.
    init?(_ tensor: Tensor) {
        guard Self.supportedTypes.contains(tensor.elementType), let data = tensor.bytes,
              data.count == (tensor.elementType.byteCount(forElements: tensor.elementCount) ?? -1) else { return nil }
        elementType = tensor.elementType
        shape = tensor.shape
        if tensor.elementType == .float64 {
            values = data.withUnsafeBytes { raw in
                (0..<tensor.elementCount).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: Double.self) }
            }
        } else {
            guard let floats = tensor.floatValues() else { return nil }
            values = floats.map(Double.init)
        }
    }

    init(elementType: ElementType, shape: [Int], values: [Double]) {
        self.elementType = elementType
        self.shape = shape
        self.values = values
    }

    /// The elements rounded to the element type, as a constant named `name`.
    func tensor(name: String) -> Tensor {
        let data: Data
        switch elementType {
        case .float64: data = values.withUnsafeBytes { Data($0) }
        case .float16: data = values.map { floatToHalf(Float($0)) }.withUnsafeBytes { Data($0) }
        case .bfloat16: data = values.map { floatToBFloat16(Float($0)) }.withUnsafeBytes { Data($0) }
        default: data = values.map { Float($0) }.withUnsafeBytes { Data($0) }
        }
        return Tensor(name: name, elementType: elementType, shape: shape, storage: .bytes(data))
    }

    /// Per-channel values of a constant that broadcasts against a tensor of rank `rank` along
    /// axis 1 only (shape [C], [C,1,1], [1,C,1,1], or a single value), expanded to `channels`
    /// entries; nil for any other shape.
    func perChannel(rank: Int, channels: Int) -> [Double]? {
        guard shape.count <= rank else { return nil }
        let aligned = [Int](repeating: 1, count: rank - shape.count) + shape
        for (axis, size) in aligned.enumerated() where axis != 1 && size != 1 { return nil }
        let size = rank > 1 ? aligned[1] : 1
        if values.count == 1 { return [Double](repeating: values[0], count: channels) }
        return size == channels && values.count == channels ? values : nil
    }
}

/// Rescaling of float weights in one pass over their bytes, without widening the whole tensor,
/// and in place when nothing else holds them: the weights of a large model are most of its
/// bytes, and a copy of them costs more than the arithmetic.
enum WeightScaling {
    /// Multiplies each run of `block` consecutive elements of `data` (the bytes of `count`
    /// elements of `elementType`; run k = elements k·block ..< (k+1)·block) by `factors[k]`,
    /// each product computed in Double and rounded once to the element type; in place when
    /// `data` is its buffer's only owner. False, changing nothing, for other element types or
    /// sizes.
    static func scale(_ data: inout Data, elementType: ElementType, count: Int, block: Int, factors: [Double]) -> Bool {
        guard RealTensor.supportedTypes.contains(elementType), block > 0, factors.count * block == count,
              let byteCount = elementType.byteCount(forElements: count), data.count == byteCount else { return false }
        let runs = factors.count
        // Runs split over the cores: a large model's weights are mostly this loop.
        let chunks = count < 1 << 16 ? 1 : Parallel.availableCores * 4
        data.withUnsafeMutableBytes { raw in
            let bytes = UnsafeSendable(raw)
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                let runRange = (runs * chunk / chunks)..<(runs * (chunk + 1) / chunks)
                let out = bytes.value
                switch elementType {
                case .float64:
                    for run in runRange {
                        for i in (run * block)..<((run + 1) * block) {
                            out.storeBytes(of: out.loadUnaligned(fromByteOffset: i &* 8, as: Double.self) * factors[run], toByteOffset: i &* 8, as: Double.self)
                        }
                    }
                case .float16, .bfloat16:
                    let half = elementType == .float16
                    for run in runRange {
                        for i in (run * block)..<((run + 1) * block) {
                            let bits = out.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self)
                            let value = Double(half ? halfToFloat(bits) : bfloat16ToFloat(bits)) * factors[run]
                            out.storeBytes(of: half ? floatToHalf(Float(value)) : floatToBFloat16(Float(value)), toByteOffset: i &* 2, as: UInt16.self)
                        }
                    }
                default:
                    for run in runRange {
                        let f = factors[run]
                        for i in (run * block)..<((run + 1) * block) {
                            out.storeBytes(of: Float(Double(out.loadUnaligned(fromByteOffset: i &* 4, as: Float.self)) * f), toByteOffset: i &* 4, as: Float.self)
                        }
                    }
                }
            }
        }
        return true
    }

    /// The sum of each run of `block` consecutive elements, in Double.
    static func blockSums(_ tensor: Tensor, block: Int) -> [Double]? {
        guard let values = RealTensor(tensor)?.values, block > 0 else { return nil }
        return stride(from: 0, to: values.count, by: block).map { start in values[start..<min(values.count, start + block)].reduce(0, +) }
    }
}

/// A buffer pointer handed to the threads of one parallel loop, each writing its own elements.
private struct UnsafeSendable<Pointer>: @unchecked Sendable {
    let value: Pointer
    init(_ value: Pointer) { self.value = value }
}
