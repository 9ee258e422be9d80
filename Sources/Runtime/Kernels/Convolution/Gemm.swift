import Graph

/// Gemm: Y = alpha · op(A) · op(B) + beta · C, op a transpose under transA / transB, C (optional)
/// broadcast to [M, N]. Y starts as beta · C and BLAS accumulates into it.
struct GemmKernel: Kernel {
    let opsetVersion: Int64
    let alpha: Double, beta: Double
    let transposeA: Bool, transposeB: Bool
    /// B widened to float32 once, when it is a half-precision constant.
    let widenedB: NDArray?
    /// The output shape of the last input shapes.
    let shapes = ShapeMemo<[Int]>()

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        let node = context.node
        return GemmKernel(opsetVersion: context.opsetVersion, alpha: Double(node.float("alpha") ?? 1), beta: Double(node.float("beta") ?? 1),
                          transposeA: node.int("transA", default: 0) != 0, transposeB: node.int("transB", default: 0) != 0,
                          widenedB: context.constant(1).flatMap { HalfBridge.bridges($0.elementType) ? HalfBridge.widened($0) : nil })
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        guard inputs.count >= 2, let a = inputs[0], let b = inputs[1] else { throw context.failure("Gemm needs inputs A and B") }
        let c = inputs.count > 2 ? inputs[2] : nil
        let type = a.elementType
        guard b.elementType == type, c.map({ $0.elementType == type }) ?? true else {
            throw context.failure("A, B and C must share one element type, got \(type), \(b.elementType), \(c.map { "\($0.elementType)" } ?? "-")")
        }
        let shape = try shapes.value(for: inputs) { try schemaOutputShape(inputs, context, opsetVersion: opsetVersion) }
        guard a.rank == 2, b.rank == 2, shape.count == 2 else { throw context.failure("A and B must be 2-D") }
        let m = shape[0], n = shape[1], k = transposeA ? a.shape[0] : a.shape[1]
        // Strides of C over the output (0 along an axis it broadcasts), after lifting it to 2-D.
        var cStrides = (0, 0)
        if let c {
            let c2 = Array(repeating: 1, count: max(0, 2 - c.rank)) + c.shape
            guard c.rank <= 2, (c2[0] == 1 || c2[0] == m), (c2[1] == 1 || c2[1] == n) else {
                throw context.failure("C \(formatShape(c.shape)) does not broadcast to [\(m), \(n)]")
            }
            cStrides = (c2[0] == 1 ? 0 : c2[1], c2[1] == 1 ? 0 : 1)
        }
        let y = context.output(0, type, shape)
        let alpha = alpha, beta = beta, transposeA = transposeA, transposeB = transposeB
        func multiply<T: MatrixScalar>(_ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ c: UnsafePointer<T>?, _ y: UnsafeMutablePointer<T>) {
            var accumulate = 0.0
            if let c, beta != 0 {
                let scale = T(scaling: beta)
                for i in 0..<m {
                    for j in 0..<n {
                        let value = c[i * cStrides.0 + j * cStrides.1]
                        y[i * n + j] = beta == 1 ? value : scale * value
                    }
                }
                accumulate = 1
            }
            BLASThreading.useCallerThreadOnly()
            T.parallelGemm(threads: context.threads, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                           a: a, lda: transposeA ? m : k, b: b, ldb: transposeB ? k : n, beta: accumulate, c: y, ldc: n)
        }
        func typed<T: MatrixScalar>(_: T.Type) {
            multiply(a.pointer(as: T.self), b.pointer(as: T.self), c.map { UnsafePointer($0.pointer(as: T.self)) }, y.pointer(as: T.self))
        }
        switch type {
        case .float32: typed(Float.self)
        case .float64: typed(Double.self)
        case .int32: typed(Int32.self)
        case .int64: typed(Int64.self)
        case .uint32: typed(UInt32.self)
        case .uint64: typed(UInt64.self)
        case .float16, .bfloat16:
            HalfBridge.compute([a, widenedB ?? b, c], into: y) { wide, result in
                multiply(wide[0]!.pointer(as: Float.self), wide[1]!.pointer(as: Float.self),
                         wide[2].map { UnsafePointer($0.pointer(as: Float.self)) }, result.pointer(as: Float.self))
            }
        default:
            throw context.failure("Gemm does not support \(type)")
        }
        return [y]
    }
}
