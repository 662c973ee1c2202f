"""Token streams: Zipf or real word frequencies over rows, and their frequency bands.

Row ``i`` (rank ``i = 1..V``) is active with probability ``p_i``:

* synthetic: ``p_i = min(1, n · i^(−s) / Σ_j j^(−s))``, each sample carrying ``n``
  tokens on average (``n = 1``: one token per sample);
* real: ``p_i`` the frequency of the ``i``-th most common word of a language in running
  text (the ``wordfreq`` package's data, an optional dependency: ``pip install
  'sparsemom[words]'``), one word per sample — the top ``V`` rows together hold the
  share ``Σ p_i < 1`` of all words.

Bands are decades of rank ``[10^j, 10^(j+1))``, the natural unit of a heavy-tailed
vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sparsemom.numerics.inputs.validation import check_integer, check_per_row


def zipf_frequencies(rows: int, exponent: float = 1.1, tokens_per_sample: float = 1.0) -> np.ndarray:
    """``p_i ∝ i^(−s)``, ``i = 1..rows``, normalised to ``Σ p_i = tokens_per_sample``
    (capped at 1 per row)."""
    rows = check_integer("rows", rows, minimum=1)
    exponent = float(check_per_row("exponent", exponent, lower=0))
    tokens = float(check_per_row("tokens_per_sample", tokens_per_sample, lower=0, lower_open=True))
    p = np.arange(1, rows + 1, dtype=float) ** -exponent
    return np.minimum(p * (tokens / p.sum()), 1.0)


def _wordfreq():
    try:
        import wordfreq
    except ImportError as exc:  # an optional dependency, imported where it is used
        raise ImportError("real word frequencies need the wordfreq package: "
                          "pip install 'sparsemom[words]'") from exc
    return wordfreq


def check_language(lang: str) -> str:
    """``lang`` if ``wordfreq`` has data for it, else a ``ValueError`` listing them."""
    languages = _wordfreq().available_languages()
    if lang not in languages:
        raise ValueError(f"lang must be one of wordfreq's languages "
                         f"({', '.join(sorted(languages))}); got {lang!r}")
    return lang


def word_frequencies(lang: str, n: int) -> np.ndarray:
    """Frequencies ``p_1 ≥ p_2 ≥ …`` of the ``n`` most common words of language ``lang``
    (an ISO code such as ``"en"``, ``"de"``) in running text, from ``wordfreq``'s data
    (its ``"best"`` word list; frequencies are rounded there to about 3 significant
    digits).  A ``ValueError`` names an unknown language or an ``n`` beyond the list."""
    n = check_integer("n", n, minimum=1)
    wordfreq = _wordfreq()
    check_language(lang)
    words = wordfreq.top_n_list(lang, n)
    if len(words) < n:
        raise ValueError(f"n must be at most {len(words)} for lang={lang!r} (the size of "
                         f"wordfreq's list); got {n}")
    p = np.array([wordfreq.word_frequency(w, lang) for w in words], dtype=float)
    return np.sort(p)[::-1]


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


#: A stream: ``"zipf"`` (synthetic, :func:`zipf_frequencies`) or ``"words-LANG"`` (real,
#: :func:`word_frequencies`).
WORDS_PREFIX = "words-"


def check_stream(stream: str, rows: int | None = None) -> str:
    """``stream`` if it names a token stream (see :data:`WORDS_PREFIX`) with at least
    ``rows`` rows, else a ``ValueError`` starting with ``stream`` or ``rows``."""
    if stream == "zipf":
        return stream
    if isinstance(stream, str) and stream.startswith(WORDS_PREFIX):
        lang = stream[len(WORDS_PREFIX):]
        try:
            check_language(lang)
        except (ValueError, ImportError) as exc:  # a missing optional package, said in one line
            raise ValueError(f"stream {stream!r}: {exc}") from None
        if rows is not None:
            available = len(_wordfreq().top_n_list(lang, rows))
            if available < rows:
                raise ValueError(f"rows must be at most {available} for stream {stream!r} "
                                 f"(the size of wordfreq's list); got {rows}")
        return stream
    raise ValueError(f"stream must be 'zipf' or 'words-LANG' (e.g. 'words-en'); got {stream!r}")


def stream_frequencies(stream: str, rows: int, exponent: float = 1.1) -> np.ndarray:
    """The ``rows`` frequencies of ``stream``: Zipf with ``exponent``, or a language's words."""
    if check_stream(stream) == "zipf":
        return zipf_frequencies(rows, exponent)
    return word_frequencies(stream[len(WORDS_PREFIX):], rows)
