/* sparsemom: math functions applied lane by lane to a native vector.
 *
 * The generated coefficient functions compute a group of LANES rows at once in vector
 * arithmetic (vector_width.h); C has no vector expm1, log1p, pow, ..., so each such
 * function f is wrapped as lanewise_f, a loop over the lanes. A generated file
 * instantiates the wrappers it calls: LANEWISE_1(expm1), LANEWISE_2(pow). */
#ifndef SPARSEMOM_LANEWISE_H
#define SPARSEMOM_LANEWISE_H

#include <math.h>

#include "vector_width.h"

#define LANEWISE_1(f)                                                                     \
    static inline vec lanewise_##f(vec a)                                                 \
    {                                                                                     \
        vec r;                                                                            \
        for (int l = 0; l < LANES; ++l)                                                   \
            r[l] = f(a[l]);                                                               \
        return r;                                                                         \
    }
#define LANEWISE_2(f)                                                                     \
    static inline vec lanewise_##f(vec a, vec b)                                          \
    {                                                                                     \
        vec r;                                                                            \
        for (int l = 0; l < LANES; ++l)                                                   \
            r[l] = f(a[l], b[l]);                                                         \
        return r;                                                                         \
    }

#endif
