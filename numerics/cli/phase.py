"""``sparsemom phase``: the d → ∞ phase at an exponent point."""

from __future__ import annotations

import json

from sparsemom.derivations import LAWS, UPDATE_RULES, law
from sparsemom.derivations import symbols as S
from sparsemom.derivations.limits.asymptotics import ExponentPoint
from sparsemom.derivations.limits.scaling_limits import (
    law_parameters_without_scale,
    scaling_limit,
    unsupported_by_scaling_limit,
    unsupported_point,
)
from sparsemom.numerics.inputs.arguments import fraction_in

DESCRIPTION = ("the d → ∞ limit at an exponent point: region, family, timescale exponents, limit "
               "dynamics and the inequalities bounding the region")


#: The exponents of d (κ, σ, γ; θ either sign): exact fractions of moderate size, which
#: the dominant balance handles symbolically.
EXPONENT = fraction_in(0, 100)
LR_EXPONENT = fraction_in(-100, 100)
#: Prefactors p*, B*, ε*, η* and the noise s²: positive (s² ≥ 0) numbers within twelve
#: decades of 1, given to twelve decimals at most.
PREFACTOR = fraction_in(0, 10**12, lower_open=True, max_denominator=10**12)
NOISE = fraction_in(0, 10**12, max_denominator=10**12)
#: ρ = ‖μ‖ of the logistic law, whose Fisher constant w carries e^(ρ²): a float64 for ρ ≤ 26.
RHO = fraction_in(0, 26, lower_open=True, max_denominator=10**12)
RHO_DEFAULT = 1

#: ExponentPoint's fields and the ``sparsemom phase`` options that set them.
_PHASE_OPTIONS = {"kappa": "--sparsity", "sigma": "--batch", "gamma": "--momentum",
                  "theta": "--lr-exponent", "p_star": "--p-star", "batch_star": "--batch-star",
                  "eps_star": "--eps-star", "lr_star": "--lr-star", "sigma2_star": "--noise",
                  "rho": "--rho"}


def validate(args):
    """The exponent point of ``sparsemom phase`` (a ``ValueError`` names a bad value)."""
    if args.lr_rule == "free" and args.lr_exponent is None:
        raise ValueError("--lr-rule free needs --lr-exponent THETA")
    if args.lr_rule != "free" and args.lr_exponent is not None:
        raise ValueError("--lr-exponent is only used with --lr-rule free")
    if args.rho is not None and S.rho not in {h.symbol for h in law(args.model).specs}:
        raise ValueError(f"argument --rho: model {args.model!r} has no parameter rho")
    try:
        point = ExponentPoint(args.sparsity, args.batch, args.momentum, args.lr_exponent or 0,
                              args.p_star, args.batch_star, args.eps_star, args.lr_star,
                              args.noise, RHO_DEFAULT if args.rho is None else args.rho)
    except ValueError as exc:  # name the option, not the field
        field = str(exc).split()[0]
        raise ValueError(f"argument {_PHASE_OPTIONS.get(field, field)}: {exc}") from None
    reason = unsupported_point(args.model, point)
    if reason:
        raise ValueError(f"argument --sparsity: {reason}")
    return point


def run(args) -> int:
    point = validate(args)
    try:
        limit = scaling_limit(args.model, args.optimizer, point, args.lr_rule)
    except ArithmeticError as exc:  # a point the dominant balance cannot resolve
        args.command_parser.error(f"no scaling limit found at this exponent point: {exc}")
    report = limit.as_dict()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"phase:       {report['phase']}  (family: {report['family']})")
    print(f"exponents:   kappa={point.kappa}, sigma={point.sigma}, gamma={point.gamma}, "
          f"theta={limit.point.theta} ({args.lr_rule}; eta*={limit.point.lr_star}"
          + (f"; batches {point.regime})" if law(args.model).token_mask else ")"))
    print(f"timescales:  tau_R ~ d^{limit.retention_exponent}, tau_L ~ d^{limit.learning_exponent} "
          "(active updates)")
    print(f"time:        k = t * d^{limit.time_exponent} active updates"
          + (" (discrete-time limit)" if limit.discrete else ""))
    print(f"limit:       {report['limit_latex']}")
    if limit.family == "unstable":
        unit = ("per active update" if limit.discrete
                else f"per unit of t (k = t·d^{limit.time_exponent})")
        print(f"growth:      rate {report['growth_rate']:.4g} {unit}")
    print("region:      " + "\n             ".join(report["inequalities"]))
    for note in limit.notes:
        print(f"note:        {note}")
    return 0


def add_arguments(parser) -> None:
    models = sorted(name for name, law in LAWS.items() if not law_parameters_without_scale(law))
    optimizers = [name for name, rule in UPDATE_RULES.items()
                  if unsupported_by_scaling_limit(rule) is None]
    parser.add_argument("--model", choices=models, default="lsq",
                        help="lsq, or logistic (rare class p = p*·d^-KAPPA with KAPPA > 0: its "
                        "linearisation at the optimum with h → p, w → p²·e^(rho²))")
    parser.add_argument("--optimizer", choices=optimizers, default="heavy-ball",
                        help="update rule (rules with hyper-parameters of their own or more than "
                        "one buffer have no scaling limit)")
    parser.add_argument("--sparsity", type=EXPONENT, required=True, metavar="KAPPA",
                        help="p = p*·d^-KAPPA")
    parser.add_argument("--batch", type=EXPONENT, required=True, metavar="SIGMA",
                        help="B = B*·d^SIGMA")
    parser.add_argument("--momentum", type=EXPONENT, required=True, metavar="GAMMA",
                        help="1 - beta = eps*·d^-GAMMA")
    parser.add_argument("--lr-rule", choices=["largest-stable", "free"], default="largest-stable",
                        help="learning-rate exponent: the largest stable one, or --lr-exponent")
    parser.add_argument("--lr-exponent", type=LR_EXPONENT, default=None, metavar="THETA",
                        help="lr = eta*·d^THETA (with --lr-rule free; negative values as -4/5)")
    parser.add_argument("--p-star", type=PREFACTOR, default=1, help="prefactor p*")
    parser.add_argument("--batch-star", type=PREFACTOR, default=1, help="prefactor B*")
    parser.add_argument("--eps-star", type=PREFACTOR, default=1, help="prefactor eps*")
    parser.add_argument("--lr-star", type=PREFACTOR, default=1, help="prefactor eta*")
    parser.add_argument("--noise", type=NOISE, default=0, metavar="S2",
                        help="label-noise variance s²")
    parser.add_argument("--rho", type=RHO, default=None,
                        help=f"rho = ‖mu‖, for a law with that parameter (default {RHO_DEFAULT})")
    parser.add_argument("--json", action="store_true", help="print a JSON object")
