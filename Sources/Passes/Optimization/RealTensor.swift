import Foundation
import Graph

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

/// Rescaling of float weights in one pass over their bytes, without widening the whole tensor:
/// the weights of a large model are rescaled in place of a copy, not in four.
enum WeightScaling {
    /// `tensor` with each run of `block` consecutive elements (run k = elements k·block ..<
    /// (k+1)·block) multiplied by `factors[k]`, each product computed in Double and rounded once
    /// to the element type. Nil for element types passes do not rewrite, or when the factors do
    /// not cover the runs.
    static func scaled(_ tensor: Tensor, block: Int, factors: [Double]) -> Tensor? {
        guard RealTensor.supportedTypes.contains(tensor.elementType), let source = tensor.bytes, block > 0,
              factors.count * block == tensor.elementCount,
              let byteCount = tensor.elementType.byteCount(forElements: tensor.elementCount), source.count == byteCount else { return nil }
        let count = tensor.elementCount
        var output = Data(count: byteCount)
        source.withUnsafeBytes { input in
            output.withUnsafeMutableBytes { out in
                func each<T>(_ type: T.Type, _ load: (UnsafeRawBufferPointer, Int) -> Double, _ store: (UnsafeMutableRawBufferPointer, Int, Double) -> Void) {
                    var start = 0, run = 0
                    while start < count {
                        let f = factors[run], end = min(count, start + block)
                        for i in start..<end { store(out, i, load(input, i) * f) }
                        start = end
                        run += 1
                    }
                }
                switch tensor.elementType {
                case .float64:
                    each(Double.self, { $0.loadUnaligned(fromByteOffset: $1 * 8, as: Double.self) },
                         { $0.storeBytes(of: $2, toByteOffset: $1 * 8, as: Double.self) })
                case .float16:
                    each(UInt16.self, { Double(halfToFloat($0.loadUnaligned(fromByteOffset: $1 * 2, as: UInt16.self))) },
                         { $0.storeBytes(of: floatToHalf(Float($2)), toByteOffset: $1 * 2, as: UInt16.self) })
                case .bfloat16:
                    each(UInt16.self, { Double(bfloat16ToFloat($0.loadUnaligned(fromByteOffset: $1 * 2, as: UInt16.self))) },
                         { $0.storeBytes(of: floatToBFloat16(Float($2)), toByteOffset: $1 * 2, as: UInt16.self) })
                case .float32:
                    // The common case: copied to the (aligned) output, then scaled there in a
                    // typed loop that vectorizes, split over the cores.
                    out.copyMemory(from: input)
                    let to = UnsafeSendable(out.assumingMemoryBound(to: Float.self))
                    let runs = (count + block - 1) / block
                    let chunks = count < 1 << 16 ? 1 : ProcessInfo.processInfo.activeProcessorCount * 4
                    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                        for run in (runs * chunk / chunks)..<(runs * (chunk + 1) / chunks) {
                            let f = factors[run]
                            for i in (run * block)..<min(count, (run + 1) * block) { to.value[i] = Float(Double(to.value[i]) * f) }
                        }
                    }
                default:
                    each(Float.self, { Double($0.loadUnaligned(fromByteOffset: $1 * 4, as: Float.self)) },
                         { $0.storeBytes(of: Float($2), toByteOffset: $1 * 4, as: Float.self) })
                }
            }
        }
        return Tensor(name: tensor.name, elementType: tensor.elementType, shape: tensor.shape, storage: .bytes(output))
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
