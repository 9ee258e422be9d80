/// GroupNormalization: normalizes each group of `num_groups` channel groups of an N×C×… input,
/// then applies `scale` and `bias`: per channel (opset 21), or per group (opset 18, told apart by
/// their size).
struct GroupNormalization: FloatingPointKernel {
    let groups: Int
    let epsilon: Float

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        guard let groups = context.node.int("num_groups"), groups > 0 else {
            throw context.invalid("num_groups must be a positive integer")
        }
        return GroupNormalization(groups: Int(groups), epsilon: context.node.float("epsilon") ?? 1e-5)
    }

    func compute<S: ComputeStorage>(_: S.Type, _ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray]
        where S.Value: ComputeFloat {
        let x = try NormSupport.required(inputs, 0, context)
        guard x.rank >= 2 else { throw context.failure("input must be N×C×…, got shape \(x.shape)") }
        let channels = x.shape[1]
        guard channels % groups == 0 else {
            throw context.failure("\(channels) channels do not split into \(groups) groups")
        }
        var parameters: [[S.Value]] = []
        for (i, name) in [(1, "scale"), (2, "bias")] {
            let array = try NormSupport.required(inputs, i, context)
            guard let values = NormSupport.floatingValues(array, as: S.Value.self), array.rank == 1,
                  values.count == channels || values.count == groups else {
                throw context.failure("\(name) must be a 1-D float tensor of \(channels) channels (or \(groups) groups), got \(array.elementType) \(array.shape)")
            }
            parameters.append(values)
        }
        guard parameters[0].count == parameters[1].count else {
            throw context.failure("scale and bias have different sizes \(parameters[0].count) and \(parameters[1].count)")
        }
        let spatial = x.shape[2...].reduce(1, *), perGroup = channels / groups
        let length = perGroup * spatial
        let layout = parameters[0].count == channels
            ? AffineLayout(period: groups, stride: perGroup, block: spatial)
            : AffineLayout(period: groups, stride: 1, block: length)
        let y = context.output(0, x.elementType, x.shape)
        NormSupport.normalizeRows(
            S.self, x.pointer(as: S.Stored.self), y.pointer(as: S.Stored.self), rows: x.shape[0] * groups, length: length,
            epsilon: S.Value(epsilon), scale: parameters[0], bias: parameters[1], layout: layout, threads: context.threads)
        return [y]
    }
}
