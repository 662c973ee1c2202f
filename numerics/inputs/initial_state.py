"""Initial second moments: ``X_0`` of a recursion, the model's ``R_0`` and any given
moments of the buffers.

By default every buffer starts at 0, so ``X_0 = (R_0, 0, …, 0)``.  A user may start
from other second moments, ``initial_state={"C": C0, "V": V0}`` (names as the
recursion's state: ``C = E⟨e, v⟩``, ``V = E‖v‖²``, ``M_{e,y} = E⟨e, y⟩``, …), scalars or
per-row arrays.  ``R`` comes from the model's ``R0``.  The moments must be those of
real vectors: per row, the Gram matrix of the state vectors must be positive
semi-definite (checked), which is also what lets a simulator draw vectors with them.
"""

from __future__ import annotations

import numpy as np

from sparsemom.derivations import MomentRecursion
from sparsemom.derivations.engine.moments import R0 as R0_SYMBOL
from sparsemom.numerics.inputs.validation import as_values, common_rows


def initial_moments(recursion: MomentRecursion, initial_state: dict | None, rows: int,
                    R0: np.ndarray) -> dict[str, np.ndarray] | None:
    """The given initial moments by state name (validated), or ``None`` for the default
    start; a ``ValueError`` names an unknown moment, ``R``, a bad shape or a Gram matrix
    that is not positive semi-definite."""
    if not initial_state:
        return None
    if not isinstance(initial_state, dict):
        raise ValueError(f"initial_state must be a dict moment name → value; got {initial_state!r}")
    names = [s.name for s in recursion.state]
    unknown = sorted(set(initial_state) - set(names))
    if unknown:
        raise ValueError(f"initial_state names {unknown}, which are not moments of "
                         f"{recursion.optimizer!r}; its moments are {names}")
    if names[0] in initial_state:
        raise ValueError(f"initial_state must not give {names[0]}: the error's energy is the "
                         "model's R0")
    values = {k: as_values(f"initial_state[{k!r}]", x) for k, x in initial_state.items()}
    common_rows(R0=R0, **{f"initial_state[{k!r}]": x for k, x in values.items()})
    full = {**default_moments(recursion, R0), **values}
    gram = gram_matrices(recursion, full, rows)
    smallest = np.linalg.eigvalsh(gram)[:, 0] if gram.size else np.zeros(0)
    scale = np.maximum(1.0, np.abs(gram).max(axis=(1, 2)))
    bad = np.nonzero(smallest < -1e-12 * scale)[0]
    if bad.size:
        raise ValueError(f"initial_state: the second moments of row {bad[0]} are not those of "
                         f"real vectors (their Gram matrix has eigenvalue {smallest[bad[0]]:.3g} "
                         "< 0; e.g. C² ≤ R·V)")
    return values


def default_moments(recursion: MomentRecursion, R0) -> dict[str, object]:
    """The derived ``X_0`` by state name: ``R_0`` where the recursion starts at ``R_0``
    (``e``, and buffers that start at ``e_0``), else 0."""
    return {s.name: R0 if x == R0_SYMBOL else 0 for s, x in zip(recursion.state, recursion.initial)}


def gram_matrices(recursion: MomentRecursion, moments: dict, rows: int) -> np.ndarray:
    """Per row, the Gram matrix ``G_{uw} = E⟨u, w⟩`` of the state vectors (rows × n × n),
    from moments by state name (missing ones 0), in float64."""
    vectors = [dot.args[0] for dot in recursion.meaning if dot.args[0] == dot.args[1]]
    index = {u: i for i, u in enumerate(vectors)}
    G = np.zeros((rows, len(vectors), len(vectors)))
    for state, dot in zip(recursion.state, recursion.meaning):
        u, w = dot.args
        x = np.broadcast_to(np.asarray(moments.get(state.name, 0), dtype=float), (rows,))
        G[:, index[u], index[w]] = x
        G[:, index[w], index[u]] = x
    return G


def state_vectors(recursion: MomentRecursion, moments: dict, rows: int, d: int):
    """Per state vector (``e`` first, in the rule's order), vectors ``(rows, d)`` whose
    Gram matrix is :func:`gram_matrices` (a factor ``G = L Lᵀ`` in the first coordinates;
    the laws are rotation invariant, so any such vectors have the same future moments)."""
    G = gram_matrices(recursion, moments, rows)
    n = G.shape[1]
    if n > d:
        raise ValueError(f"d={d} is too small to hold {n} state vectors with given moments")
    w, U = np.linalg.eigh(G)
    L = U * np.sqrt(np.clip(w, 0, None))[:, None, :]
    out = np.zeros((n, rows, d))
    out[:, :, :n] = np.transpose(L, (1, 0, 2))
    return out
