/// Gelu: x·Φ(x) = ½x(1 + erf(x/√2)), or with approximate = "tanh" the tanh approximation
/// ½x(1 + tanh(√(2/π)(x + 0.044715x³))).
struct GeluOp: RealUnaryOp {
    let tanhApproximation: Bool

    @inline(__always) func apply<A: RealArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value {
        if tanhApproximation {
            let inner = A.Value(0.7978845608028654) * (x + A.Value(0.044715) * x * x * x)
            return x * 0.5 * (1 + A.tanh(inner))
        }
        return x * 0.5 * (1 + A.erf(x * A.Value(0.7071067811865476)))
    }

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        let approximate = context.node.string("approximate") ?? "none"
        guard approximate == "none" || approximate == "tanh" else {
            throw context.invalid("Gelu approximate must be \"none\" or \"tanh\", not \"\(approximate)\"")
        }
        return RealMapKernel(GeluOp(tanhApproximation: approximate == "tanh")).specialized()
    }
}
