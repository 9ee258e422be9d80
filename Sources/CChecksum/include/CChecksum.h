#ifndef PARE_CCHECKSUM_H
#define PARE_CCHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/// CRC-32 (IEEE 802.3, as zlib's crc32) of `count` bytes at `bytes`, continuing from `crc` (0 to
/// start). Folds 256 bytes per step with 512-bit carry-less multiplication (VPCLMULQDQ) on x86-64
/// CPUs that have AVX-512 and the OS saving its registers; otherwise, and for short inputs, it is
/// the system libdeflate's CRC-32.
uint32_t pare_crc32(uint32_t crc, const void *bytes, size_t count);

#endif
