/// IsNaN: true where x is NaN.
struct IsNaNOp: RealPredicate {
    @inline(__always) func test<T: BinaryFloatingPoint>(_ x: T) -> Bool { x.isNaN }

    static func make(_ context: KernelBuildContext) throws -> any Kernel { RealPredicateKernel(IsNaNOp()).specialized() }
}
