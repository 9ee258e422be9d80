import Graph

// The driver shared by every Reduce* op and by ArgMax/ArgMin: reading axes (attribute or input,
// by opset), the output shape, where each output's group of input elements lies, type dispatch,
// and a parallel loop over output elements.

/// One Reduce* op: how a group of elements becomes one value.
protocol ReduceOperation: Sendable {
    /// First opset in which the axes come as input 1 instead of the `axes` attribute.
    static var axesInputSince: Int64 { get }
    /// Whether bool tensors are accepted (ReduceMax and ReduceMin, from opset 20).
    static var acceptsBool: Bool { get }
    /// The value of `group`; an empty group gives the op's value for the empty set.
    static func reduce<S: ComputeStorage>(_ group: ReduceGroup<S>) -> S.Value where S.Value: ReduceValue
}

extension ReduceOperation {
    static var axesInputSince: Int64 { 18 }
    static var acceptsBool: Bool { false }
}

/// The input elements reduced into one output element, computed in `S.Value`.
struct ReduceGroup<S: ComputeStorage> where S.Value: ReduceValue {
    let base: UnsafePointer<S.Stored>
    let count: Int
    /// Distance between consecutive elements, when they lie at a fixed stride.
    let stride: Int
    /// Offsets of the elements from `base`, when they do not.
    let offsets: UnsafePointer<Int>?

    @inline(__always) subscript(k: Int) -> S.Value {
        if let offsets { return S.load(base[offsets[k]]) }
        return S.load(base[k &* stride])
    }

    /// The largest element, or −∞ (the type's minimum) for an empty group; NaN propagates.
    func maximum() -> S.Value {
        var m = S.Value.lowest
        for k in 0..<count {
            let v = self[k]
            if v > m || v.isNaNValue { m = v }
        }
        return m
    }

    /// Σ f(element).
    @inline(__always) func sum(_ f: (S.Value) -> S.Value) -> S.Value {
        typealias V = S.Value
        var k = 0
        var s0 = V.zero
        if offsets == nil && stride == 1 {
            // Four partial sums break the dependency chain of a contiguous run (the order of the
            // additions changes, as with numpy's pairwise summation).
            var s1 = V.zero, s2 = V.zero, s3 = V.zero
            while k + 4 <= count {
                s0 = V.add(s0, f(S.load(base[k])))
                s1 = V.add(s1, f(S.load(base[k + 1])))
                s2 = V.add(s2, f(S.load(base[k + 2])))
                s3 = V.add(s3, f(S.load(base[k + 3])))
                k += 4
            }
            s0 = V.add(V.add(s0, s1), V.add(s2, s3))
        }
        while k < count {
            s0 = V.add(s0, f(self[k]))
            k += 1
        }
        return s0
    }
}

/// Where the group of each output element lies in the input. When the reduced axes form one run
/// once size-1 dims are dropped and neighbours merged (the usual case), output `o·inner + i` reads
/// `groupSize` elements at stride `inner` from `o·groupSize·inner + i`; otherwise tables give each
/// output's first element and the group's offsets from it.
struct ReduceGeometry {
    let outputShape: [Int]
    let outputCount: Int
    let groupSize: Int
    private let strided: Bool
    let inner: Int
    private let bases: [Int]
    let offsets: [Int]

    init(shape: [Int], reduced: [Bool], keepDims: Bool) {
        var outputShape: [Int] = []
        for (d, r) in zip(shape, reduced) where keepDims || !r { outputShape.append(r ? 1 : d) }
        self.outputShape = outputShape
        outputCount = outputShape.reduce(1, *)
        groupSize = zip(shape, reduced).reduce(1) { $1.1 ? $0 * $1.0 : $0 }

        var runs: [(size: Int, reduced: Bool)] = []
        for (d, r) in zip(shape, reduced) where d != 1 {
            if let last = runs.last, last.reduced == r { runs[runs.count - 1].size *= d } else { runs.append((d, r)) }
        }
        if runs.filter(\.reduced).count <= 1 {
            strided = true
            let run = runs.firstIndex(where: \.reduced)
            inner = run.map { runs[($0 + 1)...].reduce(1) { $0 * $1.size } } ?? 1
            bases = []
            offsets = []
        } else {
            strided = false
            inner = 0
            var strides = Array(repeating: 1, count: runs.count)
            for i in stride(from: runs.count - 2, through: 0, by: -1) { strides[i] = strides[i + 1] * runs[i + 1].size }
            let dims = zip(runs, strides).map { (size: $0.size, stride: $1, reduced: $0.reduced) }
            bases = Self.odometer(dims.filter { !$0.reduced })
            offsets = Self.odometer(dims.filter(\.reduced))
        }
    }

    /// Offset in the input of output element `j`'s first group element.
    @inline(__always) func base(_ j: Int) -> Int {
        strided ? (j / inner) * groupSize * inner + j % inner : bases[j]
    }

    /// True when the group's elements lie at stride `inner` (else at `offsets`).
    var isStrided: Bool { strided }

    /// Offsets of every index of `dims` in row-major order.
    private static func odometer(_ dims: [(size: Int, stride: Int, reduced: Bool)]) -> [Int] {
        var result = [0]
        for dim in dims {
            result = result.flatMap { b in (0..<dim.size).map { b + $0 * dim.stride } }
        }
        return result
    }
}

/// A Reduce* op: axes from the attribute (before `Op.axesInputSince`) or input 1, `keepdims`, and
/// `noop_with_empty_axes` (empty axes then reduce nothing, so each element is reduced alone).
///
/// Not generic over the op: a generic kernel type's `run` would execute unspecialized through
/// its witness table. The factory captures a closure specialized for the op instead.
struct ReduceKernel: Kernel {
    /// Known axes (attribute or constant input); nil means none were given.
    let axes: [Int64]?
    /// The axes arrive at run time as input 1.
    let axesAtRunTime: Bool
    let keepDims: Bool
    let noopWithEmptyAxes: Bool
    /// Reduces every group of the input into the output; false for an unsupported element type.
    let reduceGroups: @Sendable (_ x: NDArray, _ out: NDArray, _ geometry: ReduceGeometry, _ threads: Int) -> Bool

    /// The kernel factory of the Reduce* op `Op`.
    static func factory<Op: ReduceOperation>(_: Op.Type) -> KernelFactory {
        { context in
            let node = context.node
            var axes: [Int64]? = nil
            var atRunTime = false
            // Exporters are not always strict about the switch, so accept either form in any opset.
            if context.opsetVersion >= Op.axesInputSince || node.ints("axes") == nil, node.input(1) != nil {
                if let constant = context.constant(1) { axes = constant.int64Array() } else { atRunTime = true }
            } else {
                axes = node.ints("axes")
            }
            return ReduceKernel(
                axes: axes, axesAtRunTime: atRunTime, keepDims: node.int("keepdims", default: 1) != 0,
                noopWithEmptyAxes: node.int("noop_with_empty_axes", default: 0) != 0,
                reduceGroups: { x, out, geometry, threads in reduceAll(Op.self, x, out, geometry, threads) })
        }
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let x = try NormSupport.required(inputs, 0, context)
        var given = axes
        if axesAtRunTime, inputs.count > 1, let a = inputs[1] {
            guard a.elementType == .int64 || a.elementType == .int32, a.rank <= 1 else {
                throw context.failure("axes must be a 1-D integer tensor, got \(a.elementType) \(a.shape)")
            }
            given = a.int64Array()
        }
        var reduced = Array(repeating: !noopWithEmptyAxes, count: x.rank)
        if let given, !given.isEmpty {
            reduced = Array(repeating: false, count: x.rank)
            for a in given {
                guard let axis = NormSupport.axis(a, rank: x.rank) else {
                    throw context.failure("axis \(a) is out of range for input of shape \(x.shape)")
                }
                guard !reduced[axis] else { throw context.failure("axis \(a) is repeated in axes \(given)") }
                reduced[axis] = true
            }
        }
        let geometry = ReduceGeometry(shape: x.shape, reduced: reduced, keepDims: keepDims)
        let out = context.output(0, x.elementType, geometry.outputShape)
        guard reduceGroups(x, out, geometry, context.threads) else {
            throw context.failure("\(context.node.opType) does not support \(x.elementType) inputs")
        }
        return [out]
    }

    private static func reduceAll<Op: ReduceOperation>(
        _: Op.Type, _ x: NDArray, _ out: NDArray, _ geometry: ReduceGeometry, _ threads: Int
    ) -> Bool {
        switch x.elementType {
        case .float32: reduce(Op.self, NativeStorage<Float>.self, x, out, geometry, threads)
        case .float64: reduce(Op.self, NativeStorage<Double>.self, x, out, geometry, threads)
        case .float16: reduce(Op.self, HalfStorage.self, x, out, geometry, threads)
        case .bfloat16: reduce(Op.self, BFloat16Storage.self, x, out, geometry, threads)
        case .int8: reduce(Op.self, NativeStorage<Int8>.self, x, out, geometry, threads)
        case .int16: reduce(Op.self, NativeStorage<Int16>.self, x, out, geometry, threads)
        case .int32: reduce(Op.self, NativeStorage<Int32>.self, x, out, geometry, threads)
        case .int64: reduce(Op.self, NativeStorage<Int64>.self, x, out, geometry, threads)
        case .uint8: reduce(Op.self, NativeStorage<UInt8>.self, x, out, geometry, threads)
        case .uint16: reduce(Op.self, NativeStorage<UInt16>.self, x, out, geometry, threads)
        case .uint32: reduce(Op.self, NativeStorage<UInt32>.self, x, out, geometry, threads)
        case .uint64: reduce(Op.self, NativeStorage<UInt64>.self, x, out, geometry, threads)
        // Bools are 0 and 1 bytes, so max is "any" and min is "all".
        case .bool where Op.acceptsBool: reduce(Op.self, NativeStorage<UInt8>.self, x, out, geometry, threads)
        default: return false
        }
        return true
    }

    private static func reduce<Op: ReduceOperation, S: ComputeStorage>(
        _: Op.Type, _: S.Type, _ x: NDArray, _ out: NDArray, _ geometry: ReduceGeometry, _ threads: Int
    ) where S.Value: ReduceValue {
        let source = UnsafePointer(x.pointer(as: S.Stored.self))
        let target = out.pointer(as: S.Stored.self)
        let count = geometry.groupSize, stride = geometry.inner
        geometry.offsets.withUnsafeBufferPointer { offsets in
            let table = geometry.isStrided ? nil : offsets.baseAddress
            Parallel.chunks(geometry.outputCount, threads: threads, grain: NormSupport.grain(workPerItem: count)) { range in
                for j in range {
                    let group = ReduceGroup<S>(base: source + geometry.base(j), count: count, stride: stride, offsets: table)
                    target[j] = S.store(Op.reduce(group))
                }
            }
        }
    }
}

/// ArgMax and ArgMin: the int64 index of the extreme along `axis` (the first one, or the last
/// with `select_last_index`; a NaN counts as the extreme, as in numpy).
struct ArgReduceKernel: Kernel {
    let findMax: Bool
    let axis: Int64
    let keepDims: Bool
    let selectLast: Bool

    init(_ context: KernelBuildContext, findMax: Bool) {
        let node = context.node
        self.findMax = findMax
        axis = node.int("axis", default: 0)
        keepDims = node.int("keepdims", default: 1) != 0
        selectLast = node.int("select_last_index", default: 0) != 0
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let x = try NormSupport.required(inputs, 0, context)
        guard let axis = NormSupport.axis(axis, rank: x.rank) else {
            throw context.failure("axis \(self.axis) is out of range for input of shape \(x.shape)")
        }
        let (outer, n, inner) = NormSupport.split(x.shape, axis: axis)
        guard n > 0 || outer * inner == 0 else {
            throw context.failure("cannot take \(context.node.opType) over axis \(axis) of size 0")
        }
        var shape = x.shape
        if keepDims { shape[axis] = 1 } else { shape.remove(at: axis) }
        let out = context.output(0, .int64, shape)
        switch x.elementType {
        case .float32: search(NativeStorage<Float>.self, x, out, outer, n, inner, context.threads)
        case .float64: search(NativeStorage<Double>.self, x, out, outer, n, inner, context.threads)
        case .float16: search(HalfStorage.self, x, out, outer, n, inner, context.threads)
        case .bfloat16: search(BFloat16Storage.self, x, out, outer, n, inner, context.threads)
        case .int8: search(NativeStorage<Int8>.self, x, out, outer, n, inner, context.threads)
        case .int16: search(NativeStorage<Int16>.self, x, out, outer, n, inner, context.threads)
        case .int32: search(NativeStorage<Int32>.self, x, out, outer, n, inner, context.threads)
        case .int64: search(NativeStorage<Int64>.self, x, out, outer, n, inner, context.threads)
        case .uint8: search(NativeStorage<UInt8>.self, x, out, outer, n, inner, context.threads)
        case .uint16: search(NativeStorage<UInt16>.self, x, out, outer, n, inner, context.threads)
        case .uint32: search(NativeStorage<UInt32>.self, x, out, outer, n, inner, context.threads)
        case .uint64: search(NativeStorage<UInt64>.self, x, out, outer, n, inner, context.threads)
        default: throw context.failure("\(context.node.opType) does not support \(x.elementType) inputs")
        }
        return [out]
    }

    private func search<S: ComputeStorage>(
        _: S.Type, _ x: NDArray, _ out: NDArray, _ outer: Int, _ n: Int, _ inner: Int, _ threads: Int
    ) where S.Value: ReduceValue {
        let source = x.pointer(as: S.Stored.self)
        let target = out.pointer(as: Int64.self)
        let findMax = findMax, selectLast = selectLast
        Parallel.chunks(outer * inner, threads: threads, grain: NormSupport.grain(workPerItem: n)) { range in
            for j in range {
                let row = source + (j / inner) * n * inner + j % inner
                var best = S.load(row[0]), index = 0
                for k in 1..<max(n, 1) {
                    let v = S.load(row[k * inner])
                    let better: Bool
                    if best.isNaNValue {
                        better = selectLast && v.isNaNValue
                    } else if v.isNaNValue {
                        better = true
                    } else if v == best {
                        better = selectLast
                    } else {
                        better = findMax ? v > best : v < best
                    }
                    if better { best = v; index = k }
                }
                target[j] = Int64(index)
            }
        }
    }
}
