/// Kernels that run subgraphs.
let controlFlowKernels: KeyValuePairs<String, KernelFactory> = [
    "If": IfKernel.make,
]
