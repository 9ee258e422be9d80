import Graph

/// GlobalMaxPool: the largest element of each (n, c) plane, keeping the spatial axes as size 1.
struct GlobalMaxPoolKernel: Kernel {
    static func make(_ context: KernelBuildContext) throws -> any Kernel { GlobalMaxPoolKernel() }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        guard let x = inputs.first ?? nil, x.rank >= 2 else { throw context.failure("GlobalMaxPool needs input X of rank ≥ 2 (N, C, …)") }
        let (shape, planes, size) = globalPoolShape(x)
        guard size > 0 || planes == 0 else { throw context.failure("GlobalMaxPool of empty planes \(formatShape(x.shape))") }
        let y = context.output(0, x.elementType, shape)
        func pool<T: BinaryFloatingPoint>(_ source: UnsafePointer<T>, _ target: UnsafeMutablePointer<T>) {
            Parallel.forEach(planes, threads: context.threads, grain: max(1, 16384 / max(1, size))) { p in
                let plane = source + p * size
                var best = plane[0]
                // NaN wins and stays, as in numpy's max.
                for i in 1..<size where !best.isNaN && (plane[i] > best || plane[i].isNaN) { best = plane[i] }
                target[p] = best
            }
        }
        try runFloatPool(x, y, context, float: pool, double: pool)
        return [y]
    }
}
