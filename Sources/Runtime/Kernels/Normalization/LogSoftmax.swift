/// LogSoftmax: x − log Σ eˣ along an axis (see SoftmaxKernel for the opset rules).
enum LogSoftmax {
    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        SoftmaxKernel(context, log: true)
    }
}
