// Thin shim over the system BLAS: OpenBLAS on Linux (Debian: libopenblas-dev), Accelerate on Apple.
#if defined(__APPLE__)
#include <Accelerate/Accelerate.h>
#else
#include <cblas.h>
// OpenBLAS extensions, declared here so the shim does not depend on openblas_config.h.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
#endif
