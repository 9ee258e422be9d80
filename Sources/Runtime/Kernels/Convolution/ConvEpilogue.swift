import Graph

/// Work a fused conv does on its output while each block is still in cache: add a tensor of the
/// output's shape (a residual branch), then apply an activation. Session creation fuses the
/// nodes that did this separately (see ConvFusion); the element functions are the standalone
/// kernels' own, so fused and unfused results differ only in the rounding of the bias.
struct ConvEpilogue: Sendable, Hashable {
    enum Activation: Sendable, Hashable {
        case relu
        case leakyRelu(alpha: Float)
        /// Either bound may be absent, as in Clip.
        case clip(lower: Float?, upper: Float?)
        case hardSigmoid(alpha: Float, beta: Float)
        case hardSwish
        case sigmoid
        case tanh
    }

    var activation: Activation?
    /// The fused node adds its input 3, of the output's shape, before the activation.
    var addsSummand = false

    /// The epilogue bound to one run's summand.
    func bound(summand: UnsafePointer<Float>?) -> ConvFinish { ConvFinish(activation: activation, summand: summand) }
}

/// A conv epilogue for one run: `apply` finishes a range of the output.
struct ConvFinish {
    let activation: ConvEpilogue.Activation?
    /// The tensor added to the output (same shape and layout), when fused.
    let summand: UnsafePointer<Float>?

    /// Finishes output elements `offset..<offset + count` of `y`.
    @inline(__always)
    func apply(_ y: UnsafeMutablePointer<Float>, offset: Int, count: Int) {
        let p = y + offset
        if let summand {
            let s = summand + offset
            for i in 0..<count { p[i] += s[i] }
        }
        guard let activation else { return }
        switch activation {
        case .relu: map(p, count, NumericUnary<ReluOp, FloatArithmetic>(op: ReluOp()))
        case .leakyRelu(let alpha): map(p, count, RealUnary<LeakyReluOp, FloatArithmetic>(op: LeakyReluOp(alpha: alpha)))
        case .clip(let lower, let upper):
            if let lower { for i in 0..<count { p[i] = FloatArithmetic.maximum(p[i], lower) } }
            if let upper { for i in 0..<count { p[i] = FloatArithmetic.minimum(p[i], upper) } }
        case .hardSigmoid(let alpha, let beta): map(p, count, RealUnary<HardSigmoidOp, FloatArithmetic>(op: HardSigmoidOp(alpha: alpha, beta: beta)))
        case .hardSwish: map(p, count, RealUnary<HardSwishOp, FloatArithmetic>(op: HardSwishOp()))
        case .sigmoid: map(p, count, RealUnary<SigmoidOp, FloatArithmetic>(op: SigmoidOp()))
        case .tanh: map(p, count, RealUnary<TanhOp, FloatArithmetic>(op: TanhOp()))
        }
    }

    /// Finishes output elements `offset..<offset + count` of a generic conv's output, which is
    /// float32 whenever an epilogue exists (fusion requires float32 weights).
    @inline(__always)
    func apply<T>(_ y: UnsafeMutablePointer<T>, offset: Int, count: Int) {
        precondition(T.self == Float.self, "conv epilogues run on float32 outputs only")
        apply(UnsafeMutableRawPointer(y).assumingMemoryBound(to: Float.self), offset: offset, count: count)
    }

    @inline(__always)
    private func map<F: UnaryFunction>(_ p: UnsafeMutablePointer<Float>, _ count: Int, _ f: F) where F.Input == Float, F.Output == Float {
        for i in 0..<count { p[i] = f(p[i]) }
    }
}
