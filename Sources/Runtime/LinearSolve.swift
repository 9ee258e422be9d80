import CBLAS

/// Dense linear systems through the platform LAPACK (OpenBLAS on Linux, Accelerate on Apple).
public enum LinearSolve {
    /// Solves A·X = B for a symmetric positive definite n×n `matrix` by Cholesky factorization.
    /// `rightHandSides` holds the columns of B one after another (each n long) and receives the
    /// solutions in the same layout. Returns false when A is not positive definite.
    public static func choleskySolve(_ matrix: [Double], n: Int, rightHandSides: inout [Double]) -> Bool {
        guard n > 0 else { return true }
        precondition(matrix.count == n * n && rightHandSides.count % n == 0, "choleskySolve: sizes do not match n = \(n)")
        var a = matrix
        var uplo = CChar(UInt8(ascii: "L"))
        var order = Int32(n), columns = Int32(rightHandSides.count / n), lda = Int32(n), ldb = Int32(n), info: Int32 = 0
        a.withUnsafeMutableBufferPointer { a in
            rightHandSides.withUnsafeMutableBufferPointer { b in
                dposv_(&uplo, &order, &columns, a.baseAddress, &lda, b.baseAddress, &ldb, &info)
            }
        }
        return info == 0
    }

    /// The inverse of a symmetric positive definite n×n `matrix` (Cholesky factorization, then
    /// LAPACK `dpotri`: n³ flops, a third of solving against the identity). Nil when A is not
    /// positive definite.
    public static func choleskyInverse(_ matrix: [Double], n: Int) -> [Double]? {
        guard n > 0 else { return [] }
        precondition(matrix.count == n * n, "choleskyInverse: \(matrix.count) values for n = \(n)")
        var a = matrix
        var uplo = CChar(UInt8(ascii: "L"))
        var order = Int32(n), lda = Int32(n), info: Int32 = 0
        a.withUnsafeMutableBufferPointer { a in
            dpotrf_(&uplo, &order, a.baseAddress, &lda, &info)
            if info == 0 { dpotri_(&uplo, &order, a.baseAddress, &lda, &info) }
        }
        guard info == 0 else { return nil }
        // LAPACK filled one triangle (column-major lower: row-major upper); mirror it.
        for i in 0..<n { for j in (i + 1)..<n { a[j * n + i] = a[i * n + j] } }
        return a
    }
}
