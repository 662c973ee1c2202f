"""Token streams: Zipf frequencies over rows and their frequency bands.

Row ``i`` (rank ``i = 1..V``) is active with probability
``p_i = min(1, n · i^(−s) / Σ_j j^(−s))``: each sample carries ``n`` tokens on
average (``n = 1``: one token per sample).  Bands are decades of rank
``[10^j, 10^(j+1))``, the natural unit of a heavy-tailed vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from numerics.inputs.validation import check_integer, check_per_row


def zipf_frequencies(rows: int, exponent: float = 1.1, tokens_per_sample: float = 1.0) -> np.ndarray:
    """``p_i ∝ i^(−s)``, ``i = 1..rows``, normalised to ``Σ p_i = tokens_per_sample``
    (capped at 1 per row)."""
    rows = check_integer("rows", rows, minimum=1)
    exponent = float(check_per_row("exponent", exponent, lower=0))
    tokens = float(check_per_row("tokens_per_sample", tokens_per_sample, lower=0, lower_open=True))
    p = np.arange(1, rows + 1, dtype=float) ** -exponent
    return np.minimum(p * (tokens / p.sum()), 1.0)


@dataclass(frozen=True)
class Band:
    """Rows ``first..last`` (ranks, 1-based, inclusive) of a token stream."""

    first: int
    last: int

    @property
    def rows(self) -> slice:
        """Zero-based slice of the band's rows."""
        return slice(self.first - 1, self.last)

    @property
    def label(self) -> str:
        return f"ranks {self.first:,}–{self.last:,}" if self.last > self.first else f"rank {self.first:,}"


def decade_bands(rows: int) -> list[Band]:
    """Ranks ``[1, 9], [10, 99], …`` up to ``rows``; a remainder shorter than the
    last decade's start (``rows = 10^k`` leaves one row) joins the last band."""
    rows = check_integer("rows", rows, minimum=1)
    bands, first = [], 1
    while first <= rows:
        last = min(rows, 10 * first - 1)
        if rows - last < first:
            last = rows
        bands.append(Band(first, last))
        first = last + 1
    return bands
