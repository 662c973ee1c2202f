"""The rare-class data law (model M2 of ``docs/model.md``) as a definition, and how it
closes: its second moments do not close at finite ``d``; its mean-field statistics do
(:mod:`sparsemom.derivations.rare_class.statistics`, :mod:`sparsemom.derivations.rare_class.drift`), and its exact second-moment
recursion is the bulk block of their linearisation at the optimum
(:mod:`sparsemom.derivations.rare_class.linearisation`)."""

from __future__ import annotations

import sympy as sp

from ..core import symbols as S
from ..core.printing import equation
from ..core.vectors import LinearVector
from ..definitions.ingredients import gaussian_vector
from ..definitions.laws import DataLaw, LawParameter, register_law
from . import statistics as M2
from .linearisation import constant_definitions, linearise, rare_class_constants
from .logistic_normal import SoftplusNormalMean

#: This module defines a law (the architecture test lets it name it).
DEFINES_LAWS = True


class MeanFieldStatistics:
    """How the rare-class law closes (its ``closure``): its second moments do not close at
    finite ``d``; the statistics ``(s, u, R⊥, V⊥, C⊥)`` do, in mean field
    (:mod:`sparsemom.derivations.rare_class.drift`), and its exact second-moment recursion is the bulk block of
    their linearisation at the optimum (:mod:`sparsemom.derivations.rare_class.linearisation`)."""

    @staticmethod
    def sample_expectation(projection: str) -> M2.SteinExpectation:
        """``E[·]`` over independent samples, ⊥ to ``μ`` or along ``μ̂`` (Stein's lemma)."""
        return M2.SteinExpectation(projection)

    @staticmethod
    def population_loss(signal_error: sp.Expr, bulk: sp.Expr) -> sp.Expr:
        """``E ℓ(θ) = Σ_y P(y) (E[log(1 + e^c) | y] − y E[c | y])``, with ``c | y ~
        N(b* + y ρ m, q)``: ``(1 − p) L(b*, q) + p L(b* + ρ m, q) − p (b* + ρ m)``."""
        values = {M2.s: signal_error, M2.R_perp: bulk}
        mean = [M2.logit_mean(y).xreplace(values) for y in (0, 1)]
        q = M2.logit_variance.xreplace(values)
        return ((1 - S.p) * SoftplusNormalMean(mean[0], q) + S.p * SoftplusNormalMean(mean[1], q)
                - S.p * mean[1])

    @classmethod
    def risks(cls) -> dict[str, sp.Expr]:
        """Excess cross-entropy ``E ℓ(θ) − E ℓ(μ)`` (the population KL from the Bayes
        posterior) and squared error ``‖θ − μ‖² = s² + R⊥``, in the statistics."""
        s, R = M2.s, M2.R_perp
        return {
            "excess cross-entropy": cls.population_loss(s, R) - cls.population_loss(0, 0),
            "squared error": s**2 + R,
        }

    #: Texts of the LaTeX sections this law adds, and of those it words differently.
    latex_text = {
    "Fisher constants": r"At the optimum $\theta = \mu$ the logit is $c^* \sim "
    r"\mathcal{N}(b^*, \rho^2)$ in class 0 ($b^* = \log\frac{p}{1-p} - \frac{\rho^2}{2}$); "
    r"$\mathcal{S}_k(m, v) = \mathbb{E}\,\sigma(G)^k$, $G \sim \mathcal{N}(m, v)$. "
    r"The curvature $h = \mathbb{E}\,\sigma'(c^*)$ (also the gradient-noise level), "
    r"$w = \mathbb{E}\,\sigma'(c^*)^2$ and the signal curvature "
    r"$h_\parallel = \mathbb{E}\,\sigma'(c^*)\langle x, \hat\mu\rangle^2$, class-1 moments "
    r"eliminated by the change of measure between the classes:",
    "Rare-class expansion": r"For a rare class ($\lambda = p/(1-p) \to 0$): the curvature "
    r"and the noise are $O(p)$, the fourth-moment term $O(p^2)$:",
    "Linearised signal": r"Near the optimum, $s = \langle\theta - \mu, \hat\mu\rangle$ and "
    r"$u = \langle v, \hat\mu\rangle$ are driven by the bulk energy $R_\perp$:",

        "Second-moment recursion": r"The bulk energies $R_\perp = \|\theta_\perp\|^2$, "
        r"$C_\perp = \langle\theta_\perp, v_\perp\rangle$, $V_\perp = \|v_\perp\|^2$ of the "
        r"linearisation at the optimum obey exactly (they do not depend on the signal):",
        "Risk": r"The tracked quantity is the bulk part of the squared error, "
        r"$r_k = R_{\perp,k}$:",
    }

    @staticmethod
    def latex_sections(optimizer: str, time_rule: str) -> list[tuple[str, sp.Basic]]:
        """``(section, relation)`` of the equations this law adds to a LaTeX document: its
        Fisher constants, their rare-class expansion and the linearised signal block."""
        out = [("Fisher constants", equation(symbol, value))
               for symbol, value in constant_definitions().items()]
        out += [("Rare-class expansion", equation(symbol, value + sp.O(S.p**3)))
                for symbol, value in rare_class_constants(order=2).items()]
        lin = linearise(optimizer, time_rule)
        out += [("Linearised signal", eq) for eq in lin.equations()[: lin.signal_size]]
        return out

    @staticmethod
    def moment_recursion(optimizer: str, time_rule: str):
        """The bulk block of the linearised statistics map (the exact second moments ⊥ μ)."""
        return linearise(optimizer, time_rule).bulk


#: Logistic regression with a rare class (model M2 of ``docs/model.md``): ``x = y μ + z``,
#: ``y ~ Bernoulli(p)``, ``z ~ N(0, I_d)``, ``ρ = ‖μ‖``; logit ``c = ⟨θ, x⟩ + b*`` with the
#: Bayes bias, so the optimum is ``θ* = μ``; cross-entropy gradient ``∇ℓ = (σ(c) − y) x``,
#: dense (every step active).  Its moments close through :class:`MeanFieldStatistics`.
RARE_CLASS = DataLaw(
    name=M2.NAME,
    title="logistic regression with a rare class",
    ingredients={"x": gaussian_vector()},
    gradient=lambda sample, error: LinearVector({sample.x: M2.residual(sample)}),
    risk=lambda energy: energy,
    parameters=(LawParameter(S.p, lower=0, upper=1, lower_open=True, upper_open=True,
                             per_row=False, keyword="p", doc="rare-class probability"),
                LawParameter(S.rho, lower=0, lower_open=True, per_row=False, keyword="rho",
                             doc="norm of the class mean"),),
    parameter_text=(
        r"$p$ rare-class probability, $\rho = \|\mu\|$, $B$ batch size, $d$ dimension; every "
        r"step is active (dense gradients), so lazy momentum is heavy ball and active iterates "
        r"are steps."),
    source="docs/model.md, model M2",
    closure=MeanFieldStatistics(),
)
register_law(RARE_CLASS, built_in=True)
