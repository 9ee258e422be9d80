/// ArgMin: index of the smallest element along `axis` (first or, with `select_last_index`, last).
enum ArgMin {
    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        ArgReduceKernel(context, findMax: false)
    }
}
