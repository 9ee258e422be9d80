/// Where: condition ? x : y, the three broadcast together. X and Y may be of any element type
/// (elements are copied by width, not interpreted), including bool and int64.
struct WhereKernel: Kernel {
    static func make(_ context: KernelBuildContext) throws -> any Kernel { WhereKernel() }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let condition = try requiredInput(inputs, 0, context)
        let x = try requiredInput(inputs, 1, context), y = try requiredInput(inputs, 2, context)
        guard condition.elementType == .bool else {
            throw context.failure("condition must be bool, got \(condition.elementType)")
        }
        try requireSameType(x, y, context)
        guard let layout = BroadcastLayout([condition.shape, x.shape, y.shape]) else {
            throw context.failure("shapes \(condition.shape), \(x.shape) and \(y.shape) do not broadcast")
        }
        let out = context.output(0, x.elementType, layout.shape)
        switch x.elementType.bitWidth {
        case 8: select(UInt8.self, condition, x, y, out, layout, context.threads)
        case 16: select(UInt16.self, condition, x, y, out, layout, context.threads)
        case 32: select(UInt32.self, condition, x, y, out, layout, context.threads)
        case 64: select(UInt64.self, condition, x, y, out, layout, context.threads)
        default: throw context.failure("Where does not support \(x.elementType) values")
        }
        return [out]
    }

    private func select<T>(
        _: T.Type, _ condition: NDArray, _ x: NDArray, _ y: NDArray, _ out: NDArray, _ layout: BroadcastLayout, _ threads: Int
    ) {
        let c = condition.pointer(as: UInt8.self), px = x.pointer(as: T.self), py = y.pointer(as: T.self)
        let po = out.pointer(as: T.self)
        let sc = layout.innerStrides[0], sx = layout.innerStrides[1], sy = layout.innerStrides[2]
        Parallel.chunks(layout.count, threads: threads, grain: elementwiseGrain) { range in
            layout.forEachRun(in: range) { start, length, offsets in
                let rc = c + offsets[0], rx = px + offsets[1], ry = py + offsets[2], ro = po + start
                for i in 0..<length { ro[i] = rc[i * sc] != 0 ? rx[i * sx] : ry[i * sy] }
            }
        }
    }
}
