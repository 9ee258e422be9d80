import Graph

/// Range: `start, start + delta, …` up to (not including) `limit`, ceil((limit − start) / delta)
/// elements. Integers count exactly; floating types compute in double precision, as numpy's
/// `arange` (ONNX's reference) does, then round to the element type.
struct RangeKernel: Kernel {
    static func make(_ context: KernelBuildContext) throws -> any Kernel { RangeKernel() }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let node = context.node
        let start = try TensorSupport.input(inputs, 0, node, "start")
        let limit = try TensorSupport.input(inputs, 1, node, "limit")
        let delta = try TensorSupport.input(inputs, 2, node, "delta")
        let type = start.elementType
        guard [start, limit, delta].allSatisfy({ $0.count == 1 && $0.elementType == type }) else {
            throw context.failure("start, limit and delta must be scalars of one type")
        }
        if type.isInteger {
            guard let s = start.int64Array().first, let l = limit.int64Array().first, let d = delta.int64Array().first else {
                throw context.failure("Range does not support \(type)")
            }
            guard d != 0 else { throw context.failure("delta is 0") }
            // ceil((l − s) / d) without overflow for any int64 operands.
            let span = l.subtractingReportingOverflow(s)
            guard !span.overflow else { throw context.failure("range \(s)..<\(l) is too large") }
            let count = (d > 0) == (span.partialValue > 0) && span.partialValue != 0
                ? (span.partialValue - (d > 0 ? 1 : -1)) / d + 1 : 0
            guard count < 1 << 40 else { throw context.failure("range of \(count) elements is too large") }
            let out = context.output(0, type, [Int(count)])
            try store(ints: (0..<count).map { s &+ $0 &* d }, into: out, context)
            return [out]
        }
        guard let s = TensorSupport.floatValues(start)?.first, let l = TensorSupport.floatValues(limit)?.first,
              let d = TensorSupport.floatValues(delta)?.first, TensorSupport.bridgesThroughFloat(type) else {
            throw context.failure("Range does not support \(type)")
        }
        // float64 operands keep their precision.
        let (s64, l64, d64) = type == .float64
            ? (start.pointer(as: Double.self)[0], limit.pointer(as: Double.self)[0], delta.pointer(as: Double.self)[0])
            : (Double(s), Double(l), Double(d))
        guard d64 != 0, s64.isFinite, l64.isFinite, d64.isFinite else { throw context.failure("Range needs finite bounds and a non-zero delta") }
        let count = max(0, ((l64 - s64) / d64).rounded(.up))
        guard count < Double(1 << 40) else { throw context.failure("range of \(count) elements is too large") }
        let out = context.output(0, type, [Int(count)])
        let values = (0..<Int(count)).map { s64 + Double($0) * d64 }
        if type == .float64 {
            for (i, v) in values.enumerated() { out.pointer(as: Double.self)[i] = v }
        } else {
            values.map { Float($0) }.withUnsafeBufferPointer { if let base = $0.baseAddress { TensorSupport.store(base, into: out) } }
        }
        return [out]
    }

    private func store(ints: [Int64], into out: NDArray, _ context: KernelContext) throws {
        func typed<T: FixedWidthInteger>(_: T.Type) {
            for (i, v) in ints.enumerated() { out.pointer(as: T.self)[i] = T(truncatingIfNeeded: v) }
        }
        switch out.elementType {
        case .int8: typed(Int8.self)
        case .uint8: typed(UInt8.self)
        case .int16: typed(Int16.self)
        case .uint16: typed(UInt16.self)
        case .int32: typed(Int32.self)
        case .uint32: typed(UInt32.self)
        case .int64: typed(Int64.self)
        case .uint64: typed(UInt64.self)
        default: throw context.failure("Range does not support \(out.elementType)")
        }
    }
}
