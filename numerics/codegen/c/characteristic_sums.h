/* sparsemom: sums over modes of sequences that obey each mode's characteristic recurrence,
 * in differences (the delta operator):
 *
 *     D_i = Delta^i s_m  (i < n),   Delta^n s_m = -(d_1 D_{n-1} + d_2 D_{n-2} + ... + d_n D_0),
 *     out[q][m] = sum_j s^{(q)}_{j,m},   m = 0 .. steps-1,  q = 0 .. SEQS-1.
 *
 * By Cayley-Hamilton, s_m = a . A_j^m b obeys the recurrence of the characteristic
 * polynomial of the mode's n x n block; written for B_j = A_j - I, det(delta I - B_j) =
 * delta^n + d_1 delta^{n-1} + ... + d_n and D_i = a . A_j^m B_j^i b. In differences the
 * recurrence keeps its accuracy when the roots cluster near 1 (heavy momentum, small
 * eigenvalues), where the shift form s_{m+n} = -(chi_1 s_{m+n-1} + ...) loses digits like
 * 1/(1 - beta)^2. A step costs 2n operations per mode instead of the n^2 + n of iterating
 * the block (numerics/kernels/renewal.py: the renewal equation's sums over modes).
 *
 * The including source defines ORDER (n), SEQS (sequences per mode, sharing the mode's
 * d) and KERNEL (the symbol). Inputs, row-major doubles:
 *   chi[j * ORDER + i]                     d_{i+1} of mode j
 *   start[(q * modes + j) * ORDER + i]     D^{(q)}_{j,i} at m = 0, i < ORDER
 * Output out[q * steps + m]. Modes are processed in groups of LANES (vector_width.h), TILE
 * groups at a time with their state and d in registers, over blocks of BLOCK steps whose
 * partial sums stay in L1; OpenMP threads own contiguous ranges of groups, and their
 * partials are added in thread order (deterministic for a given thread count).
 * Subnormals are flushed to zero while it runs (SUBNORMALS_OFF). */
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "vector_width.h"

#include "subnormals.h"

#ifndef BLOCK
#define BLOCK 256
#endif

#define SPARSEMOM_CAT2(a, b) a##b
#define SPARSEMOM_CAT(a, b) SPARSEMOM_CAT2(a, b)

const char *SPARSEMOM_CAT(KERNEL, _fingerprint)(void) { return KERNEL_FINGERPRINT; }

/* aligned_alloc with the size rounded up to the alignment, as C11 requires. */
static void *SPARSEMOM_CAT(KERNEL, _aligned)(size_t size)
{
    return aligned_alloc(64, (size + 63) / 64 * 64);
}

/* Lane l of group g: mode g * LANES + l, or a padding lane (d = 0, D = 0: it stays 0). */
static void SPARSEMOM_CAT(KERNEL, _load)(long modes, long g, const double *chi,
                                         const double *start, vec c[ORDER],
                                         vec s[SEQS][ORDER])
{
    for (int i = 0; i < ORDER; ++i) {
        c[i] = (vec){0};
        for (int q = 0; q < SEQS; ++q)
            s[q][i] = (vec){0};
    }
    for (int l = 0; l < LANES; ++l) {
        const long j = g * LANES + l;
        if (j >= modes)
            break;
        for (int i = 0; i < ORDER; ++i) {
            c[i][l] = chi[j * ORDER + i];
            for (int q = 0; q < SEQS; ++q)
                s[q][i][l] = start[(q * modes + j) * ORDER + i];
        }
    }
}

/* One tile of `count` groups (count <= TILE) over `len` steps: acc[q][m] += the tile's
 * s^{(q)}_m, the state advanced in place. Always inlined, so that the call with
 * count == TILE is compiled for that constant, its state and d in registers. */
static inline __attribute__((always_inline)) void
SPARSEMOM_CAT(KERNEL, _run)(int count, long len, vec c[][ORDER], vec s[][SEQS][ORDER],
                            vec acc[][BLOCK])
{
    vec cc[TILE][ORDER], ss[TILE][SEQS][ORDER];
    memcpy(cc, c, sizeof cc[0] * (size_t)count);
    memcpy(ss, s, sizeof ss[0] * (size_t)count);
    for (long m = 0; m < len; ++m) {
        for (int q = 0; q < SEQS; ++q) {
            vec total = ss[0][q][0];
            for (int t = 1; t < count; ++t)
                total += ss[t][q][0];
            acc[q][m] += total;
        }
        for (int t = 0; t < count; ++t)
            for (int q = 0; q < SEQS; ++q) {
                /* two partial sums: half the latency of one chain */
                vec even = -cc[t][0] * ss[t][q][ORDER - 1], odd = (vec){0};
                for (int i = 1; i < ORDER; ++i) {
                    if (i % 2)
                        odd -= cc[t][i] * ss[t][q][ORDER - 1 - i];
                    else
                        even -= cc[t][i] * ss[t][q][ORDER - 1 - i];
                }
                for (int i = 0; i < ORDER - 1; ++i)
                    ss[t][q][i] += ss[t][q][i + 1];
                ss[t][q][ORDER - 1] += even + odd;
            }
    }
    memcpy(s, ss, sizeof ss[0] * (size_t)count);
}

static void SPARSEMOM_CAT(KERNEL, _tile)(int count, long len, vec c[][ORDER],
                                         vec s[][SEQS][ORDER], vec acc[][BLOCK])
{
    if (count == TILE)
        SPARSEMOM_CAT(KERNEL, _run)(TILE, len, c, s, acc);
    else
        SPARSEMOM_CAT(KERNEL, _run)(count, len, c, s, acc);
}

/* Returns 0, or -1 when memory ran out. */
int KERNEL(long modes, long steps, const double *chi, const double *start, double *out,
           int threads)
{
    const long groups = (modes + LANES - 1) / LANES;
    if (threads < 1)
        threads = 1;
    if (threads > groups)
        threads = groups > 0 ? (int)groups : 1;
    double *partial = calloc((size_t)threads * SEQS * (size_t)steps, sizeof(double));
    if (!partial)
        return -1;
    int failed = 0;
#ifdef _OPENMP
#pragma omp parallel num_threads(threads) reduction(| : failed)
#endif
    {
#ifdef _OPENMP
        const int me = omp_get_thread_num(), team = omp_get_num_threads();
#else
        const int me = 0, team = 1;
#endif
        SUBNORMALS_OFF(csr);
        const long first = groups * me / team, last = groups * (me + 1) / team;
        const long mine = last - first;
        vec (*c)[ORDER] = SPARSEMOM_CAT(KERNEL, _aligned)(sizeof(vec[ORDER]) * (size_t)(mine + 1));
        vec (*s)[SEQS][ORDER] =
            SPARSEMOM_CAT(KERNEL, _aligned)(sizeof(vec[SEQS][ORDER]) * (size_t)(mine + 1));
        vec (*acc)[BLOCK] = SPARSEMOM_CAT(KERNEL, _aligned)(sizeof(vec[BLOCK]) * SEQS);
        double *own = partial + (size_t)me * SEQS * (size_t)steps;
        if (!c || !s || !acc) {
            failed = 1;
        } else {
            for (long g = 0; g < mine; ++g)
                SPARSEMOM_CAT(KERNEL, _load)(modes, first + g, chi, start, c[g], s[g]);
            for (long m0 = 0; m0 < steps; m0 += BLOCK) {
                const long len = steps - m0 < BLOCK ? steps - m0 : BLOCK;
                memset(acc, 0, sizeof(vec[BLOCK]) * SEQS);
                for (long g = 0; g < mine; g += TILE) {
                    const int count = mine - g < TILE ? (int)(mine - g) : TILE;
                    SPARSEMOM_CAT(KERNEL, _tile)(count, len, c + g, s + g, acc);
                }
                for (int q = 0; q < SEQS; ++q)
                    for (long m = 0; m < len; ++m) {
                        double total = 0.0;
                        for (int l = 0; l < LANES; ++l)
                            total += acc[q][m][l];
                        own[q * steps + m0 + m] = total;
                    }
            }
        }
        free(c);
        free(s);
        free(acc);
        SUBNORMALS_RESTORE(csr);
    }
    if (!failed)
        for (int q = 0; q < SEQS; ++q)
            for (long m = 0; m < steps; ++m) {
                double total = 0.0;
                for (int t = 0; t < threads; ++t)
                    total += partial[((size_t)t * SEQS + q) * (size_t)steps + m];
                out[q * steps + m] = total;
            }
    free(partial);
    return failed ? -1 : 0;
}
