/// Kernels that run subgraphs.
let controlFlowKernels: [String: KernelFactory] = [
    "If": IfKernel.make,
]
