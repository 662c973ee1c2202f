/* sparsemom: math functions applied lane by lane to a native vector.
 *
 * The generated coefficient functions compute a group of LANES rows at once in vector
 * arithmetic (vector_width.h); C has no vector expm1, log1p, pow, ..., so each such
 * function f is wrapped as a loop over the lanes. A generated file instantiates the
 * wrappers it calls, LANEWISE_1(expm1) or LANEWISE_2(pow), and names each call
 * lanewise_f with its arguments broadcast when they are numbers (LANEWISE_VEC):
 *   #define lanewise_pow(a, b) sparsemom_lanewise_pow(LANEWISE_VEC(a), LANEWISE_VEC(b)) */
#ifndef SPARSEMOM_LANEWISE_H
#define SPARSEMOM_LANEWISE_H

#include <math.h>

#include "vector_width.h"

/* x as a vector: itself, or a number broadcast to every lane. */
#define LANEWISE_VEC(x) _Generic((x), vec: (x), default: ((vec){0} + (x)))

#define LANEWISE_1(f)                                                                     \
    static inline vec sparsemom_lanewise_##f(vec a)                                       \
    {                                                                                     \
        vec r;                                                                            \
        for (int l = 0; l < LANES; ++l)                                                   \
            r[l] = f(a[l]);                                                               \
        return r;                                                                         \
    }
#define LANEWISE_2(f)                                                                     \
    static inline vec sparsemom_lanewise_##f(vec a, vec b)                                \
    {                                                                                     \
        vec r;                                                                            \
        for (int l = 0; l < LANES; ++l)                                                   \
            r[l] = f(a[l], b[l]);                                                         \
        return r;                                                                         \
    }

#endif
