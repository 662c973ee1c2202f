"""Seeds of the random simulations: an integer ``≥ 0``, a :class:`numpy.random.SeedSequence`
or a :class:`numpy.random.Generator`, made one ``SeedSequence``.

An integer ``n`` gives ``SeedSequence(n)`` (the stream NumPy's ``default_rng(n)`` uses);
a ``SeedSequence`` is used as given, without advancing it (the same sequence gives the same
result again); a ``Generator`` is drawn from (its next 256 bits seed the simulation, so
calls with one generator differ, as NumPy users expect).
"""

from __future__ import annotations

from numbers import Integral

import numpy as np

from sparsemom.numerics.inputs.validation import check_integer


def check_seed(seed, name: str = "seed"):
    """``seed`` itself when it is an integer ``≥ 0`` (as ``int``), a ``SeedSequence`` or a
    ``Generator``; otherwise a ``ValueError`` naming ``name``."""
    if isinstance(seed, (np.random.SeedSequence, np.random.Generator)):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (Integral, np.integer)):
        raise ValueError(f"{name} must be an integer ≥ 0, a numpy.random.SeedSequence or a "
                         f"numpy.random.Generator; got {seed!r}")
    return check_integer(name, seed, minimum=0)


def seed_sequence(seed, name: str = "seed") -> np.random.SeedSequence:
    """``seed`` (:func:`check_seed`) as a fresh :class:`numpy.random.SeedSequence`."""
    seed = check_seed(seed, name)
    if isinstance(seed, np.random.SeedSequence):
        return np.random.SeedSequence(seed.entropy, spawn_key=seed.spawn_key,
                                      pool_size=seed.pool_size)
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence([int(x) for x in seed.integers(2**63, size=4)])
    return np.random.SeedSequence(seed)


def seed_label(sequence: np.random.SeedSequence):
    """How a result records its seed: the integer when ``sequence`` is ``SeedSequence(n)``,
    otherwise the entropy and spawn key that recreate it."""
    if isinstance(sequence.entropy, int) and not sequence.spawn_key:
        return sequence.entropy
    return f"SeedSequence(entropy={sequence.entropy}, spawn_key={sequence.spawn_key})"


def offset_seed(seed, offset: int) -> np.random.SeedSequence:
    """A seed of its own for item ``offset`` of a study: ``SeedSequence(n + offset)`` for an
    integer ``n`` (as the studies always did), the child with spawn key ``offset`` of a
    ``SeedSequence``, fresh draws of a ``Generator``."""
    sequence = seed_sequence(seed)
    if isinstance(seed, (Integral, np.integer)):
        return np.random.SeedSequence(sequence.entropy + offset)
    return np.random.SeedSequence(sequence.entropy, spawn_key=(*sequence.spawn_key, offset),
                                  pool_size=sequence.pool_size)
