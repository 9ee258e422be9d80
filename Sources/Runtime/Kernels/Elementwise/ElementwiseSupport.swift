import Graph

// Shared by the elementwise kernels: the broadcasting layout, the parallel loops that map and
// broadcast, the float32 bridge for float16/bfloat16, and the generic kernels most ops are
// (a unary map, a broadcasting binary op, a variadic op, a comparison, a logical op).

/// Elements per parallel chunk: elementwise loops are memory-bound, so chunks stay large.
let elementwiseGrain = 1 << 15

// MARK: Broadcasting

/// How operands broadcast (numpy rules) to an output shape, reduced to the fewest dimensions:
/// output dimensions of extent 1 are dropped and neighbours merged when every operand broadcasts
/// both alike. Loops then walk contiguous runs along the innermost merged dimension, in which each
/// operand either advances one element per step or repeats one element — so equal shapes are one
/// flat run, and scalar or per-channel operands are runs against a repeated value.
struct BroadcastLayout: Sendable {
    /// The output shape.
    let shape: [Int]
    /// Output elements.
    let count: Int
    /// Merged output dimensions, outermost first; at least one.
    private let dims: [Int]
    /// Per operand, its element stride along each merged dimension (0 where it broadcasts).
    private let strides: [[Int]]
    /// Per operand: 1 when it advances along the innermost merged dimension, 0 when it repeats.
    let innerStrides: [Int]

    /// Multidirectional broadcasting of `shapes` (Add, Where, Max, …); nil when they do not broadcast.
    init?(_ shapes: [[Int]]) {
        guard let output = broadcastShapes(shapes) else { return nil }
        self.init(output: output, operands: shapes)
    }

    /// Operands broadcast to a given output shape (unidirectional, as PRelu's slope); nil when
    /// one of them does not broadcast to it.
    init?(output: [Int], operands: [[Int]]) {
        let rank = output.count
        var padded: [[Int]] = []
        for shape in operands {
            guard shape.count <= rank else { return nil }
            let full = Array(repeating: 1, count: rank - shape.count) + shape
            for axis in 0..<rank where full[axis] != output[axis] && full[axis] != 1 { return nil }
            padded.append(full)
        }
        var dims: [Int] = []
        var advancing: [[Bool]] = []
        for axis in 0..<rank where output[axis] != 1 {
            let advances = padded.map { $0[axis] != 1 }
            if let last = advancing.last, last == advances {
                dims[dims.count - 1] *= output[axis]
            } else {
                dims.append(output[axis])
                advancing.append(advances)
            }
        }
        if dims.isEmpty {
            dims = [1]
            advancing = [Array(repeating: false, count: operands.count)]
        }
        var strides = Array(repeating: Array(repeating: 0, count: dims.count), count: operands.count)
        for k in operands.indices {
            var running = 1
            for d in stride(from: dims.count - 1, through: 0, by: -1) where advancing[d][k] {
                strides[k][d] = running
                running *= dims[d]
            }
        }
        self.shape = output
        self.count = output.reduce(1, *)
        self.dims = dims
        self.strides = strides
        self.innerStrides = strides.map { $0[dims.count - 1] }
    }

    /// Calls `body(outputStart, length, operandStarts)` for each contiguous run of output
    /// elements in `range`, in order. Inlined so that the body's element loop is compiled with
    /// the operation in it.
    @inline(__always)
    func forEachRun(in range: Range<Int>, _ body: (Int, Int, [Int]) -> Void) {
        guard !range.isEmpty else { return }
        let operands = strides.count
        let inner = dims[dims.count - 1]
        let outer = dims.count - 1
        var coordinates = Array(repeating: 0, count: outer)
        var rowStarts = Array(repeating: 0, count: operands)
        var rest = range.lowerBound / inner
        for d in stride(from: outer - 1, through: 0, by: -1) {
            coordinates[d] = rest % dims[d]
            rest /= dims[d]
            for k in 0..<operands { rowStarts[k] += coordinates[d] * strides[k][d] }
        }
        var position = range.lowerBound
        var column = position % inner
        var starts = rowStarts
        while position < range.upperBound {
            let length = min(inner - column, range.upperBound - position)
            for k in 0..<operands { starts[k] = rowStarts[k] + column * innerStrides[k] }
            body(position, length, starts)
            position += length
            column = 0
            // Next row: an odometer over the outer dimensions.
            var d = outer - 1
            while d >= 0 {
                coordinates[d] += 1
                for k in 0..<operands { rowStarts[k] += strides[k][d] }
                if coordinates[d] < dims[d] { break }
                for k in 0..<operands { rowStarts[k] -= strides[k][d] * dims[d] }
                coordinates[d] = 0
                d -= 1
            }
        }
    }
}

// MARK: Loops

/// An element function as a value of its own type. The loops below are specialized for that
/// type, so each chunk's loop calls it directly and vectorizes; a closure captured by a parallel
/// chunk would be an indirect call per element (4–7× slower on Relu and Clip).
protocol UnaryFunction {
    associatedtype Input
    associatedtype Output
    func callAsFunction(_ x: Input) -> Output
}

/// A function of two elements, as `UnaryFunction`.
protocol BinaryFunction {
    associatedtype Left
    associatedtype Right
    associatedtype Output
    func callAsFunction(_ a: Left, _ b: Right) -> Output
}

/// A closure as a `UnaryFunction`, for call sites off the hot paths.
struct UnaryClosure<Input, Output>: UnaryFunction {
    let body: (Input) -> Output
    @inline(__always) func callAsFunction(_ x: Input) -> Output { body(x) }
}

/// A closure as a `BinaryFunction`.
struct BinaryClosure<Left, Right, Output>: BinaryFunction {
    let body: (Left, Right) -> Output
    @inline(__always) func callAsFunction(_ a: Left, _ b: Right) -> Output { body(a, b) }
}

/// out[i] = f(x[i]) for `count` elements, in parallel chunks.
@inline(__always)
func elementwiseMap<F: UnaryFunction>(
    _ x: UnsafePointer<F.Input>, _ out: UnsafeMutablePointer<F.Output>, count: Int, threads: Int, _ f: F
) {
    Parallel.chunks(count, threads: threads, grain: elementwiseGrain) { range in
        for i in range { out[i] = f(x[i]) }
    }
}

/// out[i] = op(x[i]) for `count` elements, in parallel chunks.
@inline(__always)
func elementwiseMap<A, R>(
    _ x: UnsafePointer<A>, _ out: UnsafeMutablePointer<R>, count: Int, threads: Int, _ op: (A) -> R
) {
    withoutActuallyEscaping(op) { op in elementwiseMap(x, out, count: count, threads: threads, UnaryClosure(body: op)) }
}

/// out = f(a, b) with a and b broadcast as `layout` says (operands 0 and 1), in parallel chunks.
/// `out` may be `a` itself when a already has the output's shape (the variadic ops accumulate so).
@inline(__always)
func elementwiseBroadcast<F: BinaryFunction>(
    _ a: UnsafePointer<F.Left>, _ b: UnsafePointer<F.Right>, _ out: UnsafeMutablePointer<F.Output>,
    _ layout: BroadcastLayout, threads: Int, _ f: F
) {
    let sa = layout.innerStrides[0], sb = layout.innerStrides[1]
    Parallel.chunks(layout.count, threads: threads, grain: elementwiseGrain) { range in
        layout.forEachRun(in: range) { start, length, offsets in
            let pa = a + offsets[0], pb = b + offsets[1], po = out + start
            switch (sa, sb) {
            case (1, 1):
                for i in 0..<length { po[i] = f(pa[i], pb[i]) }
            case (0, 1):
                let x = pa[0]
                for i in 0..<length { po[i] = f(x, pb[i]) }
            case (1, 0):
                let y = pb[0]
                for i in 0..<length { po[i] = f(pa[i], y) }
            default:
                let v = f(pa[0], pb[0])
                for i in 0..<length { po[i] = v }
            }
        }
    }
}

/// out = op(a, b) with a and b broadcast as `layout` says, in parallel chunks.
@inline(__always)
func elementwiseBroadcast<A, B, R>(
    _ a: UnsafePointer<A>, _ b: UnsafePointer<B>, _ out: UnsafeMutablePointer<R>,
    _ layout: BroadcastLayout, threads: Int, _ op: (A, B) -> R
) {
    withoutActuallyEscaping(op) { op in elementwiseBroadcast(a, b, out, layout, threads: threads, BinaryClosure(body: op)) }
}

/// A numeric unary op bound to one arithmetic, as a `UnaryFunction`.
struct NumericUnary<Op: NumericUnaryOp, A: ElementArithmetic>: UnaryFunction {
    let op: Op
    @inline(__always) func callAsFunction(_ x: A.Value) -> A.Value { op.apply(x, A.self) }
}

/// A real unary op bound to one arithmetic.
struct RealUnary<Op: RealUnaryOp, A: RealArithmetic>: UnaryFunction {
    let op: Op
    @inline(__always) func callAsFunction(_ x: A.Value) -> A.Value { op.apply(x, A.self) }
}

/// A numeric binary op bound to one arithmetic.
struct NumericBinary<Op: NumericBinaryOp, A: ElementArithmetic>: BinaryFunction {
    let op: Op
    @inline(__always) func callAsFunction(_ a: A.Value, _ b: A.Value) -> A.Value { op.apply(a, b, A.self) }
}

// MARK: Inputs and the float32 bridge

/// Input `index`, or an error naming the node when it is absent.
func requiredInput(_ inputs: [NDArray?], _ index: Int, _ context: KernelContext) throws -> NDArray {
    guard index < inputs.count, let input = inputs[index] else {
        throw context.failure("input \(index) is missing")
    }
    return input
}

/// A float32 copy of a float16 or bfloat16 array; any other array as it is.
func widenedToFloat32(_ x: NDArray, threads: Int) -> NDArray {
    guard x.elementType.computesInFloat32 else { return x }
    let out = NDArray(.float32, shape: x.shape)
    widenToFloat32(x, into: out, threads: threads)
    return out
}

/// Converts a float16 or bfloat16 array into a float32 array of the same shape (exactly).
func widenToFloat32(_ x: NDArray, into out: NDArray, threads: Int) {
    let source = x.pointer(as: UInt16.self), target = out.pointer(as: Float.self)
    if x.elementType == .bfloat16 {
        elementwiseMap(source, target, count: x.count, threads: threads, BFloat16ToFloat())
    } else {
        elementwiseMap(source, target, count: x.count, threads: threads, HalfToFloat())
    }
}

/// Rounds float32 values into a float16 or bfloat16 array of the same shape.
func narrowFromFloat32(_ values: NDArray, into out: NDArray, threads: Int) {
    let source = values.pointer(as: Float.self), target = out.pointer(as: UInt16.self)
    if out.elementType == .bfloat16 {
        elementwiseMap(source, target, count: out.count, threads: threads, FloatToBFloat16())
    } else {
        elementwiseMap(source, target, count: out.count, threads: threads, FloatToHalf())
    }
}

// The conversions as function types rather than closures: passed as a closure, each element cost
// a call through a thunk (1.5 ns), where the specialized loop vectorizes. Widening a U-Net's
// float16 weights at load took 1.6 ms of its 1.8.
struct HalfToFloat: UnaryFunction {
    @inline(__always) func callAsFunction(_ x: UInt16) -> Float { halfToFloat(x) }
}

struct BFloat16ToFloat: UnaryFunction {
    @inline(__always) func callAsFunction(_ x: UInt16) -> Float { bfloat16ToFloat(x) }
}

struct FloatToHalf: UnaryFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> UInt16 { floatToHalf(x) }
}

struct FloatToBFloat16: UnaryFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> UInt16 { floatToBFloat16(x) }
}

/// Computes output 0 of `outputType` and `shape` with `body(inputs, output)`; float16 and
/// bfloat16 inputs reach `body` as float32, and a float16/bfloat16 output is computed as float32
/// and rounded — how runtimes without half arithmetic run these types.
func computeBridgingHalves(
    _ inputs: [NDArray], outputType: ElementType, shape: [Int], _ context: KernelContext,
    _ body: ([NDArray], NDArray) throws -> Void
) throws -> NDArray {
    guard inputs.contains(where: { $0.elementType.computesInFloat32 }) || outputType.computesInFloat32 else {
        let out = context.output(0, outputType, shape)
        try body(inputs, out)
        return out
    }
    let wide = inputs.map { widenedToFloat32($0, threads: context.threads) }
    guard outputType.computesInFloat32 else {
        let out = context.output(0, outputType, shape)
        try body(wide, out)
        return out
    }
    let values = NDArray(.float32, shape: shape)
    try body(wide, values)
    let out = context.output(0, outputType, shape)
    narrowFromFloat32(values, into: out, threads: context.threads)
    return out
}

// MARK: Generic kernels

/// A kernel that runs a closure. The generic kernels below are returned wrapped in one (see
/// `specialized()`): a call through `any Kernel` to a generic struct's `run` reaches its
/// unspecialized witness, which calls every element operation through witness tables.
struct ClosureKernel: Kernel {
    let body: @Sendable ([NDArray?], KernelContext) throws -> [NDArray]

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] { try body(inputs, context) }
}

extension Kernel {
    /// This kernel behind a closure formed where its type is concrete, so that its `run` — and
    /// the element loops within — are compiled for that type (10–50× faster for generic kernels).
    func specialized() -> any Kernel {
        ClosureKernel { [self] inputs, context in try self.run(inputs, context) }
    }
}

/// A function of one floating-point element (activations, exp, log, …).
protocol RealUnaryOp: Sendable {
    func apply<A: RealArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value
}

/// A function of one element of any numeric type (Relu, Abs, Neg, …).
protocol NumericUnaryOp: Sendable {
    func apply<A: ElementArithmetic>(_ x: A.Value, _ arithmetic: A.Type) -> A.Value
}

/// A function of two elements of the same numeric type (Add, Max, PRelu, …).
protocol NumericBinaryOp: Sendable {
    func apply<A: ElementArithmetic>(_ a: A.Value, _ b: A.Value, _ arithmetic: A.Type) -> A.Value
}

/// A function of two integers of the same type (the bitwise ops).
protocol IntegerBinaryOp: Sendable {
    func apply<T: FixedWidthInteger>(_ a: T, _ b: T) -> T
}

/// A comparison of two elements of the same type.
protocol ComparisonOp: Sendable {
    func apply<T: Comparable>(_ a: T, _ b: T) -> Bool
}

/// A function of two booleans.
protocol LogicalOp: Sendable {
    func apply(_ a: Bool, _ b: Bool) -> Bool
}

/// Applies a floating-point function to every element (float32, float64; float16 and bfloat16 via float32).
struct RealMapKernel<Op: RealUnaryOp>: Kernel {
    let op: Op

    init(_ op: Op) { self.op = op }

    private struct Map: RealVisitor {
        let op: Op, x: NDArray, out: NDArray, threads: Int
        func visit<A: RealArithmetic>(_ arithmetic: A.Type) {
            elementwiseMap(x.pointer(as: A.Value.self), out.pointer(as: A.Value.self), count: x.count, threads: threads,
                           RealUnary<Op, A>(op: op))
        }
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let x = try requiredInput(inputs, 0, context)
        let out = try computeBridgingHalves([x], outputType: x.elementType, shape: x.shape, context) { inputs, out in
            guard try inputs[0].elementType.visitReal(Map(op: op, x: inputs[0], out: out, threads: context.threads)) != nil else {
                throw context.failure("\(context.node.opType) does not support \(x.elementType) inputs")
            }
        }
        return [out]
    }
}

/// Applies a numeric function to every element (integers and floats; halves via float32).
struct NumericMapKernel<Op: NumericUnaryOp>: Kernel {
    let op: Op

    init(_ op: Op) { self.op = op }

    private struct Map: ArithmeticVisitor {
        let op: Op, x: NDArray, out: NDArray, threads: Int
        func visit<A: ElementArithmetic>(_ arithmetic: A.Type) {
            elementwiseMap(x.pointer(as: A.Value.self), out.pointer(as: A.Value.self), count: x.count, threads: threads,
                           NumericUnary<Op, A>(op: op))
        }
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let x = try requiredInput(inputs, 0, context)
        let out = try computeBridgingHalves([x], outputType: x.elementType, shape: x.shape, context) { inputs, out in
            guard try inputs[0].elementType.visitArithmetic(Map(op: op, x: inputs[0], out: out, threads: context.threads)) != nil else {
                throw context.failure("\(context.node.opType) does not support \(x.elementType) inputs")
            }
        }
        return [out]
    }
}

/// The layout of two operands, or an error naming their shapes.
func binaryLayout(_ a: NDArray, _ b: NDArray, _ context: KernelContext) throws -> BroadcastLayout {
    guard let layout = BroadcastLayout([a.shape, b.shape]) else {
        throw context.failure("shapes \(a.shape) and \(b.shape) do not broadcast")
    }
    return layout
}

/// Checks that two operands have the same element type.
func requireSameType(_ a: NDArray, _ b: NDArray, _ context: KernelContext) throws {
    guard a.elementType == b.elementType else {
        throw context.failure("operands have different element types (\(a.elementType), \(b.elementType))")
    }
}

/// out = op(a, b), broadcast by `layout`, in the arithmetic of a's element type (which b and out
/// share); false when that type has no arithmetic (bool, float16, …).
func applyBinary<Op: NumericBinaryOp>(
    _ op: Op, _ a: NDArray, _ b: NDArray, _ layout: BroadcastLayout, into out: NDArray, threads: Int
) throws -> Bool {
    try a.elementType.visitArithmetic(BinaryMap(op: op, a: a, b: b, out: out, layout: layout, threads: threads)) != nil
}

private struct BinaryMap<Op: NumericBinaryOp>: ArithmeticVisitor {
    let op: Op, a: NDArray, b: NDArray, out: NDArray, layout: BroadcastLayout, threads: Int
    func visit<A: ElementArithmetic>(_ arithmetic: A.Type) {
        elementwiseBroadcast(a.pointer(as: A.Value.self), b.pointer(as: A.Value.self), out.pointer(as: A.Value.self),
                             layout, threads: threads, NumericBinary<Op, A>(op: op))
    }
}

/// A binary op over two operands of one numeric type, with numpy broadcasting — or, when
/// `unidirectional`, with operand 1 broadcast to operand 0's shape (PRelu's slope).
struct BroadcastKernel<Op: NumericBinaryOp>: Kernel {
    let op: Op
    let unidirectional: Bool

    init(_ op: Op, unidirectional: Bool = false) {
        self.op = op
        self.unidirectional = unidirectional
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let a = try requiredInput(inputs, 0, context), b = try requiredInput(inputs, 1, context)
        try requireSameType(a, b, context)
        let layout: BroadcastLayout
        if unidirectional {
            guard let l = BroadcastLayout(output: a.shape, operands: [a.shape, b.shape]) else {
                throw context.failure("shape \(b.shape) does not broadcast to \(a.shape)")
            }
            layout = l
        } else {
            layout = try binaryLayout(a, b, context)
        }
        let out = try computeBridgingHalves([a, b], outputType: a.elementType, shape: layout.shape, context) { inputs, out in
            guard try applyBinary(op, inputs[0], inputs[1], layout, into: out, threads: context.threads) else {
                throw context.failure("\(context.node.opType) does not support \(a.elementType) inputs")
            }
        }
        return [out]
    }
}

/// A variadic op (Max, Min, Sum, Mean): folds `op` over all inputs broadcast together;
/// `mean` divides the result by the number of inputs.
struct VariadicKernel<Op: NumericBinaryOp>: Kernel {
    let op: Op
    let mean: Bool

    init(_ op: Op, mean: Bool = false) {
        self.op = op
        self.mean = mean
    }

    private struct Fold: ArithmeticVisitor {
        let op: Op, inputs: [NDArray], out: NDArray, mean: Bool, threads: Int
        func visit<A: ElementArithmetic>(_ arithmetic: A.Type) {
            let target = out.pointer(as: A.Value.self)
            if inputs.count == 1 {
                target.update(from: inputs[0].pointer(as: A.Value.self), count: out.count)
            } else if let layout = BroadcastLayout(output: out.shape, operands: [inputs[0].shape, inputs[1].shape]) {
                elementwiseBroadcast(inputs[0].pointer(as: A.Value.self), inputs[1].pointer(as: A.Value.self), target,
                                     layout, threads: threads, NumericBinary<Op, A>(op: op))
            }
            // The output already has the final shape, so it accumulates in place.
            for input in inputs.dropFirst(2) {
                guard let layout = BroadcastLayout(output: out.shape, operands: [out.shape, input.shape]) else { continue }
                elementwiseBroadcast(UnsafePointer(target), input.pointer(as: A.Value.self), target,
                                     layout, threads: threads, NumericBinary<Op, A>(op: op))
            }
            if mean {
                let n = A.fromDouble(Double(inputs.count))
                elementwiseMap(UnsafePointer(target), target, count: out.count, threads: threads) { A.divide($0, n) }
            }
        }
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let present = inputs.compactMap { $0 }
        guard let first = present.first else { throw context.failure("needs at least one input") }
        for x in present.dropFirst() { try requireSameType(first, x, context) }
        guard let shape = broadcastShapes(present.map(\.shape)) else {
            throw context.failure("shapes \(present.map(\.shape)) do not broadcast")
        }
        let out = try computeBridgingHalves(present, outputType: first.elementType, shape: shape, context) { inputs, out in
            let fold = Fold(op: op, inputs: inputs, out: out, mean: mean, threads: context.threads)
            guard try inputs[0].elementType.visitArithmetic(fold) != nil else {
                throw context.failure("\(context.node.opType) does not support \(first.elementType) inputs")
            }
        }
        return [out]
    }
}

/// A broadcasting comparison of two operands of one type, giving bool.
struct ComparisonKernel<Op: ComparisonOp>: Kernel {
    let op: Op

    init(_ op: Op) { self.op = op }

    private struct Compare: ArithmeticVisitor {
        let op: Op, a: NDArray, b: NDArray, out: NDArray, layout: BroadcastLayout, threads: Int
        func visit<A: ElementArithmetic>(_ arithmetic: A.Type) {
            elementwiseBroadcast(a.pointer(as: A.Value.self), b.pointer(as: A.Value.self), out.pointer(as: UInt8.self),
                                 layout, threads: threads) { op.apply($0, $1) ? 1 : 0 }
        }
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let a = try requiredInput(inputs, 0, context), b = try requiredInput(inputs, 1, context)
        try requireSameType(a, b, context)
        let layout = try binaryLayout(a, b, context)
        let out = try computeBridgingHalves([a, b], outputType: .bool, shape: layout.shape, context) { inputs, out in
            let compare = Compare(op: op, a: inputs[0], b: inputs[1], out: out, layout: layout, threads: context.threads)
            if inputs[0].elementType == .bool {
                // Booleans compare as 0 and 1 (any nonzero byte is true).
                elementwiseBroadcast(inputs[0].pointer(as: UInt8.self), inputs[1].pointer(as: UInt8.self), out.pointer(as: UInt8.self),
                                     layout, threads: context.threads) { op.apply($0 != 0 ? 1 : 0, $1 != 0 ? 1 : 0) ? 1 : 0 }
            } else if try inputs[0].elementType.visitArithmetic(compare) == nil {
                throw context.failure("\(context.node.opType) does not support \(a.elementType) inputs")
            }
        }
        return [out]
    }
}

/// A broadcasting function of two bool operands (And, Or, Xor).
struct LogicalKernel<Op: LogicalOp>: Kernel {
    let op: Op

    init(_ op: Op) { self.op = op }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let a = try requiredInput(inputs, 0, context), b = try requiredInput(inputs, 1, context)
        guard a.elementType == .bool, b.elementType == .bool else {
            throw context.failure("\(context.node.opType) needs bool operands, got \(a.elementType) and \(b.elementType)")
        }
        let layout = try binaryLayout(a, b, context)
        let out = context.output(0, .bool, layout.shape)
        elementwiseBroadcast(a.pointer(as: UInt8.self), b.pointer(as: UInt8.self), out.pointer(as: UInt8.self),
                             layout, threads: context.threads) { op.apply($0 != 0, $1 != 0) ? 1 : 0 }
        return [out]
    }
}

/// A test of one floating-point element (IsNaN, IsInf).
protocol RealPredicate: Sendable {
    func test<T: BinaryFloatingPoint>(_ x: T) -> Bool
}

/// Tests every element of a floating-point tensor, giving bool (halves via float32).
struct RealPredicateKernel<Op: RealPredicate>: Kernel {
    let op: Op

    init(_ op: Op) { self.op = op }

    private struct Test: RealVisitor {
        let op: Op, x: NDArray, out: NDArray, threads: Int
        func visit<A: RealArithmetic>(_ arithmetic: A.Type) {
            elementwiseMap(x.pointer(as: A.Value.self), out.pointer(as: UInt8.self), count: x.count, threads: threads) {
                op.test($0) ? 1 : 0
            }
        }
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let x = try requiredInput(inputs, 0, context)
        let out = try computeBridgingHalves([x], outputType: .bool, shape: x.shape, context) { inputs, out in
            guard try inputs[0].elementType.visitReal(Test(op: op, x: inputs[0], out: out, threads: context.threads)) != nil else {
                throw context.failure("\(context.node.opType) does not support \(x.elementType) inputs")
            }
        }
        return [out]
    }
}

/// A broadcasting function of two operands of one integer type (BitShift, BitwiseAnd, …).
struct IntegerBroadcastKernel<Op: IntegerBinaryOp>: Kernel {
    let op: Op

    init(_ op: Op) { self.op = op }

    private struct Map: IntegerVisitor {
        let op: Op, a: NDArray, b: NDArray, out: NDArray, layout: BroadcastLayout, threads: Int
        func visit<T: FixedWidthInteger>(_ type: T.Type) {
            elementwiseBroadcast(a.pointer(as: T.self), b.pointer(as: T.self), out.pointer(as: T.self),
                                 layout, threads: threads) { op.apply($0, $1) }
        }
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        let a = try requiredInput(inputs, 0, context), b = try requiredInput(inputs, 1, context)
        try requireSameType(a, b, context)
        let layout = try binaryLayout(a, b, context)
        let out = context.output(0, a.elementType, layout.shape)
        let map = Map(op: op, a: a, b: b, out: out, layout: layout, threads: context.threads)
        guard try a.elementType.visitInteger(map) != nil else {
            throw context.failure("\(context.node.opType) needs integer operands, got \(a.elementType)")
        }
        return [out]
    }
}
