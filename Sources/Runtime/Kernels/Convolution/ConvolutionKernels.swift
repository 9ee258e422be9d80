/// Convolutions, pooling and matrix products (through BLAS where it pays).
let convolutionKernels: [String: KernelFactory] = [:]
