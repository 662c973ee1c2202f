"""``sparsemom heatmap``: optimal learning rate and risk over ``(κ, γ)`` at one ``σ``."""

from __future__ import annotations

from sparsemom.derivations import UPDATE_RULES
from sparsemom.derivations.limits.scaling_limits import unsupported_by_scaling_limit
from sparsemom.numerics.inputs.arguments import (
    check_setup,
    fraction_in,
    integer_in,
    output_dir,
    real_in,
)
from sparsemom.numerics.inputs.models import MAX_DIMENSION
from sparsemom.numerics.studies.heatmap import (
    HORIZON_BITS,
    HORIZON_RULES,
    MAX_GRID,
    HeatmapSetup,
    heatmap_figure,
    run_heatmap,
)
from sparsemom.numerics.studies.output import default_output_dir

DESCRIPTION = ("for each (κ, γ) of a grid at batch exponent σ and dimension d, the learning "
               "rate minimising the exact finite-d risk at a horizon (bracketing scan and golden "
               "section on the derived recursion), with the derived region boundaries; "
               "heatmaps of η*, η*·d^α and the risk, and a CSV of every point")


def add_arguments(parser) -> None:
    defaults = HeatmapSetup()
    optimizers = [name for name, rule in UPDATE_RULES.items()
                  if rule.uses_beta and unsupported_by_scaling_limit(rule) is None]
    parser.add_argument("--out", type=output_dir, default=default_output_dir("heatmap"),
                        help="output directory")
    parser.add_argument("--optimizer", choices=optimizers, default=defaults.optimizer,
                        help="update rule with momentum and a scaling limit")
    parser.add_argument("--sigma", type=fraction_in(0, 53), default=defaults.sigma,
                        help="batch exponent σ (B = round(d^σ) ≤ 2^53)")
    parser.add_argument("--d", type=integer_in(2, MAX_DIMENSION), default=defaults.d, help="dimension d (with d^κ, d^γ ≤ 2^52 over the box)")
    parser.add_argument("--grid", type=integer_in(2, MAX_GRID), default=defaults.grid,
                        help="grid points per axis (cell centres)")
    parser.add_argument("--kappa", type=real_in(0, 52), nargs=2, default=defaults.kappa,
                        metavar=("LOW", "HIGH"), help="range of κ (p = d^-κ)")
    parser.add_argument("--gamma", type=real_in(0, 52), nargs=2, default=defaults.gamma,
                        metavar=("LOW", "HIGH"), help="range of γ (1 − β = d^-γ)")
    parser.add_argument("--rule", choices=HORIZON_RULES, default=defaults.rule,
                        help="horizon: T active iterates, T·d^τ active iterates (τ of the "
                        "point's limit), or a budget of T·d samples")
    parser.add_argument("--horizon", type=real_in(0, 2**HORIZON_BITS, lower_open=True),
                        default=defaults.horizon,
                        metavar="T", help="the horizon rule's multiplier T")
    parser.add_argument("--sigma2", type=real_in(0, 1e6), default=defaults.sigma2,
                        help="label-noise variance s²")


def setup_from(args) -> HeatmapSetup:
    return HeatmapSetup(optimizer=args.optimizer, sigma=args.sigma, d=args.d, grid=args.grid,
                        kappa=tuple(args.kappa), gamma=tuple(args.gamma), rule=args.rule,
                        horizon=args.horizon, sigma2=args.sigma2)


def validate(args) -> None:
    """Every option checked before the study starts (a ``ValueError`` names it)."""
    check_setup(setup_from, args)


def run(args) -> int:
    result = run_heatmap(setup_from(args))
    for path in heatmap_figure(result, args.out):
        print(f"wrote {path}")
    edge = int(result.at_edge.sum())
    if edge:
        print(f"note: at {edge} point(s) the optimal rate is at the end of the scanned range "
              f"{result.setup.lr_range} (marked in the figure)")
    return 0
