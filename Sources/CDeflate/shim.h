// Thin shim over the system libdeflate (Debian: libdeflate-dev), used only for its CRC-32: it
// folds with carry-less multiplication (PCLMULQDQ on x86-64, PMULL on ARMv8) where the CPU has it,
// about twice as fast as zlib's braided CRC-32 and several times a table-driven loop in Swift.
#include <libdeflate.h>
