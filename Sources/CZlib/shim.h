// Thin shim over the system zlib (Debian: zlib1g-dev), used only for its CRC-32, which is several
// times faster than a table-driven one in Swift.
#include <zlib.h>
