import Graph

/// BatchNormalization (opsets 6–15) on N×C×… input: y = (x − mean) / √(var + ε) · scale + B per
/// channel. In inference the four per-channel inputs fold into one multiply-add, prepared once
/// when they are constants. With `training_mode` (opset 14+) the statistics are the batch's own
/// (population variance over N and the spatial dims), and the running mean and variance outputs
/// are `input · momentum + batch · (1 − momentum)`.
struct BatchNormalization: FloatingPointKernel {
    let epsilon: Double
    let momentum: Double
    let training: Bool
    /// Per-channel multiplier and offset, when every parameter is a constant and not training.
    let folded: (scale: [Double], shift: [Double])?

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        let node = context.node
        let training = context.opsetVersion >= 14 && node.int("training_mode", default: 0) != 0
        if context.opsetVersion < 14, (1..<node.outputs.count).contains(where: { NormSupport.wants(node, $0) }) {
            throw context.invalid("the training outputs of BatchNormalization before opset 14 are not supported")
        }
        if let spatial = node.int("spatial"), spatial == 0 {
            throw context.invalid("BatchNormalization with spatial = 0 (per-element statistics) is not supported")
        }
        let epsilon = Double(node.float("epsilon") ?? 1e-5)
        var folded: (scale: [Double], shift: [Double])?
        let parameters = (1...4).map { context.constant($0).flatMap { NormSupport.floatingValues($0, as: Double.self) } }
        if !training, let scale = parameters[0], let bias = parameters[1], let mean = parameters[2], let variance = parameters[3],
           Set([scale.count, bias.count, mean.count, variance.count]).count == 1 {
            folded = fold(scale: scale, bias: bias, mean: mean, variance: variance, epsilon: epsilon)
        }
        return BatchNormalization(epsilon: epsilon, momentum: Double(node.float("momentum") ?? 0.9), training: training, folded: folded)
    }

    /// Multiplier `scale / √(var + ε)` and offset `B − mean · multiplier` per channel.
    private static func fold<V: ComputeFloat>(scale: [V], bias: [V], mean: [V], variance: [V], epsilon: V) -> (scale: [V], shift: [V]) {
        let a = scale.indices.map { scale[$0] / V.sqrt(variance[$0] + epsilon) }
        return (a, a.indices.map { bias[$0] - mean[$0] * a[$0] })
    }

    func compute<S: ComputeStorage>(_: S.Type, _ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray]
        where S.Value: ComputeFloat {
        typealias V = S.Value
        let x = try NormSupport.required(inputs, 0, context)
        guard x.rank >= 1 else { throw context.failure("input must be N×C×…, got a scalar") }
        let batch = x.shape[0], channels = x.rank >= 2 ? x.shape[1] : 1, spatial = x.rank >= 2 ? x.shape[2...].reduce(1, *) : 1
        let xs = x.pointer(as: S.Stored.self)

        func parameter(_ i: Int, _ name: String) throws -> [V] {
            let array = try NormSupport.required(inputs, i, context)
            guard let values = NormSupport.floatingValues(array, as: V.self), values.count == channels, array.rank == 1 else {
                throw context.failure("\(name) must be a 1-D float tensor of \(channels) channels, got \(array.elementType) \(array.shape)")
            }
            return values
        }
        var a: [V], b: [V]
        var running: [[V]] = []
        if let folded, folded.scale.count == channels {
            (a, b) = (folded.scale.map { V($0) }, folded.shift.map { V($0) })
        } else if !training {
            (a, b) = Self.fold(scale: try parameter(1, "scale"), bias: try parameter(2, "B"), mean: try parameter(3, "input_mean"),
                               variance: try parameter(4, "input_var"), epsilon: V(epsilon))
        } else {
            let (mean, variance) = batchStatistics(S.self, xs, batch: batch, channels: channels, spatial: spatial, threads: context.threads)
            (a, b) = Self.fold(scale: try parameter(1, "scale"), bias: try parameter(2, "B"), mean: mean, variance: variance, epsilon: V(epsilon))
            let m = V(momentum)
            for (input, batchValue) in [(try parameter(3, "input_mean"), mean), (try parameter(4, "input_var"), variance)] {
                running.append(input.indices.map { input[$0] * m + batchValue[$0] * (1 - m) })
            }
        }

        let y = context.output(0, x.elementType, x.shape)
        let ys = y.pointer(as: S.Stored.self)
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                Parallel.chunks(batch * channels, threads: context.threads, grain: NormSupport.grain(workPerItem: spatial)) { planes in
                    for plane in planes {
                        let c = plane % channels, start = plane * spatial
                        let scale = a[c], shift = b[c]
                        for k in start..<(start + spatial) { ys[k] = S.store(S.load(xs[k]) * scale + shift) }
                    }
                }
            }
        }
        var results: [NDArray?] = [y]
        for (k, values) in running.enumerated() where NormSupport.wants(context.node, k + 1) {
            // Running statistics keep the type of the statistics given (T2 in opset 15).
            let type = inputs[3 + k]?.elementType ?? x.elementType
            let out = context.output(k + 1, type, [channels])
            guard NormSupport.store(values, into: out) else { throw context.failure("cannot write \(type) statistics") }
            results.append(out)
        }
        return NormSupport.results(results, for: context.node)
    }

    /// Per-channel mean and population variance over the batch and spatial dims (two passes).
    private func batchStatistics<S: ComputeStorage>(
        _: S.Type, _ xs: UnsafeMutablePointer<S.Stored>, batch: Int, channels: Int, spatial: Int, threads: Int
    ) -> (mean: [S.Value], variance: [S.Value]) where S.Value: ComputeFloat {
        typealias V = S.Value
        var mean = [V](repeating: 0, count: channels), variance = [V](repeating: 0, count: channels)
        let count = V(batch * spatial)
        mean.withUnsafeMutableBufferPointer { mean in
            variance.withUnsafeMutableBufferPointer { variance in
                Parallel.forEach(channels, threads: threads, grain: NormSupport.grain(workPerItem: 2 * batch * spatial)) { c in
                    var total: V = 0
                    for n in 0..<batch {
                        let plane = xs + (n * channels + c) * spatial
                        total += NormSupport.sum(spatial) { S.load(plane[$0]) }
                    }
                    let mu = count > 0 ? total / count : 0
                    var squares: V = 0
                    for n in 0..<batch {
                        let plane = xs + (n * channels + c) * spatial
                        squares += NormSupport.sum(spatial) { k in
                            let d = S.load(plane[k]) - mu
                            return d * d
                        }
                    }
                    mean[c] = mu
                    variance[c] = count > 0 ? squares / count : 0
                }
            }
        }
        return (mean, variance)
    }
}
