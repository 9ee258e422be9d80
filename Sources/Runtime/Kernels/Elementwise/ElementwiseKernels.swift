/// Elementwise kernels: activations, arithmetic with broadcasting, comparisons, logic, casts.
let elementwiseKernels: [String: KernelFactory] = [:]
