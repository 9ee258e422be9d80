// Thin shim over the system libzstd (Debian: libzstd-dev), used for compressed tensor blobs.
#include <zstd.h>
