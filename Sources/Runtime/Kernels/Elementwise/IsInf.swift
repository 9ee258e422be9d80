/// IsInf: true where x is +∞ (unless detect_positive = 0) or −∞ (unless detect_negative = 0).
struct IsInfOp: RealPredicate {
    let positive: Bool
    let negative: Bool

    @inline(__always) func test<T: BinaryFloatingPoint>(_ x: T) -> Bool {
        x.isInfinite && (x > 0 ? positive : negative)
    }

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        RealPredicateKernel(IsInfOp(positive: context.node.int("detect_positive", default: 1) != 0,
                                    negative: context.node.int("detect_negative", default: 1) != 0)).specialized()
    }
}
