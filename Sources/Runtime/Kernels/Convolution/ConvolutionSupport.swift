import CBLAS
import Graph

// Shared by the convolution family: output shapes from the op schemas, sliding-window geometry,
// float32 bridging for half-precision types, and the scalar types matrix products run on.

// MARK: Output shapes

/// Output 0's shape by the op's schema shape rule (the one graph shape inference uses) on the
/// actual input shapes, so kernels and inference agree on sizes and on what is rejected.
func schemaOutputShape(_ inputs: [NDArray?], _ context: KernelContext, opsetVersion: Int64) throws -> [Int] {
    let node = context.node
    guard let schema = OpSchemas.lookup(node.opType, domain: node.domain) else {
        throw context.failure("no shape rule for \(node.opType)")
    }
    var inference = InferenceContext(
        node: node, opsetVersion: opsetVersion,
        inputs: inputs.map { $0.map { TensorType($0.elementType, shape: $0.shape) } })
    do {
        try schema.inferShapes(&inference)
    } catch {
        throw context.failure("\(error)")
    }
    guard let shape = inference.outputs.first??.staticShape else {
        throw context.failure("cannot determine the output shape from inputs \(inputs.map { $0.map { formatShape($0.shape) } ?? "-" })")
    }
    guard shape.allSatisfy({ $0 >= 0 }) else { throw context.failure("negative output shape \(formatShape(shape))") }
    return shape
}

// MARK: Sliding windows

/// Where a sliding window (Conv, ConvTranspose, pools) reads, with 1-D and 2-D problems lifted to
/// three spatial axes (depth, height, width) by leading axes of size 1, so one loop nest serves all.
struct WindowGeometry {
    /// Spatial sizes of the input and output, and the window's kernel, strides and dilations.
    var input: [Int]
    var output: [Int]
    var kernel: [Int]
    var strides: [Int]
    var dilations: [Int]
    /// Padding before and after each axis (`padBegin` may be negative for ConvTranspose).
    var padBegin: [Int]
    var padEnd: [Int]

    static let maxSpatialRank = 3

    /// The geometry of `node`'s window, given spatial input and output sizes the schema computed.
    /// The window steps over `output` positions and reads `input`; for ConvTranspose
    /// (`transposed`) the window steps over X and scatters into Y, so pass X's sizes as `output`
    /// and Y's as `input`.
    init(node: Node, input: [Int], output: [Int], kernel: [Int], context: KernelContext, transposed: Bool = false) throws {
        let n = input.count
        guard n >= 1, n <= Self.maxSpatialRank else {
            throw context.failure("\(n) spatial axes; the runtime supports 1 to \(Self.maxSpatialRank)")
        }
        func ints(_ name: String, _ fallback: Int) throws -> [Int] {
            guard let values = node.ints(name) else { return Array(repeating: fallback, count: n) }
            guard values.count == n else { throw context.failure("\(name) has \(values.count) values for \(n) spatial axes") }
            return values.map { Int(clamping: $0) }
        }
        let strides = try ints("strides", 1)
        let dilations = try ints("dilations", 1)
        guard strides.allSatisfy({ $0 > 0 }), dilations.allSatisfy({ $0 > 0 }), kernel.allSatisfy({ $0 > 0 }) else {
            throw context.failure("strides \(strides), dilations \(dilations) and kernel \(kernel) must be positive")
        }
        let outputPadding = transposed ? try ints("output_padding", 0) : []
        var begin = Array(repeating: 0, count: n)
        var end = Array(repeating: 0, count: n)
        let autoPad = node.string("auto_pad") ?? "NOTSET"
        switch autoPad {
        case "SAME_UPPER", "SAME_LOWER":
            for i in 0..<n {
                let effective = (kernel[i] - 1) * dilations[i] + 1
                // The window-side extent must cover (steps - 1)·stride + window; the rest is padding.
                var total = (output[i] - 1) * strides[i] + effective - input[i]
                // ConvTranspose adds output_padding and keeps a negative total (ONNX's rule).
                total = transposed ? total + outputPadding[i] : max(0, total)
                let small = floorDiv(total, 2)
                begin[i] = autoPad == "SAME_UPPER" ? small : total - small
                end[i] = total - begin[i]
            }
        case "VALID":
            break
        case "NOTSET", "":
            if let pads = node.ints("pads") {
                guard pads.count == 2 * n else { throw context.failure("pads has \(pads.count) values for \(n) spatial axes") }
                begin = pads[..<n].map { Int(clamping: $0) }
                end = pads[n...].map { Int(clamping: $0) }
                guard (begin + end).allSatisfy({ $0 >= 0 }) else { throw context.failure("pads \(pads) must not be negative") }
            }
        default:
            throw context.failure("unknown auto_pad '\(autoPad)'")
        }
        // Lift to three axes.
        let lift = Self.maxSpatialRank - n
        func lifted(_ values: [Int], _ fill: Int) -> [Int] { Array(repeating: fill, count: lift) + values }
        self.input = lifted(input, 1)
        self.output = lifted(output, 1)
        self.kernel = lifted(kernel, 1)
        self.strides = lifted(strides, 1)
        self.dilations = lifted(dilations, 1)
        self.padBegin = lifted(begin, 0)
        self.padEnd = lifted(end, 0)
    }

    var inputSize: Int { input[0] * input[1] * input[2] }
    var outputSize: Int { output[0] * output[1] * output[2] }
    var kernelSize: Int { kernel[0] * kernel[1] * kernel[2] }

    /// True when output and input coincide point for point (1×1×1 window, unit strides, no padding).
    var isPointwise: Bool {
        kernelSize == 1 && strides.allSatisfy { $0 == 1 } && padBegin.allSatisfy { $0 == 0 } && input == output
    }

    /// For kernel tap `k` on `axis`: the range of output positions whose tap lands inside the
    /// input, and the input offset of output position 0 (`input = out·stride + offset`).
    @inline(__always)
    func validRange(axis: Int, tap k: Int) -> (range: Range<Int>, offset: Int) {
        let offset = k * dilations[axis] - padBegin[axis]
        let stride = strides[axis]
        // out·stride + offset ∈ [0, input)  ⇔  out ∈ [ceil(-offset / stride), ceil((input - offset) / stride)).
        let lo = max(0, ceilDiv(-offset, stride))
        let hi = min(output[axis], ceilDiv(input[axis] - offset, stride))
        return (lo..<max(lo, hi), offset)
    }
}

@inline(__always) func floorDiv(_ a: Int, _ b: Int) -> Int {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

@inline(__always) func ceilDiv(_ a: Int, _ b: Int) -> Int { -floorDiv(-a, b) }

// MARK: Float bridging

/// Float16 and bfloat16 tensors compute in float32: converted on the way in and rounded on the
/// way out (with Graph's shared conversions), which is how ONNX runtimes without native half
/// arithmetic run them.
enum HalfBridge {
    /// Whether `type` computes through float32.
    static func bridges(_ type: ElementType) -> Bool { type == .float16 || type == .bfloat16 }

    /// A constant operand in the type kernels compute in: widened when half precision.
    static func widenedIfHalf(_ array: NDArray) -> NDArray { bridges(array.elementType) ? widened(array) : array }

    /// A float32 copy of a float16 or bfloat16 array.
    static func widened(_ array: NDArray) -> NDArray {
        let out = NDArray(.float32, shape: array.shape)
        let source = array.pointer(as: UInt16.self)
        let target = out.pointer(as: Float.self)
        if array.elementType == .bfloat16 {
            for i in 0..<array.count { target[i] = bfloat16ToFloat(source[i]) }
        } else {
            for i in 0..<array.count { target[i] = halfToFloat(source[i]) }
        }
        return out
    }

    /// Runs a float32 computation for half-precision operands: `body` gets each input widened to
    /// float32 (float32 ones, such as weights widened at build time, as they are) and a float32
    /// result of `out`'s shape, which is then rounded into `out`. The widened copies live until
    /// `body` returns, so pointers into them stay valid throughout.
    static func compute(_ inputs: [NDArray?], into out: NDArray, _ body: (_ inputs: [NDArray?], _ result: NDArray) throws -> Void) rethrows {
        let wide = inputs.map { $0.map { bridges($0.elementType) ? widened($0) : $0 } }
        let result = NDArray(.float32, shape: out.shape)
        try withExtendedLifetime(wide) { try body(wide, result) }
        narrow(result, into: out)
    }

    /// Rounds float32 values into a float16 or bfloat16 array (to nearest, ties to even).
    static func narrow(_ values: NDArray, into out: NDArray) {
        let source = values.pointer(as: Float.self)
        let target = out.pointer(as: UInt16.self)
        if out.elementType == .bfloat16 {
            for i in 0..<out.count { target[i] = floatToBFloat16(source[i]) }
        } else {
            for i in 0..<out.count { target[i] = floatToHalf(source[i]) }
        }
    }
}

// MARK: Matrix products by element type

/// Element types matrix products run on natively: float32 and float64 through BLAS, integers by
/// a plain loop (exact, wrapping like ONNX runtimes do).
protocol MatrixScalar: Numeric {
    /// C = alpha · op(A) · op(B) + beta · C, row-major; `alpha` and `beta` are 1 and 0 or 1 for
    /// integers.
    static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Double,
        a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Self>, ldc: Int)
    /// The value of a float attribute (alpha, beta) or a bias in this type.
    init(scaling value: Double)
}

extension Float: MatrixScalar {
    @inline(__always)
    static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Double,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        // A product with one row or one column is a matrix-vector product, which BLAS's gemv
        // does several times faster than its gemm (classifier heads, batch-1 MatMul).
        if k > 0, m == 1 || n == 1 {
            let order = CblasRowMajor, trans = CblasTrans, plain = CblasNoTrans
            // Output memory is uninitialized; some BLAS builds scale it by beta = 0 (NaN · 0 = NaN).
            if beta == 0 {
                if m == 1 { c.update(repeating: 0, count: n) } else { for i in 0..<m { c[i * ldc] = 0 } }
            }
            if m == 1 {
                // cᵀ = aᵀ·op(B): the vector is row 0 of op(A).
                cblas_sgemv(order, transposeB ? plain : trans, Int32(transposeB ? n : k), Int32(transposeB ? k : n), Float(alpha),
                            b, Int32(ldb), a, Int32(transposeA ? lda : 1), Float(beta), c, 1)
            } else {
                // c = op(A)·b: the vector is column 0 of op(B).
                cblas_sgemv(order, transposeA ? trans : plain, Int32(transposeA ? k : m), Int32(transposeA ? m : k), Float(alpha),
                            a, Int32(lda), b, Int32(transposeB ? 1 : ldb), Float(beta), c, Int32(ldc))
            }
            return
        }
        BLAS.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: Float(alpha),
                   a: a, lda: lda, b: b, ldb: ldb, beta: Float(beta), c: c, ldc: ldc)
    }
    init(scaling value: Double) { self = Float(value) }
}

extension Double: MatrixScalar {
    static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Double,
        a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        guard k > 0 else {
            for row in 0..<m { for col in 0..<n { c[row * ldc + col] = beta == 0 ? 0 : beta * c[row * ldc + col] } }
            return
        }
        cblas_dgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    init(scaling value: Double) { self = value }
}

extension MatrixScalar {
    /// C = op(A)·op(B) (alpha 1) + beta·C split over `threads`: into column blocks when C is
    /// wide, else row blocks, each one single-threaded BLAS call on its own part of C. Small
    /// products stay on the calling thread.
    static func parallelGemm(
        threads: Int, transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int, alpha: Double = 1,
        a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int, beta: Double, c: UnsafeMutablePointer<Self>, ldc: Int
    ) {
        let work = m * n * max(k, 1)
        let parts = min(threads, work / BLASThreading.minimumWorkPerThread)
        guard parts > 1 else {
            gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                 a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        if n >= m {
            // Column blocks of C, aligned to 16 columns.
            let size = ((n + parts - 1) / parts + 15) / 16 * 16
            Parallel.forEach((n + size - 1) / size, threads: parts) { i in
                let start = i * size
                gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: min(size, n - start), k: k, alpha: alpha,
                     a: a, lda: lda, b: transposeB ? b + start * ldb : b + start, ldb: ldb, beta: beta, c: c + start, ldc: ldc)
            }
        } else {
            let size = (m + parts - 1) / parts
            Parallel.forEach((m + size - 1) / size, threads: parts) { i in
                let start = i * size
                gemm(transposeA: transposeA, transposeB: transposeB, m: min(size, m - start), n: n, k: k, alpha: alpha,
                     a: transposeA ? a + start : a + start * lda, lda: lda, b: b, ldb: ldb, beta: beta, c: c + start * ldc, ldc: ldc)
            }
        }
    }
}

/// The convolution family runs BLAS on the calling thread only and spreads products over the
/// session's threads itself (by output blocks, with im2col fused into each block). BLAS's own
/// worker threads would otherwise alternate with the Parallel loops around them, and with two
/// pools spinning on two cores the run gets slower instead of faster.
enum BLASThreading {
    /// Multiply-adds below which a product is not split across threads.
    static let minimumWorkPerThread = 1 << 17

    /// Makes BLAS calls run single-threaded on the calling thread.
    static func useCallerThreadOnly() {
        #if !os(macOS) && !os(iOS)
        if openblas_get_num_threads() != 1 { BLAS.setThreads(1) }
        #endif
    }
}

/// Integer products: a straightforward loop with wrapping arithmetic.
protocol IntegerMatrixScalar: MatrixScalar, FixedWidthInteger {}

extension IntegerMatrixScalar {
    static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Double,
        a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Self>, ldc: Int
    ) {
        let scaleAlpha = alpha != 1, scaleBeta = beta != 0 && beta != 1
        for i in 0..<m {
            for j in 0..<n {
                var sum: Self = 0
                for p in 0..<k {
                    let x = transposeA ? a[p * lda + i] : a[i * lda + p]
                    let y = transposeB ? b[j * ldb + p] : b[p * ldb + j]
                    sum = sum &+ x &* y
                }
                if scaleAlpha { sum = Self(scaling: Double(sum) * alpha) }
                let slot = c + i * ldc + j
                if beta == 0 {
                    slot.pointee = sum
                } else {
                    slot.pointee = sum &+ (scaleBeta ? Self(scaling: Double(slot.pointee) * beta) : slot.pointee)
                }
            }
        }
    }

    /// Truncates toward zero, clamped to the type's range (NaN becomes 0).
    init(scaling value: Double) {
        self = value.isNaN ? 0 : Self(clamping: Int64(Swift.max(-0x1p63, Swift.min(0x1p63 - 1024, value))))
    }
}

extension Int32: IntegerMatrixScalar {}
extension Int64: IntegerMatrixScalar {}
extension UInt32: IntegerMatrixScalar {}
extension UInt64: IntegerMatrixScalar {}
