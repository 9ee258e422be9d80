// Thin shim over the system BLAS: OpenBLAS on Linux (Debian: libopenblas-dev), Accelerate on Apple.
#if defined(__APPLE__)
#include <Accelerate/Accelerate.h>
#else
#include <cblas.h>
// OpenBLAS extensions, declared here so the shim does not depend on openblas_config.h.
void openblas_set_num_threads(int num_threads);
// glibc's CPU affinity query (a GNU extension Swift's Glibc module leaves out): how many cores
// the runtime's workers and BLAS may use. The mask is a cpu_set_t.
int sched_getaffinity(int pid, size_t cpusetsize, void *mask);
int openblas_get_num_threads(void);
// LAPACK's Cholesky solve, which OpenBLAS exports (Accelerate declares it in clapack.h).
void dposv_(const char *uplo, const int *n, const int *nrhs, double *a, const int *lda, double *b, const int *ldb, int *info);
// LAPACK's Cholesky factorization and the inverse from it.
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info);
void dpotri_(const char *uplo, const int *n, double *a, const int *lda, int *info);
#endif
