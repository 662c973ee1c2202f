"""``sparsemom reproduce [--full] [--out DIR]``: everything, from the definitions to the report.

1. **derive** every second-moment recursion (models × optimizers × time rules), the
   logistic statistics maps and the linearisation;
2. **codegen**: the generated kernels are regenerated from the derivations when they
   differ from the checked-in sources (a changed model), and reported;
3. **verify**: every rung of ``sparsemom verify`` (exact moments, high precision,
   backends, Monte Carlo, quadrature, one-step drift, linearisation, mean field);
4. **figures**: ``python -m sparsemom.paper_figures`` (their checks are rungs too: Monte Carlo
   per phase, scaling-limit convergence, stability, the spectral conflict);
5. **report**: ``report.md`` beside the figures, one line per check and the figure paths.

Quick sizes by default (well under 10 minutes on 2 cores); ``--full`` for paper-size
runs.  Exit status 1 if any check fails.
"""

from __future__ import annotations

import importlib
import os
import time
from pathlib import Path

from sparsemom.derivations import UPDATE_RULES, all_recursions, derive_recursion
from sparsemom.derivations.definitions.laws import LAWS
from sparsemom.derivations.engine import store
from sparsemom.derivations.engine.recursion import shipped_recursions
from sparsemom.derivations.rare_class.drift import (
    derive_statistics_map,
    unsupported_by_statistics_map,
)
from sparsemom.derivations.rare_class.linearisation import linearise
from sparsemom.numerics import codegen as generated
from sparsemom.numerics.runtime.atomic import write_text_atomic
from sparsemom.numerics.runtime.parallel import parallel_map
from sparsemom.numerics.runtime.progress import progress
from sparsemom.numerics.studies.manifest import regenerate
from sparsemom.numerics.studies.output import git_revision
from sparsemom.numerics.studies.paper import FIGURES
from sparsemom.numerics.verify.checks import CheckResult
from sparsemom.numerics.verify.rungs import run_all


def _derive_in_worker(task: tuple) -> str:
    """Derive one object into the derivation store (in a pool worker)."""
    kind, *args = task
    {"recursion": derive_recursion, "linearisation": linearise}[kind](*args)
    return kind


def derive_all() -> CheckResult:
    """Every recursion, statistics map and linearisation, derived (and cached). With the
    derivation store on, one process per core derives them into the store first (the
    linearisations, which derive the statistics maps, are the longest: they go first),
    and this process then reads them back."""
    start = time.perf_counter()
    mean_field = [o for o, rule in UPDATE_RULES.items()
                  if unsupported_by_statistics_map(rule) is None]
    if store.enabled():
        tasks = [("linearisation", o) for o in mean_field] + [
            ("recursion", *key) for key in shipped_recursions()]
        parallel_map(_derive_in_worker, tasks, description="deriving")
    recursions = all_recursions()
    maps = [derive_statistics_map(m, o) for m, law in LAWS.items() if not law.closed_moments
            for o in mean_field]
    lin = [linearise(o) for o in mean_field]
    return CheckResult("derive", "every model × optimizer × time rule", True,
                       f"{len(recursions)} moment recursions, {len(maps)} statistics maps, "
                       f"{len(lin)} linearisations in {time.perf_counter() - start:.1f} s")


def codegen() -> CheckResult:
    """Generated kernels against the derivations: current, or regenerated and reported."""
    files = generated.generated_files()
    stale = generated.stale_sources()
    if stale and not generated.source_checkout():
        return CheckResult("codegen", f"{len(files)} generated sources", True,
                           f"the installed package's generated code differs from the derivations in "
                           f"{len(stale)} files ({', '.join(stale)}): code is generated from the "
                           "derivations at run time", status="CHANGED")
    if stale:
        generated.write_sources()
        importlib.invalidate_caches()
        return CheckResult("codegen", f"{len(files)} generated sources", True,
                           f"kernels regenerated after a model change: {len(stale)} files "
                           f"changed: {', '.join(stale)}", status="CHANGED")
    return CheckResult("codegen", f"{len(files)} generated sources", True,
                       "checked-in kernels match the derivations (fingerprints current)")


def _table(checks: list[CheckResult]) -> list[str]:
    lines = ["| result | rung | case | detail |", "|---|---|---|---|"]
    for c in checks:
        detail = c.detail.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {c.status if c.passed else '**FAIL**'} | {c.rung} | {c.case} | {detail} |")
    return lines


def report_markdown(stages: list[CheckResult], checks: list[CheckResult], figures, full: bool,
                    seconds: float, out: Path, revision: str) -> str:
    everything = stages + checks + [c for f in figures for c in f.checks]
    failed = [c for c in everything if not c.passed]
    changed = [c for c in everything if c.status == "CHANGED"]
    counted = len(everything) - len(changed)
    lines = [f"# sparsemom reproduce ({'full' if full else 'quick'}), revision {revision}", "",
             f"**{'ALL CHECKS PASSED' if not failed else f'{len(failed)} CHECKS FAILED'}**: "
             f"{counted - len(failed)}/{counted} passed in {seconds / 60:.1f} min.", ""]
    if changed:
        lines += ["## Changed", "", *_table(changed), ""]
    if failed:
        lines += ["## Failed", "", *_table(failed), ""]
    lines += ["## Derive and codegen", "", *_table(stages), "",
              "## Verification rungs", "", *_table(checks), "", "## Figures", "",
              "| figure | what it shows | files | time | checks |", "|---|---|---|---|---|"]
    for f in figures:
        files = ", ".join(f"[{Path(p).name}]({Path(p).resolve().relative_to(out.resolve())})" for p in f.paths)
        ok = sum(c.passed for c in f.checks)
        lines.append(f"| {f.name} | {f.description} | {files} | {f.seconds:.0f} s | {ok}/{len(f.checks)} |")
    lines += ["", "### Checks on the figures' data", "", *_table([c for f in figures for c in f.checks]), ""]
    conflict = next((f for f in figures if f.name == "spectral_conflict"), None)
    if conflict is not None:
        lines += ["## Spectral conflict", "",
                  f"One global β leaves **{conflict.parameters['gap']:.4f}×** the risk of the "
                  "frequency-adapted β_i = f(p_i) at the horizon (table: spectral_conflict.md).", ""]
    return "\n".join(lines)


def reproduce(out: Path, full: bool) -> tuple[int, Path]:
    """Run every stage; write ``out/report.md``; return (exit status, report path)."""
    start = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stages = []
    for stage in progress((derive_all, codegen), desc="derive, codegen", unit="stage", lines=True):
        stages.append(stage())
        print(stages[-1])
    checks = []
    # the checks run in forked workers: this process has run no OpenMP kernel yet
    for check in progress(run_all(workers=os.cpu_count() or 1), desc="verifying", unit="check"):
        checks.append(check)
        print(check)
    figures = regenerate(out, full, list(FIGURES))
    for f in figures:
        print(f"[{'PASS' if f.passed else 'FAIL'}] figure {f.name} ({f.seconds:.0f} s): "
              f"{', '.join(str(p) for p in f.paths)}")
    seconds = time.perf_counter() - start
    text = report_markdown(stages, checks, figures, full, seconds, out, git_revision())
    report = out / "report.md"
    write_text_atomic(report, text)
    ok = all(c.passed for c in stages + checks) and all(f.passed for f in figures)
    return (0 if ok else 1), report
