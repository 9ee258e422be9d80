import Graph

/// Size: the input's element count as an int64 scalar.
struct SizeKernel: Kernel {
    static func make(_ context: KernelBuildContext) throws -> any Kernel { SizeKernel() }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let x = try TensorSupport.input(inputs, 0, context.node, "data")
        let out = context.output(0, .int64, [])
        out.pointer(as: Int64.self)[0] = Int64(x.count)
        return [out]
    }
}
