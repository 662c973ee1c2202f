"""For notebook users: every public object has a repr (displaying one never raises),
and the library never switches Matplotlib's backend nor uses pyplot."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction

from sparsemom.derivations import (
    UPDATE_RULES,
    LinearVector,
    closed_form,
    derive_recursion,
    timescales,
)
from sparsemom.derivations.limits.asymptotics import ExponentPoint
from sparsemom.derivations.limits.scaling_limits import scaling_limit
from sparsemom.numerics.inputs.models import RareClassLogistic, SparseLeastSquares
from sparsemom.numerics.inputs.optimizer import Optimizer
from sparsemom.numerics.simulate.monte_carlo import monte_carlo_risk
from sparsemom.numerics.verify.checks import Check, CheckResult


def public_objects():
    model = SparseLeastSquares(d=4, p=0.3)
    yield model
    yield SparseLeastSquares(d=4, p=[0.3, 0.01], R0=[1, 2], sigma2=Fraction(1, 10))
    yield RareClassLogistic(d=10, p=0.1, rho=1.5)
    for name, rule in UPDATE_RULES.items():
        yield rule
        yield Optimizer(name, lr=0.1, beta=rule.example_beta(0.5), **rule.example_hyper_parameters())
        yield Optimizer(name, lr=[0.1, 0.2], beta=rule.example_beta([0.5, 0.6]), batch=4,
                        **rule.example_hyper_parameters())
        yield Optimizer(name, lr=Fraction(1, 3), beta=rule.example_beta(Fraction(1, 2)),
                        **rule.example_hyper_parameters())
    rec = derive_recursion("lsq", "heavy-ball")
    yield rec
    yield closed_form(rec)
    yield timescales("lsq", "heavy-ball")
    point = ExponentPoint(Fraction(27, 10), Fraction(3, 2), Fraction(5, 2), 0)
    yield point
    yield scaling_limit("lsq", "heavy-ball", point)
    yield LinearVector.atom(rec.state[0]) / 2
    yield CheckResult("rung", "case", True, "detail")
    yield Check("rung", "case", lambda: CheckResult("rung", "case", True, "ok"))
    yield monte_carlo_risk(model, Optimizer("sgd", 0.1), 3, 4, seed=1)


def test_every_public_object_has_a_repr():
    """`repr(Optimizer("sgd", 0.1))` once raised IndexError."""
    for obj in public_objects():
        text = repr(obj)
        assert isinstance(text, str) and text, type(obj)
    assert repr(Optimizer("sgd", 0.1)) == "Optimizer('sgd', lr=0.1, beta=0, batch=1)"
    assert "2 rows" in repr(Optimizer("heavy-ball", lr=[0.1, 0.2], beta=0.5))


def test_figures_do_not_touch_the_backend_or_pyplot(tmp_path):
    code = f"""
import sys, matplotlib
matplotlib.use("svg")
from sparsemom.numerics.studies.paper import stability_region
from sparsemom.numerics.studies.logistic import study_figure
fig = stability_region(__import__("pathlib").Path({str(tmp_path)!r}), False)
assert fig.paths and all(p.exists() for p in fig.paths), fig.paths
print(matplotlib.get_backend(), "matplotlib.pyplot" in sys.modules)
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["svg", "False"]


def test_no_library_module_selects_a_backend():
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[1]
    for folder in ("derivations", "numerics", "paper_figures"):
        for path in (root / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert "matplotlib.use(" not in text.replace("``matplotlib.use``", ""), path
            assert "import matplotlib.pyplot" not in text, path


def test_derived_objects_display_as_latex_without_raw_names():
    """Jupyter shows recursions, timescales, limits and check results as LaTeX: step
    subscripts merged, text escaped (no literal underscores in ``\\text``)."""
    import re

    import sparsemom.derivations.definitions.methods  # noqa: F401  (registers dana)

    shown = [derive_recursion("lsq", "heavy-ball")._repr_latex_(),
             derive_recursion("lsq", "dana")._repr_latex_(),
             timescales("lsq", "heavy-ball")._repr_latex_(),
             scaling_limit("lsq", "heavy-ball", ExponentPoint(Fraction(27, 10), Fraction(3, 2),
                                                              Fraction(5, 2), 0))._repr_latex_(),
             CheckResult("exact_rung", "lsq_heavy 50%", False, "a_b")._repr_latex_()]
    for latex in shown:
        assert latex.startswith("$") and latex.endswith("$")
        assert latex.count("{") == latex.count("}")
        assert not re.search(r"\\text\{[^}]*(?<!\\)_", latex), latex
    assert r"R_{k+1} &=" in shown[0] and r"M_{e,y,k}" in shown[1] and "_k+1" not in shown[1]
    assert r"\tau_R / \tau_L &=" in shown[2]
    assert r"\frac{d\tilde{R}}{dt}" in shown[3] and "sparse above resonance" in shown[3]
    assert r"\textcolor{red}{\textbf{FAIL}}" in shown[4] and r"exact\_rung" in shown[4]
