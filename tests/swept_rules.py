"""The rules the per-rule tests sweep.

Every built-in rule, and two of the methods registered through the public rule API that
between them exercise what the others add: ``qhm`` (a hyper-parameter of its own with a
default, coefficients in ``1 − β``) and ``dana`` (a buffer other than ``v``, no ``β``,
hyper-parameters without defaults, example values).  The other methods differ from these
only in their coefficients; each is checked on its own in ``test_general_methods.py``
(one step against its source's formula, dense Monte Carlo against ``exact_risk``) and by
every verification rung of ``sparsemom verify``.
"""

from sparsemom.derivations import BUILT_IN_RULES

SWEPT_RULES = [rule.name for rule in BUILT_IN_RULES] + ["qhm", "dana"]
