/// Convolutions, pooling and matrix products (through BLAS where it pays).
let convolutionKernels: KeyValuePairs<String, KernelFactory> = [
    "AveragePool": AveragePoolKernel.make,
    "Conv": ConvKernel.make,
    "ConvTranspose": ConvTransposeKernel.make,
    "Gemm": GemmKernel.make,
    "GlobalAveragePool": GlobalAveragePoolKernel.make,
    "GlobalMaxPool": GlobalMaxPoolKernel.make,
    "LpPool": LpPoolKernel.make,
    "MatMul": MatMulKernel.make,
    "MaxPool": MaxPoolKernel.make,
    "MaxUnpool": MaxUnpoolKernel.make,
]
