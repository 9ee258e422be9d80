/// BitShift: x shifted left or right (the `direction` attribute) by y bits, for unsigned
/// integers; shifting by the bit width or more gives 0, as it does in numpy.
struct BitShiftOp: IntegerBinaryOp {
    let left: Bool

    @inline(__always) func apply<T: FixedWidthInteger>(_ a: T, _ b: T) -> T {
        // Swift's smart shifts give 0 past the width (and shift the other way for negative counts).
        left ? a << b : a >> b
    }

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        let direction = context.node.string("direction") ?? ""
        guard direction == "LEFT" || direction == "RIGHT" else {
            throw context.invalid("BitShift direction must be \"LEFT\" or \"RIGHT\", not \"\(direction)\"")
        }
        return IntegerBroadcastKernel(BitShiftOp(left: direction == "LEFT")).specialized()
    }
}
