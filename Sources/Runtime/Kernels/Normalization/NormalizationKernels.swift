/// Normalizations, reductions, softmax and quantization kernels.
let normalizationKernels: [String: KernelFactory] = [:]
