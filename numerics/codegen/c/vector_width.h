/* sparsemom: the native vector width and tile of the CPU this is compiled on.
 *
 * Read from the preprocessor macros of -march=native: LANES doubles per native vector,
 * TILE vectors of rows per tile -- enough independent recurrences to hide the FMA
 * latency while state and coefficients stay in (or next to) the register file.
 * Shared by the generated recursion kernels and the machine-limit probe. Measured
 * (row-steps/s of SGD, heavy-ball and DANA, 1, 3 and 6 moments, TILE 1-8): AVX2 (AMD
 * EPYC Zen 3) TILE 3 best for all three; SSE2 on the same CPU (-mno-avx) TILE 4 best
 * or within 7 % for all three (6 was 13 % slower on heavy-ball); AVX-512 (Sapphire
 * Rapids) TILE 4 with the one-step kernel (the two-step one not yet measured); NEON
 * not measured. */
#ifndef SPARSEMOM_VECTOR_WIDTH_H
#define SPARSEMOM_VECTOR_WIDTH_H

#if defined(LANES) || defined(TILE)
/* Set from outside (CC="cc -DLANES=2 -DTILE=5"): the tests run every width this way. */
#if !defined(LANES) || !defined(TILE)
#error "define both LANES and TILE, or neither"
#endif
#elif defined(__AVX512F__)
#define LANES 8
#define TILE 4
#elif defined(__AVX__)
#define LANES 4
#define TILE 3
#elif defined(__SSE2__) || defined(__ARM_NEON) || defined(__aarch64__)
#define LANES 2
#define TILE 4
#else
#define LANES 1
#define TILE 4
#endif

typedef double vec __attribute__((vector_size(LANES * sizeof(double))));

#endif
