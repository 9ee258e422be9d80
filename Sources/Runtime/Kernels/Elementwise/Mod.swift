/// Mod: the remainder of a / b, with the sign of the divisor (Python's %) by default, or of the
/// dividend when fmod = 1 (C's fmod; required for floats by the spec, accepted either way here).
struct ModOp: NumericBinaryOp {
    let fmod: Bool

    @inline(__always) func apply<A: ElementArithmetic>(_ a: A.Value, _ b: A.Value, _ arithmetic: A.Type) -> A.Value {
        A.remainder(a, b, fmod: fmod)
    }

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        let fmod = context.node.int("fmod") ?? 0
        guard fmod == 0 || fmod == 1 else { throw context.invalid("Mod fmod must be 0 or 1, not \(fmod)") }
        return BroadcastKernel(ModOp(fmod: fmod == 1)).specialized()
    }
}
