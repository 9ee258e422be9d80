import Graph

/// LayerNormalization (opset 17): normalizes over the dims from `axis` on, then applies Scale and
/// B (broadcast to those dims). Optional outputs Mean and InvStdDev, per leading index, have the
/// `stash_type` element type (float32 by default).
struct LayerNormalization: FloatingPointKernel {
    let axis: Int64
    let epsilon: Float
    let stashType: ElementType

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        let node = context.node
        let raw = node.int("stash_type", default: 1)
        guard let stash = ElementType(rawValue: Int(raw)), [.float32, .float64, .float16, .bfloat16].contains(stash) else {
            throw context.invalid("stash_type \(raw) is not float32, float64, float16 or bfloat16")
        }
        return LayerNormalization(axis: node.int("axis", default: -1), epsilon: node.float("epsilon") ?? 1e-5, stashType: stash)
    }

    func compute<S: ComputeStorage>(_: S.Type, _ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray]
        where S.Value: ComputeFloat {
        let x = try NormSupport.required(inputs, 0, context)
        let scaleArray = try NormSupport.required(inputs, 1, context)
        guard let axis = NormSupport.axis(axis, rank: x.rank) else {
            throw context.failure("axis \(self.axis) is out of range for input of shape \(x.shape)")
        }
        let normalized = Array(x.shape[axis...])
        let rows = x.shape[..<axis].reduce(1, *), length = normalized.reduce(1, *)
        func parameter(_ array: NDArray, _ name: String) throws -> [S.Value] {
            guard let values = NormSupport.floatingValues(array, as: S.Value.self),
                  let spread = NormSupport.broadcast(values, shape: array.shape, to: normalized) else {
                throw context.failure("\(name) of shape \(array.shape) (\(array.elementType)) does not broadcast to the normalized shape \(normalized)")
            }
            return spread
        }
        let scale = try parameter(scaleArray, "Scale")
        let bias = try inputs.count > 2 ? inputs[2].map { try parameter($0, "B") } ?? [] : []

        let y = context.output(0, x.elementType, x.shape)
        let node = context.node
        var mean = [S.Value](repeating: 0, count: NormSupport.wants(node, 1) ? rows : 0)
        var invStdDev = [S.Value](repeating: 0, count: NormSupport.wants(node, 2) ? rows : 0)
        mean.withUnsafeMutableBufferPointer { mean in
            invStdDev.withUnsafeMutableBufferPointer { inv in
                NormSupport.normalizeRows(
                    S.self, x.pointer(as: S.Stored.self), y.pointer(as: S.Stored.self), rows: rows, length: length,
                    epsilon: S.Value(epsilon), scale: scale, bias: bias, layout: AffineLayout(period: 1, stride: 0, block: 1),
                    // An empty array's buffer may still have an address: pass nil for unwanted statistics.
                    mean: mean.isEmpty ? nil : mean.baseAddress, invStdDev: inv.isEmpty ? nil : inv.baseAddress,
                    threads: context.threads)
            }
        }
        let statsShape = Array(x.shape[..<axis]) + Array(repeating: 1, count: x.rank - axis)
        var results: [NDArray?] = [y, nil, nil]
        for (i, values) in [(1, mean), (2, invStdDev)] where NormSupport.wants(node, i) {
            let stats = context.output(i, stashType, statsShape)
            NormSupport.store(values, into: stats)
            results[i] = stats
        }
        return NormSupport.results(results, for: node)
    }
}
