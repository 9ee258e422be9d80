import CBLAS

/// Single-precision matrix products through the platform BLAS (OpenBLAS on Linux, Accelerate on
/// Apple). Matrices are row-major.
public enum BLAS {
    /// C = alpha · op(A) · op(B) + beta · C, with op(A) of shape m×k and op(B) k×n.
    @inline(__always)
    public static func sgemm(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        guard k > 0 else {
            // BLAS leaves C untouched when k == 0 only if beta == 1; make the empty product explicit.
            for row in 0..<m { for col in 0..<n { c[row * ldc + col] = beta == 0 ? 0 : beta * c[row * ldc + col] } }
            return
        }
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Double-precision C = alpha · op(A) · op(B) + beta · C (row-major), for the solvers that
    /// need more than float's precision.
    public static func dgemm(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Double = 1, a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
        beta: Double = 0, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        Double.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                    a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }

    /// Sets how many threads BLAS calls may use.
    public static func setThreads(_ count: Int) {
        #if !os(macOS) && !os(iOS)
        openblas_set_num_threads(Int32(max(1, count)))
        #endif
    }
}
