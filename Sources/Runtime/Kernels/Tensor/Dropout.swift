import Graph

/// Dropout. In inference (the default, and always before opset 12) Y is a copy of X and the
/// optional mask is all true. With `training_mode` true and a ratio > 0 it drops elements with
/// probability `ratio` and scales the rest by 1/(1 − ratio); the mask draws from MT19937 seeded by
/// the `seed` attribute exactly as numpy's `RandomState(seed).uniform` (ONNX's reference), so a
/// seeded node is reproducible; without a seed the generator is seeded at random.
struct DropoutKernel: Kernel {
    let opset: Int64
    let ratioAttribute: Float
    let seed: Int64?
    let wantsMask: Bool

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        let node = context.node
        return DropoutKernel(opset: context.opsetVersion, ratioAttribute: node.float("ratio") ?? 0.5, seed: node.int("seed"),
                             wantsMask: node.outputs.count > 1 && !node.outputs[1].isEmpty)
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let node = context.node
        let x = try TensorSupport.input(inputs, 0, node, "data")
        var training = false
        var ratio = ratioAttribute
        if opset >= 12 {
            if inputs.count > 2, let t = inputs[2] {
                guard t.elementType == .bool, t.count == 1 else { throw context.failure("training_mode must be a bool scalar") }
                training = t.pointer(as: UInt8.self)[0] != 0
            }
            if inputs.count > 1, let r = inputs[1] {
                guard r.count == 1, let value = TensorSupport.floatValues(r)?.first else { throw context.failure("ratio must be a scalar") }
                ratio = value
            } else {
                ratio = 0.5
            }
        }
        if !training || ratio == 0 {
            let y = TensorSupport.copy(x, shape: x.shape, context)
            guard wantsMask else { return [y] }
            // Opset 10 made the mask bool; before, it has the data's type.
            let maskType: ElementType = opset >= 10 ? .bool : x.elementType
            let mask = context.output(1, maskType, x.shape)
            let one = TensorSupport.elementBytes(1, as: maskType) ?? [1]
            one.withUnsafeBytes { TensorSupport.fill(mask.buffer.pointer, count: mask.count, element: $0.baseAddress!, width: one.count) }
            return [y, mask]
        }
        guard ratio > 0 && ratio < 1 else { throw context.failure("ratio \(ratio) must be in [0, 1) in training mode") }
        guard x.elementType.isFloatingPoint, TensorSupport.bridgesThroughFloat(x.elementType), let values = TensorSupport.floatValues(x) else {
            throw context.failure("training-mode Dropout supports floating-point data, found \(x.elementType)")
        }
        var generator: MersenneTwister
        if let seed {
            guard seed >= 0 && seed <= Int64(UInt32.max) else { throw context.failure("seed \(seed) must be in 0...2³²−1") }
            generator = MersenneTwister(seed: UInt32(seed))
        } else {
            generator = MersenneTwister(seed: UInt32.random(in: 0...UInt32.max))
        }
        let scale = 1 / (1 - Double(ratio))
        var result = [Float](repeating: 0, count: values.count)
        var keep = [UInt8](repeating: 0, count: values.count)
        for i in values.indices where generator.nextDouble() >= Double(ratio) {
            keep[i] = 1
            result[i] = Float(Double(values[i]) * scale)
        }
        let y = context.output(0, x.elementType, x.shape)
        result.withUnsafeBufferPointer { TensorSupport.store($0.baseAddress!, into: y) }
        guard wantsMask else { return [y] }
        let mask = context.output(1, .bool, x.shape)
        keep.withUnsafeBytes { mask.buffer.pointer.copyMemory(from: $0.baseAddress!, byteCount: keep.count) }
        return [y, mask]
    }
}

/// The MT19937 generator as numpy's legacy `RandomState` seeds and reads it.
private struct MersenneTwister {
    private var state = [UInt32](repeating: 0, count: 624)
    private var index = 624

    init(seed: UInt32) {
        state[0] = seed
        for i in 1..<624 { state[i] = 1_812_433_253 &* (state[i - 1] ^ (state[i - 1] >> 30)) &+ UInt32(i) }
    }

    mutating func next() -> UInt32 {
        if index >= 624 { twist() }
        var y = state[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C_5680
        y ^= (y << 15) & 0xEFC6_0000
        y ^= y >> 18
        return y
    }

    /// A double in [0, 1) from 53 random bits (numpy's `random_sample`).
    mutating func nextDouble() -> Double {
        let a = next() >> 5, b = next() >> 6
        return (Double(a) * 67_108_864 + Double(b)) / 9_007_199_254_740_992
    }

    private mutating func twist() {
        for i in 0..<624 {
            let y = (state[i] & 0x8000_0000) | (state[(i + 1) % 624] & 0x7FFF_FFFF)
            var v = state[(i + 397) % 624] ^ (y >> 1)
            if y & 1 != 0 { v ^= 0x9908_B0DF }
            state[i] = v
        }
        index = 0
    }
}
