/* sparsemom: the driver of a generated recursion kernel, E R_k summed over rows.
 *
 * Included at the end of every generated numerics/generated/<recursion>.c, which
 * defines before it (everything specific to one derived recursion):
 *   KERNEL                   the entry point's name, e.g. sparsemom_lsq_heavy_ball_steps
 *   KERNEL_FINGERPRINT       the derivation's fingerprint (a string literal)
 *   N_ARGUMENTS, N_OUTPUTS   inputs and outputs of the coefficient function
 *   N_STATE                  the number of second moments
 *   COEFFICIENTS(arg, out)   the generated coefficient function of a group of LANES
 *                            rows, in vector arithmetic: lane l of out[] from lane l
 *                            of arg[] (lanewise.h)
 *   TRANSITION_VECTORS       declarators of the per-tile vectors of A and c (entries
 *                            identically 0 left out); LOAD_TRANSITION(g): vectors g
 *                            from out[]; CLEAR_TRANSITION(g, l): their lane l set to 0
 *   STATE_VECTORS, LOAD_STATE(g), CLEAR_STATE(g, l)
 *                            the same for the risk weights w and the state x
 *   LOAD_INITIAL(g, l, x)    lane l of the state vectors g from x[0..N_STATE)
 *   RISK_OF_STATE(g)         w . x of vector g
 *   STEP(g, acc)             x <- A x + c for vector g, then acc += w . x
 *   PAIR_VECTORS, PAIR_OF_TILE(g)   (optional: without PAIR_STEP the kernel steps once at a time)
 *                            the two-step coefficients P = A^2, q = A c + c, u = A^T w,
 *                            ws = w . c of vector g, from its coefficient vectors
 *                            (all lanes at once, after the tile's lanes are loaded)
 *   PAIR_STEP(g, acc1, acc2) acc1 += u . x + ws (the risk of the step between), then
 *                            x <- P x + q and acc2 += w . x: two steps at once
 * and, when the entries are polynomials in the hyper-parameters (SCHEDULED defined),
 * the scheduled step x <- A_k x + c_k with A_k = sum_a mu_a(k) K_a:
 *   N_MONOMIALS, N_SCHEDULED_OUTPUTS, SCHEDULED_COEFFICIENTS(arg, out), SCHEDULED_VECTORS,
 *   LOAD_SCHEDULED(g) (from sout[]), CLEAR_SCHEDULED(g, l), SCHEDULED_STEP(g, acc, mu)
 *
 * Rows are processed in tiles of TILE vectors of LANES rows (GCC/Clang vector
 * extensions, both chosen at compile time for the CPU: vector_width.h); within a tile
 * the state and the coefficients stay in registers and the time loop runs inside,
 * each step's partial risk added into a per-thread vector accumulator. A
 * time-invariant recursion advances two steps at a time (PAIR_STEP; one STEP first
 * when the number of steps is odd): fewer multiply-adds and loads per row-step. OpenMP
 * (optional) distributes tiles over threads with a fixed, deterministic reduction
 * order. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "lanewise.h"

#define TILE_ROWS (LANES * TILE)
#define SPARSEMOM_CAT2(a, b) a##b
#define SPARSEMOM_CAT(a, b) SPARSEMOM_CAT2(a, b)
/* A loop over a tile's vectors unrolled whole (GCC, Clang): the per-tile arrays are then
 * indexed by constants only, so they can live in registers. */
#define SPARSEMOM_PRAGMA(x) _Pragma(#x)
#define SPARSEMOM_UNROLL(n) SPARSEMOM_PRAGMA(GCC unroll n)

/* The inputs of group g of a tile, lane l from row first + g * LANES + l:
 * arg[j][l] = args[j][row * strides[j]]. A padding lane (row >= first + count) repeats
 * the tile's last row, so that it computes finite coefficients (cleared afterwards).
 * A broadcast input (stride 0) and a contiguous full group load whole vectors. */
static inline void SPARSEMOM_CAT(KERNEL, _group_inputs)(vec *arg, long first, long count,
                                                       int g, const double *const *args,
                                                       const long *strides)
{
    const long base = (long)g * LANES;
    for (int j = 0; j < N_ARGUMENTS; ++j) {
        const double *a = args[j];
        const long s = strides[j];
        if (s == 0) {
            arg[j] = (vec){0} + a[0];
        } else if (s == 1 && base + LANES <= count) {
            memcpy(&arg[j], a + first + base, sizeof(vec));
        } else {
            double lane[LANES];
            for (int l = 0; l < LANES; ++l) {
                const long r = base + l < count ? base + l : count - 1;
                lane[l] = a[(first + r) * s];
            }
            memcpy(&arg[j], lane, sizeof(vec));
        }
    }
}

/* Lane l of group g is row first + r: with initial moments given, they replace the
 * derived X_0 of that lane. */
#define SPARSEMOM_ROW_INITIAL(g, l, r)                                                    \
    do {                                                                                  \
        double x0v[N_STATE];                                                              \
        for (int i = 0; i < N_STATE; ++i)                                                 \
            x0v[i] = initial[i][(first + (r)) * initial_strides[i]];                      \
        LOAD_INITIAL(g, l, x0v);                                                          \
    } while (0)

/* Rows [first, first + count), count <= TILE_ROWS, for steps 0..steps: adds each
 * step's risk, lane by lane, into partial[0..steps]. Padding lanes are all 0. */
static void SPARSEMOM_CAT(KERNEL, _tile)(long first, long count, long steps,
                                         const double *const *args, const long *strides,
                                         const double *const *initial,
                                         const long *initial_strides, vec *partial)
{
    vec TRANSITION_VECTORS;
    vec STATE_VECTORS;
#ifdef PAIR_STEP
    vec PAIR_VECTORS;
#endif
    const vec zero = {0};
    vec arg[N_ARGUMENTS], out[N_OUTPUTS];
    for (int g = 0; g < TILE; ++g) {
        SPARSEMOM_CAT(KERNEL, _group_inputs)(arg, first, count, g, args, strides);
        COEFFICIENTS(arg, out);
        LOAD_TRANSITION(g);
        LOAD_STATE(g);
        for (int l = 0; l < LANES; ++l) {
            const long r = (long)g * LANES + l;
            if (r >= count) {
                CLEAR_TRANSITION(g, l);
                CLEAR_STATE(g, l);
            } else if (initial) {
                SPARSEMOM_ROW_INITIAL(g, l, r);
            }
        }
#ifdef PAIR_STEP
        PAIR_OF_TILE(g);
#endif
    }
    for (int g = 0; g < TILE; ++g)
        partial[0] += RISK_OF_STATE(g);
    (void)zero;
    long t = 1;
#ifndef PAIR_STEP
    for (; t <= steps; ++t) {
        vec acc = zero;
        for (int g = 0; g < TILE; ++g)
            STEP(g, acc);
        partial[t] += acc;
    }
#else
    if (steps % 2) {
        vec acc = zero;
        for (int g = 0; g < TILE; ++g)
            STEP(g, acc);
        partial[t++] += acc;
    }
    for (; t < steps; t += 2) {
        vec acc1 = zero, acc2 = zero;
        for (int g = 0; g < TILE; ++g)
            PAIR_STEP(g, acc1, acc2);
        partial[t] += acc1;
        partial[t + 1] += acc2;
    }
#endif
}

#ifdef SCHEDULED
/* As above with step t - 1's hyper-parameters: mu[(t - 1) * N_MONOMIALS + a] is the
 * monomial a of the multipliers of step t - 1 (shared by every row). Its loops over the
 * tile are unrolled on purpose: left to itself, GCC 12 keeps the AVX-512 tile (8 lanes,
 * tile 4) of a 3-moment recursion rolled, so the state goes through memory at every step
 * and the monomials are broadcast again for each vector. llvm-mca (Ice Lake server
 * model) puts that loop at 0.62 of the limit (0.57-0.65 were measured on Sapphire
 * Rapids), the unrolled one at 0.92. GCC unrolls the time-invariant tile above by itself
 * at the default tiles; forcing it made SSE2's two-step loop 8 % slower. */
static void SPARSEMOM_CAT(KERNEL, _scheduled_tile)(long first, long count, long steps,
                                                   const double *const *args,
                                                   const long *strides,
                                                   const double *const *initial,
                                                   const long *initial_strides,
                                                   const double *monomials, vec *partial)
{
    vec STATE_VECTORS;
    vec SCHEDULED_VECTORS;
    const vec zero = {0};
    vec arg[N_ARGUMENTS], out[N_OUTPUTS], sout[N_SCHEDULED_OUTPUTS];
    SPARSEMOM_UNROLL(TILE) for (int g = 0; g < TILE; ++g) {
        SPARSEMOM_CAT(KERNEL, _group_inputs)(arg, first, count, g, args, strides);
        COEFFICIENTS(arg, out);
        LOAD_STATE(g);
        SCHEDULED_COEFFICIENTS(arg, sout);
        LOAD_SCHEDULED(g);
        for (int l = 0; l < LANES; ++l) {
            const long r = (long)g * LANES + l;
            if (r >= count) {
                CLEAR_STATE(g, l);
                CLEAR_SCHEDULED(g, l);
            } else if (initial) {
                SPARSEMOM_ROW_INITIAL(g, l, r);
            }
        }
    }
    SPARSEMOM_UNROLL(TILE) for (int g = 0; g < TILE; ++g)
        partial[0] += RISK_OF_STATE(g);
    (void)zero;
    for (long t = 1; t <= steps; ++t) {
        const double *mu = monomials + (size_t)(t - 1) * N_MONOMIALS;
        vec acc = zero;
        SPARSEMOM_UNROLL(TILE) for (int g = 0; g < TILE; ++g)
            SCHEDULED_STEP(g, acc, mu);
        partial[t] += acc;
    }
}
#endif

/* E R_k for k = 0..steps summed over rows, into risk[0..steps].
 * args[j][r * strides[j]] is argument j of row r (stride 0 broadcasts a scalar);
 * initial (NULL: the derived X_0) gives X_0 entry i of row r at
 * initial[i][r * initial_strides[i]]; monomials (NULL: time-invariant) is the table
 * steps x N_MONOMIALS of the scheduled kernel (-3 when this kernel has none).
 * Once a row's risk overflows it stays non-finite, so the first non-finite step t
 * marks divergence: risk[t..] = inf and t is returned; -1 when nothing overflowed,
 * -2 when memory ran out. */
long KERNEL(long rows, long steps, const double *const *args, const long *strides,
            const double *const *initial, const long *initial_strides,
            const double *monomials, double *risk, int threads)
{
#ifndef SCHEDULED
    if (monomials)
        return -3;
#endif
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
#ifdef SCHEDULED
            if (monomials)
                SPARSEMOM_CAT(KERNEL, _scheduled_tile)(first, count, steps, args, strides,
                                                       initial, initial_strides, monomials,
                                                       mine);
            else
#endif
                SPARSEMOM_CAT(KERNEL, _tile)(first, count, steps, args, strides, initial,
                                             initial_strides, mine);
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
#ifdef SCHEDULED
long SPARSEMOM_CAT(KERNEL, _monomials)(void) { return N_MONOMIALS; }
#else
long SPARSEMOM_CAT(KERNEL, _monomials)(void) { return 0; }
#endif

const char *SPARSEMOM_CAT(KERNEL, _fingerprint)(void) { return KERNEL_FINGERPRINT; }
