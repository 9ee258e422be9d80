import Graph

/// MatMul: numpy `matmul` — batch dims broadcast, a 1-D A is a row and a 1-D B a column (the added
/// dim is dropped from the result). float32 and float64 go through BLAS; when B has no batch dims
/// the whole batch of A is one product.
struct MatMulKernel: Kernel {
    let opsetVersion: Int64
    /// B widened to float32 once, when it is a half-precision constant.
    let widenedB: NDArray?
    /// The output shape of the last input shapes.
    let shapes = ShapeMemo<[Int]>()

    static func make(_ context: KernelBuildContext) throws -> any Kernel {
        MatMulKernel(opsetVersion: context.opsetVersion,
                     widenedB: context.constant(1).flatMap { HalfBridge.bridges($0.elementType) ? HalfBridge.widened($0) : nil })
    }

    func run(_ inputs: [NDArray?], _ context: KernelContext) throws -> [NDArray] {
        guard inputs.count >= 2, let a = inputs[0], let b = inputs[1] else { throw context.failure("MatMul needs inputs A and B") }
        guard a.elementType == b.elementType else { throw context.failure("A is \(a.elementType) but B is \(b.elementType)") }
        let shape = try shapes.value(for: inputs) { try schemaOutputShape(inputs, context, opsetVersion: opsetVersion) }
        let product = BatchedProduct(a: a.shape, b: b.shape, output: shape)
        let y = context.output(0, a.elementType, shape)
        func multiply<T: MatrixScalar>(_: T.Type) {
            product.run(a: a.pointer(as: T.self), b: b.pointer(as: T.self), c: y.pointer(as: T.self), threads: context.threads)
        }
        switch a.elementType {
        case .float32: multiply(Float.self)
        case .float64: multiply(Double.self)
        case .int32: multiply(Int32.self)
        case .int64: multiply(Int64.self)
        case .uint32: multiply(UInt32.self)
        case .uint64: multiply(UInt64.self)
        case .float16, .bfloat16:
            HalfBridge.compute([a, widenedB ?? b], into: y) { wide, result in
                product.run(a: wide[0]!.pointer(as: Float.self), b: wide[1]!.pointer(as: Float.self), c: result.pointer(as: Float.self),
                            threads: context.threads)
            }
        default:
            throw context.failure("MatMul does not support \(a.elementType)")
        }
        return [y]
    }
}

/// A numpy-style batched matrix product: operand shapes padded to matrices, batch offsets from
/// broadcast strides.
struct BatchedProduct {
    var m: Int, n: Int, k: Int
    /// Element offsets of each output batch's A and B matrices.
    var aOffsets: [Int], bOffsets: [Int]
    /// True when B is one matrix shared by all batches and A's batches are contiguous: then the
    /// batches stack into one (batch·M)×K product.
    var stacksA: Bool

    init(a: [Int], b: [Int], output: [Int]) {
        let a2 = a.count == 1 ? [1] + a : a, b2 = b.count == 1 ? b + [1] : b
        m = a2[a2.count - 2]
        k = a2[a2.count - 1]
        n = b2[b2.count - 1]
        let batch = Array(output.dropLast((a.count > 1 ? 1 : 0) + (b.count > 1 ? 1 : 0)))
        func offsets(_ shape: [Int], matrix: Int) -> [Int] {
            // Row-major strides of the operand's batch dims, zero where it broadcasts.
            let dims = Array(shape.dropLast(2))
            let padded = Array(repeating: 1, count: batch.count - dims.count) + dims
            var strides = Array(repeating: 0, count: padded.count)
            var step = matrix
            for i in padded.indices.reversed() {
                strides[i] = padded[i] == 1 ? 0 : step
                step *= padded[i]
            }
            var result = [Int](repeating: 0, count: batch.reduce(1, *))
            for flat in result.indices {
                var rest = flat, offset = 0
                for i in batch.indices.reversed() {
                    offset += (rest % batch[i]) * strides[i]
                    rest /= batch[i]
                }
                result[flat] = offset
            }
            return result
        }
        aOffsets = offsets(a2, matrix: m * k)
        bOffsets = offsets(b2, matrix: k * n)
        stacksA = b2.count == 2 && a2.dropLast(2).reduce(1, *) == aOffsets.count
    }

    /// Batches run in parallel when there are enough of them; otherwise each product is split.
    func run<T: MatrixScalar>(a: UnsafePointer<T>, b: UnsafePointer<T>, c: UnsafeMutablePointer<T>, threads: Int) {
        BLASThreading.useCallerThreadOnly()
        if stacksA {
            T.parallelGemm(threads: threads, m: aOffsets.count * m, n: n, k: k, a: a, lda: k, b: b, ldb: n, beta: 0, c: c, ldc: n)
            return
        }
        let batches = aOffsets.count
        if batches >= threads {
            Parallel.forEach(batches, threads: threads, grain: max(1, BLASThreading.minimumWorkPerThread / max(1, m * n * k))) { i in
                T.gemm(transposeA: false, transposeB: false, m: m, n: n, k: k, alpha: 1,
                       a: a + aOffsets[i], lda: k, b: b + bOffsets[i], ldb: n, beta: 0, c: c + i * m * n, ldc: n)
            }
        } else {
            for i in 0..<batches {
                T.parallelGemm(threads: threads, m: m, n: n, k: k, a: a + aOffsets[i], lda: k, b: b + bOffsets[i], ldb: n,
                               beta: 0, c: c + i * m * n, ldc: n)
            }
        }
    }
}
