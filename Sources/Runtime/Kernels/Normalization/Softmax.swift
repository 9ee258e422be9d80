/// Softmax: eˣ / Σ eˣ along an axis (see SoftmaxKernel for the opset rules).
enum Softmax {
    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        SoftmaxKernel(context, log: false)
    }
}
