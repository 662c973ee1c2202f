/* sparsemom: the driver of a generated recursion kernel, E R_k summed over rows.
 *
 * Included at the end of every generated numerics/generated/<recursion>.c, which
 * defines before it (everything specific to one derived recursion):
 *   KERNEL                   the entry point's name, e.g. sparsemom_lsq_heavy_ball_steps
 *   KERNEL_FINGERPRINT       the derivation's fingerprint (a string literal)
 *   N_ARGUMENTS, N_OUTPUTS   inputs and outputs of the coefficient function
 *   COEFFICIENTS(arg, out)   the generated coefficient function of one row
 *   COEFFICIENT_VECTORS      declarators of the per-tile coefficient and state vectors
 *   LOAD_COEFFICIENTS(g, l)  lane l of vector g from out[]; CLEAR_COEFFICIENTS(g, l): 0
 *   RISK_OF_STATE(g)         w . x of vector g
 *   STEP(g, acc)             x <- A x + c for vector g, then acc += w . x
 *
 * Rows are processed in tiles of TILE vectors of LANES rows (GCC/Clang vector
 * extensions, both chosen at compile time for the CPU: vector_width.h); within a tile
 * the state and the coefficients stay in registers and the time loop runs inside,
 * each step's partial risk added into a per-thread vector accumulator. OpenMP
 * (optional) distributes tiles over threads with a fixed, deterministic reduction
 * order. */
#include <math.h>
#include <stdlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "vector_width.h"

#define TILE_ROWS (LANES * TILE)
#define SPARSEMOM_CAT2(a, b) a##b
#define SPARSEMOM_CAT(a, b) SPARSEMOM_CAT2(a, b)

/* Rows [first, first + count), count <= TILE_ROWS, for steps 0..steps: adds each
 * step's risk, lane by lane, into partial[0..steps]. Padding lanes are all 0. */
static void SPARSEMOM_CAT(KERNEL, _tile)(long first, long count, long steps,
                                         const double *const *args, const long *strides,
                                         vec *partial)
{
    vec COEFFICIENT_VECTORS;
    const vec zero = {0};
    double arg[N_ARGUMENTS], out[N_OUTPUTS];
    for (int g = 0; g < TILE; ++g) {
        for (int l = 0; l < LANES; ++l) {
            const long r = (long)g * LANES + l;
            if (r < count) {
                for (int j = 0; j < N_ARGUMENTS; ++j)
                    arg[j] = args[j][(first + r) * strides[j]];
                COEFFICIENTS(arg, out);
                LOAD_COEFFICIENTS(g, l);
            } else {
                CLEAR_COEFFICIENTS(g, l);
            }
        }
    }
    for (int g = 0; g < TILE; ++g)
        partial[0] += RISK_OF_STATE(g);
    (void)zero;
    for (long t = 1; t <= steps; ++t) {
        vec acc = zero;
        for (int g = 0; g < TILE; ++g)
            STEP(g, acc);
        partial[t] += acc;
    }
}

/* E R_k for k = 0..steps summed over rows, into risk[0..steps].
 * args[j][r * strides[j]] is argument j of row r (stride 0 broadcasts a scalar).
 * Once a row's risk overflows it stays non-finite, so the first non-finite step t
 * marks divergence: risk[t..] = inf and t is returned; -1 when nothing overflowed,
 * -2 when memory ran out. */
long KERNEL(long rows, long steps, const double *const *args, const long *strides,
            double *risk, int threads)
{
    const long tiles = (rows + TILE_ROWS - 1) / TILE_ROWS;
    if (threads < 1)
        threads = 1;
    const size_t per_thread = (size_t)(steps + 1);
    vec *partial = aligned_alloc(sizeof(vec), (size_t)threads * per_thread * sizeof(vec));
    if (!partial)
        return -2;
    for (size_t i = 0; i < (size_t)threads * per_thread; ++i)
        partial[i] = (vec){0};
#pragma omp parallel num_threads(threads)
    {
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        vec *mine = partial + (size_t)tid * per_thread;
#pragma omp for schedule(static)
        for (long b = 0; b < tiles; ++b) {
            const long first = b * TILE_ROWS;
            const long count = rows - first < TILE_ROWS ? rows - first : TILE_ROWS;
            SPARSEMOM_CAT(KERNEL, _tile)(first, count, steps, args, strides, mine);
        }
    }
    long diverged = -1;
    for (long s = 0; s <= steps; ++s) {
        double total = 0.0;
        for (int i = 0; i < threads; ++i)
            for (int l = 0; l < LANES; ++l)
                total += partial[(size_t)i * per_thread + (size_t)s][l];
        if (diverged < 0 && !isfinite(total))
            diverged = s;
        risk[s] = diverged < 0 ? total : INFINITY;
    }
    free(partial);
    return diverged;
}

/* The vector width and tile this kernel was compiled with (they follow the CPU). */
long SPARSEMOM_CAT(KERNEL, _lanes)(void) { return LANES; }
long SPARSEMOM_CAT(KERNEL, _tile_vectors)(void) { return TILE; }

const char *SPARSEMOM_CAT(KERNEL, _fingerprint)(void) { return KERNEL_FINGERPRINT; }
