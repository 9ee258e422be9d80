/// ArgMax: index of the largest element along `axis` (first or, with `select_last_index`, last).
enum ArgMax {
    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        ArgReduceKernel(context, findMax: true)
    }
}
