#!/usr/bin/env python3
"""Prints the CRC-32 fold constants in Sources/CChecksum/crc32.c.

For a fold distance of D bits, a 128-bit lane's earlier 64 bits are multiplied by x^(D+31) mod P and
its later 64 bits by x^(D-33) mod P, P(x) = 0x104C11DB7 (IEEE 802.3), each bit-reflected into 32
bits. Standard library only.
"""

POLYNOMIAL = 0x104C11DB7


def x_power_mod_reflected(n):
    remainder = 1
    for _ in range(n):
        remainder <<= 1
        if remainder & (1 << 32):
            remainder ^= POLYNOMIAL
    return int(f"{remainder:032b}"[::-1], 2)


for distance in (2048, 512, 384, 256, 128):
    print(f"#define FOLD_{distance} 0x{x_power_mod_reflected(distance - 33):08x}u, 0x{x_power_mod_reflected(distance + 31):08x}u")
