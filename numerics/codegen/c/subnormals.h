/* sparsemom: subnormal numbers flushed to zero while a kernel runs.
 *
 * A decaying mode or row reaches subnormal numbers (below 2.2e-308) within a few hundred
 * steps, and on x86 each operation on one costs about a hundred cycles: a kernel slowed
 * thirty-fold (3.8e7 instead of 3.7e9 mode-steps/s on a Xeon Sapphire Rapids). Their values
 * are far below the rounding of any sum the kernels form, so each thread sets FTZ | DAZ
 * while it runs and restores its mode before it returns:
 *   SUBNORMALS_OFF(saved); ... SUBNORMALS_RESTORE(saved);  */
#ifndef SPARSEMOM_SUBNORMALS_H
#define SPARSEMOM_SUBNORMALS_H

#if defined(__SSE2__)
#include <xmmintrin.h>
#define SUBNORMALS_OFF(saved) const unsigned saved = _mm_getcsr(); _mm_setcsr(saved | 0x8040)
#define SUBNORMALS_RESTORE(saved) _mm_setcsr(saved)
#else
#define SUBNORMALS_OFF(saved) const int saved = 0
#define SUBNORMALS_RESTORE(saved) (void)saved
#endif

#endif
