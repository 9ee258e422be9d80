import Foundation
import Graph

// Shared by the normalization family: how element types are stored and computed, the arithmetic
// the generic reductions need, float-kernel dispatch, and the row loops of softmax and of the
// mean/variance normalizations (LayerNorm, InstanceNorm, GroupNorm).

// MARK: Element storage

/// How elements are stored in a buffer and which type kernels compute them in: float16 and
/// bfloat16 are stored as bits and computed as Float; every other type as itself.
protocol ComputeStorage {
    associatedtype Stored
    associatedtype Value
    static func load(_ stored: Stored) -> Value
    static func store(_ value: Value) -> Stored
}

/// Elements computed in their stored type (Float, Double, integers, bool as UInt8).
enum NativeStorage<T>: ComputeStorage {
    @inline(__always) static func load(_ stored: T) -> T { stored }
    @inline(__always) static func store(_ value: T) -> T { value }
}

/// IEEE half precision, computed as Float (conversions from Graph's SmallFloats).
enum HalfStorage: ComputeStorage {
    @inline(__always) static func load(_ stored: UInt16) -> Float { halfToFloat(stored) }
    /// Rounds to the nearest half, ties to even; overflow gives infinity.
    @inline(__always) static func store(_ value: Float) -> UInt16 { floatToHalf(value) }
}

/// bfloat16 (the upper half of a float32), computed as Float.
enum BFloat16Storage: ComputeStorage {
    @inline(__always) static func load(_ stored: UInt16) -> Float { bfloat16ToFloat(stored) }
    /// Rounds to the nearest bfloat16, ties to even; NaN stays a quiet NaN.
    @inline(__always) static func store(_ value: Float) -> UInt16 { floatToBFloat16(value) }
}

// MARK: Arithmetic for generic kernels

/// The arithmetic reductions need, for floats and integers alike. Integer arithmetic wraps (as
/// numpy's does) instead of trapping, and the transcendental functions go through Double.
protocol ReduceValue: Comparable {
    static var zero: Self { get }
    static var one: Self { get }
    /// The identity of max: −∞ for floats, the smallest value for integers.
    static var lowest: Self { get }
    /// The identity of min: +∞ for floats, the largest value for integers.
    static var highest: Self { get }
    static func add(_ a: Self, _ b: Self) -> Self
    static func subtract(_ a: Self, _ b: Self) -> Self
    static func multiply(_ a: Self, _ b: Self) -> Self
    static func absolute(_ a: Self) -> Self
    static func exp(_ a: Self) -> Self
    static func log(_ a: Self) -> Self
    static func sqrt(_ a: Self) -> Self
    var isNaNValue: Bool { get }
    /// `self / count` (integers truncate and give 0 for an empty count; floats give NaN).
    func divided(byCount count: Int) -> Self
}

/// The types floating-point kernels compute in: Float and Double.
protocol ComputeFloat: ReduceValue, BinaryFloatingPoint {}

extension ReduceValue where Self: BinaryFloatingPoint {
    static var zero: Self { 0 }
    static var one: Self { 1 }
    static var lowest: Self { -.infinity }
    static var highest: Self { .infinity }
    @inline(__always) static func add(_ a: Self, _ b: Self) -> Self { a + b }
    @inline(__always) static func subtract(_ a: Self, _ b: Self) -> Self { a - b }
    @inline(__always) static func multiply(_ a: Self, _ b: Self) -> Self { a * b }
    @inline(__always) static func absolute(_ a: Self) -> Self { Swift.abs(a) }
    @inline(__always) var isNaNValue: Bool { isNaN }
    func divided(byCount count: Int) -> Self { self / Self(count) }
}

extension Float: ComputeFloat {
    @inline(__always) static func exp(_ a: Float) -> Float { Foundation.exp(a) }
    @inline(__always) static func log(_ a: Float) -> Float { Foundation.log(a) }
    @inline(__always) static func sqrt(_ a: Float) -> Float { a.squareRoot() }
}

extension Double: ComputeFloat {
    @inline(__always) static func exp(_ a: Double) -> Double { Foundation.exp(a) }
    @inline(__always) static func log(_ a: Double) -> Double { Foundation.log(a) }
    @inline(__always) static func sqrt(_ a: Double) -> Double { a.squareRoot() }
}

extension ReduceValue where Self: FixedWidthInteger {
    static var zero: Self { 0 }
    static var one: Self { 1 }
    static var lowest: Self { .min }
    static var highest: Self { .max }
    @inline(__always) static func add(_ a: Self, _ b: Self) -> Self { a &+ b }
    @inline(__always) static func subtract(_ a: Self, _ b: Self) -> Self { a &- b }
    @inline(__always) static func multiply(_ a: Self, _ b: Self) -> Self { a &* b }
    @inline(__always) static func absolute(_ a: Self) -> Self { a < 0 ? 0 &- a : a }
    static func exp(_ a: Self) -> Self { Self(nearestInRange: Foundation.exp(Double(a))) }
    static func log(_ a: Self) -> Self { Self(nearestInRange: Foundation.log(Double(a))) }
    static func sqrt(_ a: Self) -> Self { Self(nearestInRange: Double(a).squareRoot()) }
    var isNaNValue: Bool { false }
    func divided(byCount count: Int) -> Self {
        count == 0 ? 0 : Self(nearestInRange: (Double(self) / Double(count)).rounded(.towardZero))
    }

    /// The integer nearest `value` within the type's range (NaN gives 0), without trapping.
    init(nearestInRange value: Double) {
        if value.isNaN {
            self = 0
        } else if value <= Double(Self.min) {
            self = .min
        } else if value >= Double(Self.max) {
            self = .max
        } else {
            self = Self(value)
        }
    }
}

extension Int8: ReduceValue {}
extension Int16: ReduceValue {}
extension Int32: ReduceValue {}
extension Int64: ReduceValue {}
extension UInt8: ReduceValue {}
extension UInt16: ReduceValue {}
extension UInt32: ReduceValue {}
extension UInt64: ReduceValue {}

// MARK: Floating-point kernels

/// A kernel defined for floating-point inputs: `compute` is written once, generic over the storage
/// of input 0's element type (float32, float64, float16, bfloat16).
protocol FloatingPointKernel: Kernel {
    func compute<S: ComputeStorage>(_ storage: S.Type, _ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray]
        where S.Value: ComputeFloat
}

extension FloatingPointKernel {
    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let x = try NormSupport.required(inputs, 0, context)
        switch x.elementType {
        case .float32: return try compute(NativeStorage<Float>.self, inputs, context)
        case .float64: return try compute(NativeStorage<Double>.self, inputs, context)
        case .float16: return try compute(HalfStorage.self, inputs, context)
        case .bfloat16: return try compute(BFloat16Storage.self, inputs, context)
        default: throw context.failure("\(context.node.opType) is defined for floating-point inputs, not \(x.elementType)")
        }
    }
}

// MARK: Helpers

/// Helpers of the normalization family, kept in a namespace so they cannot clash with others'.
enum NormSupport {
    /// Input `index`, or an error naming it when it is absent.
    static func required(_ inputs: [NDArray?], _ index: Int, _ context: KernelContext) throws -> NDArray {
        guard index < inputs.count, let value = inputs[index] else {
            throw context.failure("input \(index) is missing")
        }
        return value
    }

    /// `axis` in `0..<rank` (negative counts from the end), or nil when out of range.
    static func axis(_ axis: Int64, rank: Int) -> Int? {
        let resolved = axis < 0 ? axis + Int64(rank) : axis
        return resolved >= 0 && resolved < Int64(rank) ? Int(resolved) : nil
    }

    /// The elements of a floating-point array converted to `V`; nil for other element types.
    static func floatingValues<V: ComputeFloat>(_ array: NDArray, as: V.Type) -> [V]? {
        let n = array.count
        switch array.elementType {
        case .float32: return UnsafeBufferPointer(start: array.pointer(as: Float.self), count: n).map { V($0) }
        case .float64: return UnsafeBufferPointer(start: array.pointer(as: Double.self), count: n).map { V($0) }
        case .float16: return UnsafeBufferPointer(start: array.pointer(as: UInt16.self), count: n).map { V(HalfStorage.load($0)) }
        case .bfloat16: return UnsafeBufferPointer(start: array.pointer(as: UInt16.self), count: n).map { V(BFloat16Storage.load($0)) }
        default: return nil
        }
    }

    /// Stores `values` into a floating-point array of the same element count; false for other types.
    @discardableResult
    static func store<V: ComputeFloat>(_ values: [V], into array: NDArray) -> Bool {
        switch array.elementType {
        case .float32: store(values, NativeStorage<Float>.self, array)
        case .float64: store(values, NativeStorage<Double>.self, array)
        case .float16: store(values, HalfStorage.self, array)
        case .bfloat16: store(values, BFloat16Storage.self, array)
        default: return false
        }
        return true
    }

    private static func store<V: ComputeFloat, S: ComputeStorage>(_ values: [V], _: S.Type, _ array: NDArray)
        where S.Value: ComputeFloat {
        let out = array.pointer(as: S.Stored.self)
        for (i, v) in values.prefix(array.count).enumerated() { out[i] = S.store(S.Value(v)) }
    }

    /// A shape seen as `outer × n × inner` around `axis` (`n` = the axis size).
    static func split(_ shape: [Int], axis: Int) -> (outer: Int, n: Int, inner: Int) {
        (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }

    /// `values` of shape `shape` broadcast (numpy rules, aligned right) to `target`; nil when
    /// they do not broadcast.
    static func broadcast<V>(_ values: [V], shape: [Int], to target: [Int]) -> [V]? {
        guard shape.count <= target.count, values.count == shape.reduce(1, *) else { return nil }
        let padded = Array(repeating: 1, count: target.count - shape.count) + shape
        guard zip(padded, target).allSatisfy({ $0 == $1 || $0 == 1 }) else { return nil }
        if padded == target { return values }
        // Walk the target in row-major order; a broadcast dim has source stride 0.
        var strides = Array(repeating: 0, count: target.count)
        var step = 1
        for d in stride(from: target.count - 1, through: 0, by: -1) {
            strides[d] = padded[d] == 1 ? 0 : step
            step *= padded[d]
        }
        var offsets = [0]
        for d in target.indices {
            offsets = offsets.flatMap { b in (0..<target[d]).map { b + $0 * strides[d] } }
        }
        return offsets.map { values[$0] }
    }

    /// One result per output of `node`: `values` where given, an empty placeholder for outputs the
    /// node leaves unnamed (the session expects results to line up with the node's outputs).
    static func results(_ values: [NDArray?], for node: Node) -> [NDArray] {
        node.outputs.indices.map { i in
            (i < values.count ? values[i] : nil) ?? NDArray(.float32, shape: [0])
        }
    }

    /// Whether `node` names output `index`.
    static func wants(_ node: Node, _ index: Int) -> Bool { index < node.outputs.count && !node.outputs[index].isEmpty }

    /// Iterations per parallel chunk so that a chunk does at least ~16k elements of work.
    static func grain(workPerItem: Int) -> Int { max(1, 16_384 / max(workPerItem, 1)) }
}

// MARK: Softmax rows

/// Softmax and LogSoftmax. From opset 13 they normalize along `axis` (default −1); before, over
/// the input flattened to 2-D at `axis` (default 1), i.e. over all dims from `axis` on.
struct SoftmaxKernel: FloatingPointKernel {
    let axis: Int64
    let flattens: Bool
    let log: Bool

    init(_ context: KernelBuildContext, log: Bool) {
        flattens = context.opsetVersion < 13
        axis = context.node.int("axis", default: flattens ? 1 : -1)
        self.log = log
    }

    func compute<S: ComputeStorage>(_: S.Type, _ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray]
        where S.Value: ComputeFloat {
        let x = try NormSupport.required(inputs, 0, context)
        // A scalar is treated as one element along its single implicit axis.
        let shape = x.rank == 0 ? [1] : x.shape
        guard let axis = NormSupport.axis(axis, rank: shape.count) else {
            throw context.failure("axis \(self.axis) is out of range for input of shape \(x.shape)")
        }
        var (outer, n, inner) = NormSupport.split(shape, axis: axis)
        if flattens { (n, inner) = (n * inner, 1) }
        let y = context.output(0, x.elementType, x.shape)
        NormSupport.softmax(S.self, x.pointer(as: S.Stored.self), y.pointer(as: S.Stored.self),
                            outer: outer, n: n, inner: inner, log: log, threads: context.threads)
        return [y]
    }
}

extension NormSupport {
    /// Softmax (or log-softmax) of `x` seen as `outer × n × inner` along the middle axis, stable
    /// against overflow by subtracting each slice's maximum first. (A NaN anywhere in a slice
    /// makes its sum, hence the whole slice, NaN, as in the reference.)
    static func softmax<S: ComputeStorage>(
        _: S.Type, _ x: UnsafePointer<S.Stored>, _ y: UnsafeMutablePointer<S.Stored>,
        outer: Int, n: Int, inner: Int, log: Bool, threads: Int
    ) where S.Value: ComputeFloat {
        typealias V = S.Value
        guard outer > 0, n > 0, inner > 0 else { return }
        if inner == 1 {
            // The common case: contiguous slices.
            Parallel.chunks(outer, threads: threads, grain: grain(workPerItem: n)) { rows in
                let exps = UnsafeMutablePointer<V>.allocate(capacity: n)
                defer { exps.deallocate() }
                for o in rows {
                    let xs = x + o * n, ys = y + o * n
                    var m = maximum(n) { S.load(xs[$0]) }
                    // An all −∞ slice would give −∞ − (−∞) = NaN; shifting by 0 keeps exp(−∞) = 0.
                    if m.isInfinite { m = 0 }
                    let total = sum(n) { k in
                        let e = V.exp(S.load(xs[k]) - m)
                        exps[k] = e
                        return e
                    }
                    if log {
                        let shift = m + V.log(total)
                        for k in 0..<n { ys[k] = S.store(S.load(xs[k]) - shift) }
                    } else {
                        let scale = 1 / total
                        for k in 0..<n { ys[k] = S.store(exps[k] * scale) }
                    }
                }
            }
            return
        }
        // Slices at a stride (e.g. softmax over the channels of NCHW): tiles of up to `tile`
        // columns, each walked row by row, so that a batch of one still spreads over threads.
        let tile = min(inner, 256), tiles = (inner + tile - 1) / tile
        Parallel.chunks(outer * tiles, threads: threads, grain: grain(workPerItem: n * tile)) { tasks in
            let exps = UnsafeMutablePointer<V>.allocate(capacity: n * tile)
            let maxes = UnsafeMutablePointer<V>.allocate(capacity: tile)
            let sums = UnsafeMutablePointer<V>.allocate(capacity: tile)
            defer { exps.deallocate(); maxes.deallocate(); sums.deallocate() }
            for task in tasks {
                let first = (task % tiles) * tile, width = min(tile, inner - first)
                let xs = x + (task / tiles) * n * inner + first, ys = y + (task / tiles) * n * inner + first
                for i in 0..<width { maxes[i] = -.infinity; sums[i] = 0 }
                for k in 0..<n {
                    let row = xs + k * inner
                    for i in 0..<width {
                        let v = S.load(row[i])
                        maxes[i] = v > maxes[i] ? v : maxes[i]
                    }
                }
                for i in 0..<width where maxes[i].isInfinite { maxes[i] = 0 }
                for k in 0..<n {
                    let row = xs + k * inner, e = exps + k * width
                    for i in 0..<width {
                        e[i] = V.exp(S.load(row[i]) - maxes[i])
                        sums[i] += e[i]
                    }
                }
                if log {
                    for i in 0..<width { sums[i] = maxes[i] + V.log(sums[i]) }
                    for k in 0..<n {
                        let row = xs + k * inner, out = ys + k * inner
                        for i in 0..<width { out[i] = S.store(S.load(row[i]) - sums[i]) }
                    }
                } else {
                    for i in 0..<width { sums[i] = 1 / sums[i] }
                    for k in 0..<n {
                        let e = exps + k * width, out = ys + k * inner
                        for i in 0..<width { out[i] = S.store(e[i] * sums[i]) }
                    }
                }
            }
        }
    }

    /// max f(k) for k in 0..<n (−∞ when n is 0; NaNs are not looked for), with four partial
    /// maxima so that the comparisons do not form one dependency chain.
    @inline(__always)
    static func maximum<V: ComputeFloat>(_ n: Int, _ f: (Int) -> V) -> V {
        var m0 = -V.infinity, m1 = -V.infinity, m2 = -V.infinity, m3 = -V.infinity
        var k = 0
        while k + 4 <= n {
            let v0 = f(k), v1 = f(k + 1), v2 = f(k + 2), v3 = f(k + 3)
            m0 = v0 > m0 ? v0 : m0
            m1 = v1 > m1 ? v1 : m1
            m2 = v2 > m2 ? v2 : m2
            m3 = v3 > m3 ? v3 : m3
            k += 4
        }
        while k < n {
            let v = f(k)
            m0 = v > m0 ? v : m0
            k += 1
        }
        return Swift.max(Swift.max(m0, m1), Swift.max(m2, m3))
    }

    /// Σ f(k) for k in 0..<n, with four partial sums so that the additions do not form one
    /// dependency chain.
    @inline(__always)
    static func sum<V: ComputeFloat>(_ n: Int, _ f: (Int) -> V) -> V {
        var s0: V = 0, s1: V = 0, s2: V = 0, s3: V = 0
        var k = 0
        while k + 4 <= n {
            s0 += f(k)
            s1 += f(k + 1)
            s2 += f(k + 2)
            s3 += f(k + 3)
            k += 4
        }
        while k < n {
            s0 += f(k)
            k += 1
        }
        return (s0 + s1) + (s2 + s3)
    }
}

// MARK: Mean/variance normalization rows

/// Scale and bias of a normalization laid out along its rows: row `r` uses parameters starting at
/// `(r % period) · stride`, and each parameter covers `block` consecutive elements of the row.
/// LayerNorm: one parameter per element (period 1, stride 0, block 1); InstanceNorm: one per row
/// (period C, stride 1, block = row length); GroupNorm: one per channel of the group.
struct AffineLayout {
    var period: Int
    var stride: Int
    var block: Int
}

extension NormSupport {
    /// Normalizes each of `rows` rows of `length` elements to zero mean and unit variance, then
    /// applies `scale` and `bias` (bias may be empty) laid out by `layout`. Mean and variance are
    /// computed in two passes, as the ONNX reference does. Per-row mean and 1/σ go to `mean` and
    /// `invStdDev` when given.
    static func normalizeRows<S: ComputeStorage>(
        _: S.Type, _ x: UnsafePointer<S.Stored>, _ y: UnsafeMutablePointer<S.Stored>,
        rows: Int, length: Int, epsilon: S.Value, scale: [S.Value], bias: [S.Value], layout: AffineLayout,
        mean: UnsafeMutablePointer<S.Value>? = nil, invStdDev: UnsafeMutablePointer<S.Value>? = nil, threads: Int
    ) where S.Value: ComputeFloat {
        typealias V = S.Value
        guard rows > 0 else { return }
        let blocks = length / max(layout.block, 1)
        scale.withUnsafeBufferPointer { scale in
            bias.withUnsafeBufferPointer { bias in
                Parallel.chunks(rows, threads: threads, grain: grain(workPerItem: 3 * length)) { range in
                    for r in range {
                        let xs = x + r * length, ys = y + r * length
                        let mu = length > 0 ? sum(length) { S.load(xs[$0]) } / V(length) : 0
                        let squares = sum(length) { k in
                            let d = S.load(xs[k]) - mu
                            return d * d
                        }
                        let variance = length > 0 ? squares / V(length) : 0
                        let inv = 1 / V.sqrt(variance + epsilon)
                        mean?[r] = mu
                        invStdDev?[r] = inv
                        let first = (r % layout.period) * layout.stride
                        if layout.block == 1 {
                            for k in 0..<length {
                                let b = bias.isEmpty ? 0 : bias[first + k]
                                ys[k] = S.store((S.load(xs[k]) - mu) * inv * scale[first + k] + b)
                            }
                        } else {
                            for j in 0..<blocks {
                                let a = scale[first + j] * inv
                                let b = (bias.isEmpty ? 0 : bias[first + j]) - mu * a
                                let start = j * layout.block
                                for k in start..<(start + layout.block) { ys[k] = S.store(S.load(xs[k]) * a + b) }
                            }
                        }
                    }
                }
            }
        }
    }
}
