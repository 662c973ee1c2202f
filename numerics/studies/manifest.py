"""Regenerate figures and record them in ``manifest.json`` (written atomically).

The manifest lists, per figure: its files (PNG, PDF and the CSV of the numbers it
draws), what it shows, its parameters, the checks on its data with their results and
the run time; and for the run: the mode (quick or full), the git revision of the code
and the versions of Python and of the packages that decide the numbers.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import asdict
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

from sparsemom.numerics.runtime.atomic import write_text_atomic
from sparsemom.numerics.runtime.parallel import parallel_map
from sparsemom.numerics.runtime.progress import progress
from sparsemom.numerics.studies.output import git_revision, package_versions
from sparsemom.numerics.studies.paper import FIGURES, make, runs_a_pool


def _entry(fig, out: Path) -> dict:
    return {"name": fig.name, "description": fig.description,
            "files": [str(Path(p).resolve().relative_to(out.resolve())) for p in fig.paths],
            "parameters": fig.parameters, "seconds": round(fig.seconds, 2), "passed": fig.passed,
            "checks": [asdict(c) for c in fig.checks]}


def previous_entries(path: Path) -> list[dict]:
    """The figure entries of an existing manifest; a damaged one is rebuilt (warning)."""
    if not path.exists():
        return []
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["figures"]
        if not all(isinstance(e, dict) and "name" in e for e in entries):
            raise ValueError("entries without a name")
        return entries
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        warnings.warn(f"{path} is damaged ({exc}); rebuilding it from the figures made now",
                      RuntimeWarning, stacklevel=2)
        return []


def regenerate(out: Path, full: bool, only=None) -> list:
    """Make the figures (``only`` a subset of names) into ``out``; update the manifest
    (entries of figures not remade are kept)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    names = list(only) if only else list(FIGURES)
    # figures without a pool of their own run side by side, one process each (first, while
    # this process has run no OpenMP kernel yet); then each pooled one in turn
    alone = [n for n in names if runs_a_pool(FIGURES[n])]
    side_by_side = [n for n in names if not runs_a_pool(FIGURES[n])]
    made = dict(zip(side_by_side, parallel_map(partial(make, out=out, full=full), side_by_side,
                                               description="figures")))
    made.update((name, make(name, out, full)) for name in progress(
        alone, desc="figures with their own pool", unit="figure", lines=True))
    figures = [made[name] for name in names]
    path = out / "manifest.json"
    entries = {e["name"]: e for e in previous_entries(path)}
    entries.update({fig.name: _entry(fig, out) for fig in figures})
    manifest = {"generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "revision": git_revision(), "versions": package_versions(),
                "mode": "full" if full else "quick",
                "figures": [entries[n] for n in FIGURES if n in entries]}
    write_text_atomic(path, json.dumps(manifest, indent=2, default=str) + "\n")
    return figures
