"""``sparsemom verify``: run every verification rung."""

from __future__ import annotations

import os
import time

from sparsemom.derivations import all_recursions
from sparsemom.numerics.runtime.progress import progress
from sparsemom.numerics.verify.rungs import run_all

DESCRIPTION = ("run every verification rung (exact moments, closed forms, backends, Monte Carlo, "
               "logistic quadrature, drift, linearisation, mean field); exit 1 on a failure")


def run(args) -> int:
    start = time.perf_counter()
    recursions = all_recursions()
    print(f"derived {len(recursions)} recursions (models × optimizers × time rules) "
          f"in {time.perf_counter() - start:.1f} s")
    failures = 0
    counts: dict[str, list[int]] = {}
    # forked workers: the command line has run no OpenMP kernel before this point
    for result in progress(run_all(workers=os.cpu_count() or 1), desc="verifying", unit="check"):
        print(result)
        tally = counts.setdefault(result.rung, [0, 0])
        tally[0] += result.passed
        tally[1] += 1
        failures += not result.passed
    print("\nsummary:")
    for rung, (ok, total) in counts.items():
        print(f"  {rung:18s} {ok}/{total} passed")
    print(f"  total time {time.perf_counter() - start:.1f} s")
    return 1 if failures else 0


def add_arguments(parser) -> None:
    pass
