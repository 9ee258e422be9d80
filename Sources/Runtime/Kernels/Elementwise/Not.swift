/// Not: logical negation of a bool tensor.
struct NotKernel: Kernel {
    static func make(_ context: KernelBuildContext) throws -> any Kernel { NotKernel() }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let x = try requiredInput(inputs, 0, context)
        guard x.elementType == .bool else { throw context.failure("Not needs a bool input, got \(x.elementType)") }
        let out = context.output(0, .bool, x.shape)
        elementwiseMap(x.pointer(as: UInt8.self), out.pointer(as: UInt8.self), count: x.count, threads: context.threads) {
            $0 == 0 ? 1 : 0
        }
        return [out]
    }
}
