/* sparsemom: the driver of a generated kernel of coupled modes,
 *     x_j <- A_j x_j + c_j + u_j S,   S = sum_i q_i . x_i,   E R = sum_j w_j . x_j.
 *
 * Included at the end of a generated numerics/generated/<recursion>.c of a law whose modes
 * couple (derivations RowCoupling), which defines before it:
 *   KERNEL, KERNEL_FINGERPRINT, N_ARGUMENTS, N_OUTPUTS, N_STATE, COEFFICIENTS(arg, out)
 *                            as for recursion_kernel.h
 *   N_COEFFICIENTS           the per-mode coefficients kept (entries of A, c, u, q, w
 *                            that are not identically 0)
 *   KEEP_COEFFICIENTS(out, k)   k[0..N_COEFFICIENTS) from the coefficient function's out[]
 *   INITIAL_OF(out, x)       x[0..N_STATE) = the derived X_0 from out[]
 *   COUPLING_OF(k, x)        q . x of one group of modes (a vec)
 *   RISK_OF(k, x)            w . x
 *   COUPLED_STEP(k, x, S)    x <- A x + c + u S for one group (S a vec, all lanes equal)
 *
 * Modes are processed in groups of LANES (vector_width.h); the state and the coefficients
 * of every group live in memory (a coupled step needs S of the whole row before any mode
 * can move). One pass per step advances every mode and accumulates the next S and the
 * risk. OpenMP threads own contiguous ranges of groups; each step ends with one barrier,
 * and every thread sums the per-thread partials in the same fixed order (deterministic
 * whatever the thread count's scheduling). Per-step multipliers of the arguments
 * (schedules) recompute the coefficients of step t from the base arguments.
 *
 * With POLY defined (entries polynomial in the per-mode parameters,
 * numerics/codegen/mode_polynomials.py) and every other argument one scalar, a step
 * instead computes the scalar coefficients C of its polynomials and the forcing
 * F = C_c + C_u S once, and builds each group's entries from C and the group's monomials,
 * in registers; the weighted sums come from one sum over modes per (monomial, entry) pair
 * of the weights, T_p = sum_j mono_m x_i, combined with C once per step:
 *   N_MODE_MONOMIALS, N_POLY_COEFFICIENTS, N_POLY_FORCING, N_WEIGHT_PAIRS,
 *   PER_MODE_ARGUMENT(j), POLY_COEFFICIENTS(a, C), MODE_MONOMIALS(arg, mono),
 *   POLY_FORCING(C, S, F), POLY_STEP(mono, x, C, F), POLY_MOMENTS(mono, x, T) (T += ...),
 *   POLY_SUMS(C, T, s, r) (s = q . x, r = w . x): the per-mode coefficients are not read
 *   in this step. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "lanewise.h"
#include "subnormals.h"

#define SPARSEMOM_CAT2(a, b) a##b
/* Partial sums per thread and step: s and r, or the pair sums T of the polynomial step. */
#if defined(POLY) && N_WEIGHT_PAIRS > 2
#define N_PARTIAL N_WEIGHT_PAIRS
#else
#define N_PARTIAL 2
#endif
#define SPARSEMOM_CAT(a, b) SPARSEMOM_CAT2(a, b)

/* The arguments of group g, lane l from mode g * LANES + l (a padding lane repeats the
 * last mode, so its coefficients are finite; it is cleared afterwards). */
static void SPARSEMOM_CAT(KERNEL, _group_arguments)(vec *arg, long rows, long g,
                                                    const double *const *args,
                                                    const long *strides)
{
    for (int j = 0; j < N_ARGUMENTS; ++j) {
        double lane[LANES];
        for (int l = 0; l < LANES; ++l) {
            const long r = g * LANES + l < rows ? g * LANES + l : rows - 1;
            lane[l] = args[j][r * strides[j]];
        }
        memcpy(&arg[j], lane, sizeof(vec));
    }
}

/* The kept coefficients of group g at the arguments arg (times mult[j] when mult is
 * not NULL), padding lanes cleared. */
static void SPARSEMOM_CAT(KERNEL, _group_coefficients)(vec *k, long rows, long g,
                                                       const vec *arg, const double *mult,
                                                       vec *x)
{
    vec a[N_ARGUMENTS], out[N_OUTPUTS];
    for (int j = 0; j < N_ARGUMENTS; ++j)
        a[j] = mult ? arg[j] * mult[j] : arg[j];
    COEFFICIENTS(a, out);
    KEEP_COEFFICIENTS(out, k);
    if (x)
        INITIAL_OF(out, x);
    for (int l = 0; l < LANES; ++l) {
        if (g * LANES + l >= rows) {
            for (int i = 0; i < N_COEFFICIENTS; ++i)
                k[i][l] = 0.0;
            if (x)
                for (int i = 0; i < N_STATE; ++i)
                    x[i][l] = 0.0;
        }
    }
}

static double SPARSEMOM_CAT(KERNEL, _lanes_sum)(vec v)
{
    double s = 0.0;
    for (int l = 0; l < LANES; ++l)
        s += v[l];
    return s;
}

/* E R_k for k = 0..steps of the coupled modes, into risk[0..steps].
 * args[j][r * strides[j]] is argument j of mode r (stride 0 broadcasts a scalar);
 * initial (NULL: the derived X_0) gives X_0 entry i of mode r at
 * initial[i][r * initial_strides[i]]; multipliers (NULL: time-invariant) is the table
 * steps x N_ARGUMENTS of per-step factors of the arguments (step t uses row t - 1).
 * Returns the first step whose risk is not finite (risk[t..] = inf), -1 when none,
 * -2 when memory ran out. */
long KERNEL(long rows, long steps, const double *const *args, const long *strides,
            const double *const *initial, const long *initial_strides,
            const double *multipliers, double *risk, int threads)
{
    const long groups = (rows + LANES - 1) / LANES;
    if (threads < 1)
        threads = 1;
    if (threads > groups)
        threads = (int)groups;
    vec *coef = aligned_alloc(sizeof(vec), (size_t)groups * N_COEFFICIENTS * sizeof(vec));
    vec *state = aligned_alloc(sizeof(vec), (size_t)groups * N_STATE * sizeof(vec));
    vec *base = multipliers
        ? aligned_alloc(sizeof(vec), (size_t)groups * N_ARGUMENTS * sizeof(vec)) : NULL;
    double *partial = malloc((size_t)2 * N_PARTIAL * threads * sizeof(double));
    if (!coef || !state || !partial || (multipliers && !base)) {
        free(coef); free(state); free(base); free(partial);
        return -2;
    }
#ifdef POLY
    /* The polynomial step (POLY_STEP) when every argument but the per-mode ones is one
     * scalar for all modes: per mode only the monomials, weights and state are kept. */
    int poly = 1;
    for (int j = 0; j < N_ARGUMENTS; ++j)
        if (strides[j] != 0 && !PER_MODE_ARGUMENT(j))
            poly = 0;
    vec *monos = poly
        ? aligned_alloc(sizeof(vec), (size_t)groups * N_MODE_MONOMIALS * sizeof(vec)) : NULL;
    if (poly && !monos) {
        free(coef); free(state); free(base); free(partial);
        return -2;
    }
#endif
    long diverged = -1;
#pragma omp parallel num_threads(threads)
    {
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        SUBNORMALS_OFF(csr);
        const long g0 = groups * tid / threads, g1 = groups * (tid + 1) / threads;
        vec s_vec = {0}, r_vec = {0};   /* lane-wise partial sums: one lane sum per step */
        for (long g = g0; g < g1; ++g) {
            vec arg[N_ARGUMENTS];
            vec *k = coef + g * N_COEFFICIENTS, *x = state + g * N_STATE;
            SPARSEMOM_CAT(KERNEL, _group_arguments)(arg, rows, g, args, strides);
            if (base)
                memcpy(base + g * N_ARGUMENTS, arg, sizeof arg);
            SPARSEMOM_CAT(KERNEL, _group_coefficients)(k, rows, g, arg, NULL, x);
#ifdef POLY
            if (poly)
                MODE_MONOMIALS(arg, monos + g * N_MODE_MONOMIALS);
#endif
            if (initial)
                for (int l = 0; l < LANES && g * LANES + l < rows; ++l)
                    for (int i = 0; i < N_STATE; ++i)
                        x[i][l] = initial[i][(g * LANES + l) * initial_strides[i]];
            s_vec += COUPLING_OF(k, x);
            r_vec += RISK_OF(k, x);
        }
        partial[N_PARTIAL * tid] = SPARSEMOM_CAT(KERNEL, _lanes_sum)(s_vec);
        partial[N_PARTIAL * tid + 1] = SPARSEMOM_CAT(KERNEL, _lanes_sum)(r_vec);
#ifdef POLY
        double C[N_POLY_COEFFICIENTS];   /* the coefficients of the last polynomial step */
#endif
#pragma omp barrier
        for (long t = 0;; ++t) {
            const double *mine = partial + (size_t)N_PARTIAL * threads * (t % 2);
            double S = 0.0, R = 0.0;
#ifdef POLY
            if (poly && t > 0) {
                double T[N_PARTIAL] = {0};
                for (int i = 0; i < threads; ++i)
                    for (int p = 0; p < N_PARTIAL; ++p)
                        T[p] += mine[N_PARTIAL * i + p];
                POLY_SUMS(C, T, &S, &R);
            } else
#endif
            for (int i = 0; i < threads; ++i) {
                S += mine[N_PARTIAL * i];
                R += mine[N_PARTIAL * i + 1];
            }
            const int bad = !isfinite(R) || !isfinite(S);
            if (tid == 0) {
                risk[t] = bad ? INFINITY : R;
                if (bad)
                    diverged = t;
            }
            if (bad || t == steps)
                break;
            const vec Sv = (vec){0} + S;
            const double *mult = multipliers ? multipliers + (size_t)t * N_ARGUMENTS : NULL;
            s_vec = (vec){0};
            r_vec = (vec){0};
#ifdef POLY
            if (poly) {
                double a[N_ARGUMENTS], F[N_POLY_FORCING];
                vec T[N_PARTIAL] = {{0}};
                for (int j = 0; j < N_ARGUMENTS; ++j)
                    a[j] = mult ? args[j][0] * mult[j] : args[j][0];
                POLY_COEFFICIENTS(a, C);
                POLY_FORCING(C, S, F);
                for (long g = g0; g < g1; ++g) {
                    vec *x = state + g * N_STATE;
                    const vec *mono = monos + g * N_MODE_MONOMIALS;
                    POLY_STEP(mono, x, C, F);
                    if (g == groups - 1)   /* padding lanes */
                        for (long l = rows - g * LANES; l < LANES; ++l)
                            for (int i = 0; i < N_STATE; ++i)
                                x[i][l] = 0.0;
                    POLY_MOMENTS(mono, x, T);
                }
                double *next = partial + (size_t)N_PARTIAL * threads * ((t + 1) % 2);
                for (int p = 0; p < N_PARTIAL; ++p)
                    next[N_PARTIAL * tid + p] = SPARSEMOM_CAT(KERNEL, _lanes_sum)(T[p]);
#pragma omp barrier
                continue;
            } else
#endif
            for (long g = g0; g < g1; ++g) {
                vec *k = coef + g * N_COEFFICIENTS, *x = state + g * N_STATE;
                if (mult)
                    SPARSEMOM_CAT(KERNEL, _group_coefficients)(k, rows, g, base + g * N_ARGUMENTS,
                                                               mult, NULL);
                COUPLED_STEP(k, x, Sv);
                s_vec += COUPLING_OF(k, x);
                r_vec += RISK_OF(k, x);
            }
            double *next = partial + (size_t)N_PARTIAL * threads * ((t + 1) % 2);
            next[N_PARTIAL * tid] = SPARSEMOM_CAT(KERNEL, _lanes_sum)(s_vec);
            next[N_PARTIAL * tid + 1] = SPARSEMOM_CAT(KERNEL, _lanes_sum)(r_vec);
#pragma omp barrier
        }
        SUBNORMALS_RESTORE(csr);
    }
    if (diverged >= 0)
        for (long t = diverged; t <= steps; ++t)
            risk[t] = INFINITY;
    free(coef); free(state); free(base); free(partial);
#ifdef POLY
    free(monos);
#endif
    return diverged;
}

long SPARSEMOM_CAT(KERNEL, _lanes)(void) { return LANES; }
const char *SPARSEMOM_CAT(KERNEL, _fingerprint)(void) { return KERNEL_FINGERPRINT; }
