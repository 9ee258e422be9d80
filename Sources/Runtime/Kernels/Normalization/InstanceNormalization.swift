/// InstanceNormalization: normalizes each (n, c) plane of an N×C×… input over its spatial dims,
/// then applies the per-channel `scale` and `B`.
struct InstanceNormalization: FloatingPointKernel {
    let epsilon: Float

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        InstanceNormalization(epsilon: context.node.float("epsilon") ?? 1e-5)
    }

    func compute<S: ComputeStorage>(_: S.Type, _ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray]
        where S.Value: ComputeFloat {
        let x = try NormSupport.required(inputs, 0, context)
        guard x.rank >= 2 else { throw context.failure("input must be N×C×…, got shape \(x.shape)") }
        let channels = x.shape[1]
        var parameters: [[S.Value]] = []
        for (i, name) in [(1, "scale"), (2, "B")] {
            let array = try NormSupport.required(inputs, i, context)
            guard let values = NormSupport.floatingValues(array, as: S.Value.self), values.count == channels, array.rank == 1 else {
                throw context.failure("\(name) must be a 1-D float tensor of \(channels) channels, got \(array.elementType) \(array.shape)")
            }
            parameters.append(values)
        }
        let y = context.output(0, x.elementType, x.shape)
        let length = x.shape[2...].reduce(1, *)
        NormSupport.normalizeRows(
            S.self, x.pointer(as: S.Stored.self), y.pointer(as: S.Stored.self), rows: x.shape[0] * channels, length: length,
            epsilon: S.Value(epsilon), scale: parameters[0], bias: parameters[1],
            layout: AffineLayout(period: channels, stride: 1, block: length), threads: context.threads)
        return [y]
    }
}
