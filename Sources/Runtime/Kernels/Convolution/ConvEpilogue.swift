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

        /// The ONNX op this activation is.
        var opType: String {
            switch self {
            case .relu: "Relu"
            case .leakyRelu: "LeakyRelu"
            case .clip: "Clip"
            case .hardSigmoid: "HardSigmoid"
            case .hardSwish: "HardSwish"
            case .sigmoid: "Sigmoid"
            case .tanh: "Tanh"
            }
        }
    }

    var activation: Activation?
    /// The fused node adds its input 3, of the output's shape, before the activation.
    var addsSummand = false
    /// The conv leaves its bias and activation to its only reader, a depthwise conv that applies
    /// them as it reads its input (see ConvFusion.handFinishesToDepthwiseReaders): its own output
    /// is the bare product.
    var leavesFinishToReader = false
    /// The finish this conv applies to its input 0 as it reads it, left there by the conv that
    /// produced it.
    var inputFinish: InputFinish?

    /// Bias and activation of a producing conv, applied by its reader: x → clamp(x + bias[c])
    /// per channel c. Relu is the clamp to [0, ∞), which gives exactly Relu's results.
    struct InputFinish: Sendable, Hashable {
        var lower: Float
        var upper: Float
        /// The node input holding the per-channel bias (a constant), when the producer has one.
        var biasInput: Int?
    }

    /// The epilogue bound to one run's summand.
    func bound(summand: UnsafePointer<Float>?) -> ConvFinish { ConvFinish(activation: activation, summand: summand) }
}

/// A conv epilogue for one run: `apply` finishes a range of the output in one vectorized pass.
struct ConvFinish {
    let activation: ConvEpilogue.Activation?
    /// The tensor added to the output (same shape and layout), when fused.
    let summand: UnsafePointer<Float>?

    /// Only adds a bias (an unfused float32 conv's finish).
    static var biasOnly: ConvFinish { ConvFinish(activation: nil, summand: nil) }

    /// Finishes output elements `offset..<offset + count` of `y`: adds `bias` (one output
    /// channel's, when the product did not start from it), then the summand, then applies the
    /// activation. Each step is the standalone kernel's own lane-wise function, so the result is
    /// exactly what the unfused nodes compute. Never inlined: compiled on its own, each
    /// activation's loop reliably becomes vector max/min, where inside a large kernel LLVM left
    /// the same lanes scalar (MobileNetV2 0.7 ms, ResNet-50 50 ms slower); a call per row is cheap.
    @inline(never)
    func apply(_ y: UnsafeMutablePointer<Float>, offset: Int, count: Int, bias: Float? = nil) {
        guard let activation else { return pass(y, offset, count, bias) { $0 } }
        switch activation {
        case .relu: pass(y, offset, count, bias) { ReluOp.apply($0) }
        case .leakyRelu(let alpha): pass(y, offset, count, bias) { LeakyReluOp(alpha: alpha).apply($0) }
        case .clip(let lower, let upper):
            // A missing bound clamps to infinity, which leaves every value as it is.
            let lo = lower ?? -.infinity, hi = upper ?? .infinity
            pass(y, offset, count, bias) { ClipKernel.clamp($0, lower: lo, upper: hi) }
        case .hardSigmoid(let alpha, let beta): pass(y, offset, count, bias) { HardSigmoidOp(alpha: alpha, beta: beta).apply($0) }
        case .hardSwish: pass(y, offset, count, bias) { HardSwishOp.apply($0) }
        case .sigmoid: pass(y, offset, count, bias) { $0.eachLane { SigmoidOp().apply($0, FloatArithmetic.self) } }
        case .tanh: pass(y, offset, count, bias) { $0.eachLane { TanhOp().apply($0, FloatArithmetic.self) } }
        }
    }

    /// Finishes output elements `offset..<offset + count` of a generic conv's output, which is
    /// float32 whenever an epilogue exists (fusion requires float32 weights).
    @inline(__always)
    func apply<T>(_ y: UnsafeMutablePointer<T>, offset: Int, count: Int, bias: T? = nil) {
        precondition(T.self == Float.self, "conv epilogues run on float32 outputs only")
        apply(UnsafeMutableRawPointer(y).assumingMemoryBound(to: Float.self), offset: offset, count: count,
              bias: bias.map { unsafeBitCast($0, to: Float.self) })
    }

    typealias Vector = SIMD8<Float>

    /// y = f(y + bias + summand) over the range, eight elements at a time; the last few go
    /// through a zero-filled vector so `f` is the only definition of the function.
    @inline(__always)
    private func pass(_ y: UnsafeMutablePointer<Float>, _ offset: Int, _ count: Int, _ bias: Float?, _ f: (Vector) -> Vector) {
        let p = y + offset, s = summand.map { $0 + offset }
        @inline(__always) func finish(_ v: Vector, at i: Int) -> Vector {
            var v = v
            if let bias { v += Vector(repeating: bias) }
            if let s { v += UnsafeRawPointer(s + i).loadUnaligned(as: Vector.self) }
            return f(v)
        }
        var i = 0
        while i + 8 <= count {
            let v = UnsafeRawPointer(p + i).loadUnaligned(as: Vector.self)
            UnsafeMutableRawPointer(p + i).storeBytes(of: finish(v, at: i), as: Vector.self)
            i += 8
        }
        guard i < count else { return }
        let rest = count - i
        var v = Vector(repeating: 0)
        for lane in 0..<rest { v[lane] = p[i + lane] }
        if let bias { v += Vector(repeating: bias) }
        if let s {
            var z = Vector(repeating: 0)
            for lane in 0..<rest { z[lane] = s[i + lane] }
            v += z
        }
        let r = f(v)
        for lane in 0..<rest { p[i + lane] = r[lane] }
    }
}

/// A function a kernel applies in registers, on eight lanes (before storing outputs, or while
/// copying inputs) and on single values (row tails), so that it needs no pass of its own.
/// Kernels are generic over it, one specialization per type.
protocol LaneFunction {
    func callAsFunction(_ v: SIMD8<Float>) -> SIMD8<Float>
    func callAsFunction(_ v: Float) -> Float
}

/// No change.
struct UnchangedLanes: LaneFunction {
    @inline(__always) func callAsFunction(_ v: SIMD8<Float>) -> SIMD8<Float> { v }
    @inline(__always) func callAsFunction(_ v: Float) -> Float { v }
}

/// Relu, as the standalone kernel computes it.
struct ReluLanes: LaneFunction {
    @inline(__always) func callAsFunction(_ v: SIMD8<Float>) -> SIMD8<Float> { ReluOp.apply(v) }
    @inline(__always) func callAsFunction(_ v: Float) -> Float { ReluOp().apply(v, FloatArithmetic.self) }
}

/// Clip with both bounds (a missing one is infinite), as the standalone kernel computes it.
struct ClampedLanes: LaneFunction {
    let lower: Float
    let upper: Float
    @inline(__always) func callAsFunction(_ v: SIMD8<Float>) -> SIMD8<Float> { ClipKernel.clamp(v, lower: lower, upper: upper) }
    @inline(__always) func callAsFunction(_ v: Float) -> Float { ClipKernel.clamp(v, lower: lower, upper: upper) }
}

/// A producing conv's bias and activation for one run (see ConvEpilogue.InputFinish), applied to
/// the reading conv's input: x → clamp(x + bias[c], lower, upper) on channel c.
struct InputFinishValues {
    let lower: Float
    let upper: Float
    /// One value per input channel; absent when the producer has no bias.
    let bias: UnsafePointer<Float>?

    /// The finish of one channel as lane functions. Without a bias it adds −0, which leaves every
    /// value exactly as it is (−0 included), so one code path serves both.
    func channel(_ c: Int) -> ChannelFinish { ChannelFinish(add: bias?[c] ?? -0.0, lower: lower, upper: upper) }

    /// Finishes `count` values of channel `channel` in place (float32 only, as every fused conv).
    func apply<T>(_ x: UnsafeMutablePointer<T>, count: Int, channel: Int) {
        precondition(T.self == Float.self, "an input finish runs on float32 inputs only")
        ConvFinish(activation: .clip(lower: lower, upper: upper), summand: nil)
            .apply(UnsafeMutableRawPointer(x).assumingMemoryBound(to: Float.self), offset: 0, count: count, bias: self.channel(channel).add)
    }
}

/// One channel's input finish (see InputFinishValues), on lanes and on single values alike.
struct ChannelFinish: LaneFunction {
    let add: Float
    let lower: Float
    let upper: Float

    @inline(__always) func callAsFunction(_ v: SIMD8<Float>) -> SIMD8<Float> {
        ClipKernel.clamp(v + SIMD8(repeating: add), lower: lower, upper: upper)
    }

    @inline(__always) func callAsFunction(_ v: Float) -> Float { ClipKernel.clamp(v + add, lower: lower, upper: upper) }
}
