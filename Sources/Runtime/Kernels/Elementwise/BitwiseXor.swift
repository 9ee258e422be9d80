/// BitwiseXor: a ^ b with numpy broadcasting, for integers.
struct BitwiseXorOp: IntegerBinaryOp {
    @inline(__always) func apply<T: FixedWidthInteger>(_ a: T, _ b: T) -> T { a ^ b }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { IntegerBroadcastKernel(BitwiseXorOp()).specialized() }
}
