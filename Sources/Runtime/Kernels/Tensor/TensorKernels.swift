/// Kernels that move, reshape or create tensors without arithmetic.
let tensorKernels: [String: KernelFactory] = [
    "Constant": ConstantKernel.make,
]
