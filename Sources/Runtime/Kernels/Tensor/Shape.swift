import Graph

/// Shape: the input's dims as int64, or the `start`..<`end` part of them (opset 15; both clamp).
struct ShapeKernel: Kernel {
    let start: Int64
    let end: Int64?

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        ShapeKernel(start: context.node.int("start", default: 0), end: context.node.int("end"))
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let x = try TensorSupport.input(inputs, 0, context.node, "data")
        let r = Int64(x.rank)
        func clamp(_ v: Int64) -> Int { Int(min(max(v < 0 ? v + r : v, 0), r)) }
        let lo = clamp(start), hi = clamp(end ?? r)
        let dims = lo < hi ? Array(x.shape[lo..<hi]) : []
        let out = context.output(0, .int64, [dims.count])
        for (i, d) in dims.enumerated() { out.pointer(as: Int64.self)[i] = Int64(d) }
        return [out]
    }
}
