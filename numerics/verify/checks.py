"""Check results, the registry of check suites, and the runner that turns every
failure into a result.

A :class:`Check` is a named, deferred verification (its rung, its case, and a
function returning a :class:`CheckResult`); :func:`run_checks` runs checks one by
one and records an exception raised by a check as a FAIL carrying the exception's
message, so one broken check never hides the others behind a traceback.  Suites of
checks are registered by name (:func:`register_suite`); ``sparsemom verify`` and
``sparsemom reproduce`` run every registered suite, so a check a user registers runs
with the built-in rungs.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from sparsemom.derivations.core.printing import escape_text
from sparsemom.numerics.runtime.parallel import worker_pool

#: Status of a check: passed, failed, or an action the run took that is not a check
#: (e.g. generated kernels regenerated after a model change).
STATUSES = ("PASS", "FAIL", "CHANGED")


@dataclass(frozen=True)
class CheckResult:
    rung: str
    case: str
    passed: bool
    detail: str
    #: "PASS"/"FAIL" follow ``passed``; "CHANGED" marks an action taken (not a failure).
    status: str = ""

    def __post_init__(self):
        status = self.status or ("PASS" if self.passed else "FAIL")
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}; got {status!r}")
        if status == "FAIL" and self.passed or status == "PASS" and not self.passed:
            raise ValueError(f"status {status!r} contradicts passed={self.passed}")
        object.__setattr__(self, "status", status)

    def __str__(self) -> str:
        """One line: ``[PASS] rung  case: detail``."""
        return f"[{self.status}] {self.rung:18s} {self.case}: {self.detail}"

    def _repr_latex_(self) -> str:
        """Jupyter: the status (green PASS, red FAIL), rung, case and detail."""
        colour = {"PASS": "green", "FAIL": "red"}.get(self.status, "blue")
        return (rf"$\textcolor{{{colour}}}{{\textbf{{{self.status}}}}}\ "
                rf"\text{{{escape_text(self.rung)} — {escape_text(self.case)}: "
                rf"{escape_text(self.detail)}}}$")


@dataclass(frozen=True)
class Check:
    """A deferred check: ``run()`` returns its :class:`CheckResult`."""

    rung: str
    case: str
    run: Callable[[], CheckResult]


def run_check(check: Check) -> CheckResult:
    """``check.run()``, or a FAIL naming the exception it raised."""
    try:
        return check.run()
    except Exception as exc:  # a crashing check is a failed check, reported with its message
        message = str(exc).splitlines()[0] if str(exc) else ""
        return CheckResult(check.rung, check.case, False,
                           f"raised {type(exc).__name__}: {message}")


#: The checks a forked worker runs by index (set before the pool forks, inherited).
_PENDING: list[Check] = []


def _run_pending(index: int) -> CheckResult:
    return run_check(_PENDING[index])


def run_checks(checks: Iterable[Check], workers: int = 1) -> Iterator[CheckResult]:
    """Run ``checks``, each through :func:`run_check`; results come in order.

    ``workers > 1`` runs them in that many forked processes (Linux and macOS' ``fork``):
    the workers inherit the checks — closures included, and suites a user registered in
    this process — so nothing is pickled but an index and a result.  Forking is safe in a
    process that has not started threads (the command line, before any kernel ran with
    OpenMP); library callers keep the default, one process.
    """
    global _PENDING
    checks = list(checks)
    if workers <= 1 or len(checks) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        for check in checks:
            yield run_check(check)
        return
    _PENDING = checks
    try:
        context = multiprocessing.get_context("fork")
        with worker_pool(min(workers, len(checks)), context) as pool:
            yield from pool.imap(_run_pending, range(len(checks)))
    finally:
        _PENDING = []



#: Registered suites, in the order they run: name → function yielding the suite's
#: :class:`Check` objects for the models and rules defined at the time it is called.
SUITES: dict[str, Callable[[], Iterable[Check]]] = {}


def register_suite(name: str, checks: Callable[[], Iterable[Check]]):
    """Run ``checks()`` with every verification from now on (``sparsemom verify``,
    ``sparsemom reproduce``); a ``ValueError`` if ``name`` is taken by another suite."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"suite name must be a non-empty string; got {name!r}")
    if not callable(checks):
        raise ValueError(f"checks must be a function yielding Check objects; got {checks!r}")
    if SUITES.get(name, checks) is not checks:
        raise ValueError(f"a check suite named {name!r} is already registered")
    SUITES[name] = checks
    return checks


def unregister_suite(name: str) -> None:
    """Stop running the suite ``name``."""
    if name not in SUITES:
        raise ValueError(f"no check suite named {name!r}; registered: {', '.join(SUITES)}")
    del SUITES[name]


def run_registered(workers: int = 1) -> Iterator[CheckResult]:
    """Every check of every registered suite, through :func:`run_check` (in ``workers``
    processes, see :func:`run_checks`); a suite whose generator itself raises is one FAIL
    with the message."""
    for name, suite in list(SUITES.items()):
        try:
            checks = list(suite())
        except Exception as exc:  # a broken suite is a failed check, never a traceback
            message = str(exc).splitlines()[0] if str(exc) else ""
            yield CheckResult(name, "collecting the suite's checks", False,
                              f"raised {type(exc).__name__}: {message}")
            continue
        yield from run_checks(checks, workers)
