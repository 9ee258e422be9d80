// CRC-32 by folding: the message is cut into 128-bit lanes, and each lane is carried forward to
// the next block by carry-less multiplication with x^k mod P, so 16 lanes (256 bytes) advance per
// step without a table. The method is Intel's white paper "Fast CRC Computation for Generic
// Polynomials Using PCLMULQDQ Instruction" (Gopal et al., 2009), for the bit-reflected polynomial.
#include "CChecksum.h"

#include <libdeflate.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#include <stdatomic.h>

// Fold constants for a distance of D bits: (x^(D+31) mod P, x^(D-33) mod P), each bit-reflected
// into 32 bits, P = 0x104C11DB7. The first multiplies a lane's earlier 64 bits, the second its later
// 64 bits; the -1 in both exponents makes up for the product of two reflected operands landing one
// bit low. Scripts/crc32-fold-constants.py recomputes them.
#define FOLD_2048 0xe95c1271u, 0xce3371cbu
#define FOLD_512 0x1d9513d7u, 0x8f352d95u
#define FOLD_384 0xaf449247u, 0x3db1ecdcu
#define FOLD_256 0x81256527u, 0xf1da05aau
#define FOLD_128 0xccaa009eu, 0xae689191u

#define WIDE __attribute__((target("avx512f,vpclmulqdq,pclmul")))

WIDE static inline __m512i fold512(__m512i lanes, __m512i constants) {
    return _mm512_xor_si512(_mm512_clmulepi64_epi128(lanes, constants, 0x00),
                            _mm512_clmulepi64_epi128(lanes, constants, 0x11));
}

WIDE static inline __m128i fold128(__m128i lane, __m128i constants) {
    return _mm_xor_si128(_mm_clmulepi64_si128(lane, constants, 0x00), _mm_clmulepi64_si128(lane, constants, 0x11));
}

// _mm_set_epi64x takes the high half first.
#define PAIR128(later, earlier) _mm_set_epi64x((long long)(later), (long long)(earlier))
#define CONSTANTS128(pair) PAIR128(pair)
#define CONSTANTS512(pair) _mm512_broadcast_i32x4(PAIR128(pair))

WIDE static uint32_t crc32_wide(uint32_t crc, const uint8_t *p, size_t n) {
    const __m512i by2048 = CONSTANTS512(FOLD_2048), by512 = CONSTANTS512(FOLD_512);
    // The initial register value is XORed into the message's first 32 bits.
    __m512i a0 = _mm512_xor_si512(_mm512_loadu_si512(p), _mm512_zextsi128_si512(_mm_cvtsi32_si128((int)~crc)));
    __m512i a1 = _mm512_loadu_si512(p + 64), a2 = _mm512_loadu_si512(p + 128), a3 = _mm512_loadu_si512(p + 192);
    p += 256;
    n -= 256;
    // Four independent accumulators hide the multiplier's latency.
    for (; n >= 256; p += 256, n -= 256) {
        a0 = _mm512_xor_si512(fold512(a0, by2048), _mm512_loadu_si512(p));
        a1 = _mm512_xor_si512(fold512(a1, by2048), _mm512_loadu_si512(p + 64));
        a2 = _mm512_xor_si512(fold512(a2, by2048), _mm512_loadu_si512(p + 128));
        a3 = _mm512_xor_si512(fold512(a3, by2048), _mm512_loadu_si512(p + 192));
    }
    __m512i a = _mm512_xor_si512(fold512(a0, by512), a1);
    a = _mm512_xor_si512(fold512(a, by512), a2);
    a = _mm512_xor_si512(fold512(a, by512), a3);
    for (; n >= 64; p += 64, n -= 64) a = _mm512_xor_si512(fold512(a, by512), _mm512_loadu_si512(p));

    const __m128i by128 = CONSTANTS128(FOLD_128);
    __m128i x = _mm_xor_si128(fold128(_mm512_extracti32x4_epi32(a, 0), CONSTANTS128(FOLD_384)),
                              fold128(_mm512_extracti32x4_epi32(a, 1), CONSTANTS128(FOLD_256)));
    x = _mm_xor_si128(x, fold128(_mm512_extracti32x4_epi32(a, 2), by128));
    x = _mm_xor_si128(x, _mm512_extracti32x4_epi32(a, 3));
    for (; n >= 16; p += 16, n -= 16) x = _mm_xor_si128(fold128(x, by128), _mm_loadu_si128((const __m128i *)p));

    // What is left is the folded 16 bytes followed by the last n < 16: their CRC from a zero
    // register (the initial value is already in) is the CRC of the whole.
    uint8_t rest[32];
    _mm_storeu_si128((__m128i *)rest, x);
    memcpy(rest + 16, p, n);
    return libdeflate_crc32(0xFFFFFFFFu, rest, 16 + n);
}

// AVX-512F and VPCLMULQDQ in CPUID leaf 7, and the OS saving the opmask and all ZMM registers.
static int cpu_has_wide_clmul(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE)) return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    if (!(b & bit_AVX512F) || !(c & bit_VPCLMULQDQ)) return 0;
    unsigned lo, hi;
    __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & 0xE6) == 0xE6;
}

static int use_wide_folding(void) {
    // Threads that race here all store the same answer.
    static _Atomic int known = -1;
    int value = atomic_load_explicit(&known, memory_order_relaxed);
    if (value < 0) {
        value = cpu_has_wide_clmul();
        atomic_store_explicit(&known, value, memory_order_relaxed);
    }
    return value;
}

uint32_t pare_crc32(uint32_t crc, const void *bytes, size_t count) {
    if (count >= 256 && use_wide_folding()) return crc32_wide(crc, bytes, count);
    return libdeflate_crc32(crc, bytes, count);
}

#else

uint32_t pare_crc32(uint32_t crc, const void *bytes, size_t count) { return libdeflate_crc32(crc, bytes, count); }

#endif
