import Graph

/// GlobalAveragePool: the mean of each (n, c) plane, keeping the spatial axes as size 1.
struct GlobalAveragePoolKernel: Kernel {
    static func make(_ context: KernelBuildContext) throws -> any Kernel { GlobalAveragePoolKernel() }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        guard let x = inputs.first ?? nil, x.rank >= 2 else { throw context.failure("GlobalAveragePool needs input X of rank ≥ 2 (N, C, …)") }
        let (shape, planes, size) = globalPoolShape(x)
        let y = context.output(0, x.elementType, shape)
        func pool<T: BinaryFloatingPoint>(_ source: UnsafePointer<T>, _ target: UnsafeMutablePointer<T>) {
            Parallel.forEach(planes, threads: context.threads, grain: max(1, 16384 / max(1, size))) { p in
                let plane = source + p * size
                var sum: T = 0
                for i in 0..<size { sum += plane[i] }
                target[p] = size > 0 ? sum / T(size) : .nan
            }
        }
        try runFloatPool(x, y, context, float: pool, double: pool)
        return [y]
    }
}

/// The output shape of a global pool ([N, C, 1, …]), its plane count and the elements per plane.
func globalPoolShape(_ x: NDArray) -> (shape: [Int], planes: Int, size: Int) {
    (Array(x.shape.prefix(2)) + Array(repeating: 1, count: x.rank - 2), x.shape[0] * x.shape[1], x.shape.dropFirst(2).reduce(1, *))
}
