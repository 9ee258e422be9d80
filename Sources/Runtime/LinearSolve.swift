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
}
