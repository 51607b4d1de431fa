"""The constraints of every strategy parameter, by name, in one table.

A parameter name means the same in every strategy (``alpha`` is always a
sharpness, ``eval_size`` always the evaluation subset), so one table serves
them all; only ``score`` depends on the family (:data:`SCORE_CONSTRAINTS`).
:func:`constraints_for` gives the lists of one class's ``__init__``
parameters and refuses a parameter that has none: no parameter goes
unchecked. The messages and the invalid values of the common checks
(:mod:`skal_power.testing`) and the experiment config's checks come from here.
"""

from __future__ import annotations

import inspect
import numbers
from typing import Any

import numpy as np

from ._param_validation import (
    Anything,
    Boolean,
    Callable,
    Constraint,
    InstanceOf,
    Interval,
    Options,
    Rows,
)
from .batch._saturation import SATURATION_POLICIES
from .distill import REFITS
from .sampling import Power, Selector, Softmax, UniformTop

__all__ = ["PARAMETER_CONSTRAINTS", "SCORE_CONSTRAINTS", "SCORE_NAMES",
           "EVALUATION_SCORE_NAMES", "ValidSelector", "constraints_for"]

#: Names of the single-point scores (the keys of ``strategies._single_point.SCORES``).
SCORE_NAMES = ("bald", "entropy", "expected_entropy")
#: Names of the scores comparing M with M′ (the keys of ``EVALUATION_SCORES``).
EVALUATION_SCORE_NAMES = ("eig", "evaluation_bald")


class ValidSelector(Constraint):
    """A :class:`~skal_power.sampling.Selector` whose own parameters pass their constraints.

    Examples
    --------
    >>> from skal_power.sampling import Power
    >>> ValidSelector().is_satisfied_by(Power(2.0)), ValidSelector().is_satisfied_by(Power(-1))
    (True, False)
    """

    def is_satisfied_by(self, value: Any) -> bool:
        if not isinstance(value, Selector):
            return False
        try:
            value.check()
        except (TypeError, ValueError):
            return False
        return True

    def explain(self, value: Any) -> str | None:
        if not isinstance(value, Selector):
            return None
        try:
            value.check()
        except (TypeError, ValueError) as error:
            return str(error)
        return None

    def invalid_values(self) -> list:
        return [Power(alpha=-1.0), UniformTop(factor=0), "top", Power]

    def __str__(self) -> str:
        return "a skal_power.sampling.Selector (Top(), Power(5.0), ...)"


_POSITIVE_INT = Interval(numbers.Integral, 1, None, closed="left")
_NON_NEGATIVE = Interval(numbers.Real, 0, None, closed="left")

#: The constraint list of every strategy constructor parameter, by name.
PARAMETER_CONSTRAINTS: dict[str, list] = {
    "n_samples": [_POSITIVE_INT],
    "chunk_size": [_POSITIVE_INT],
    "random_state": [None, Interval(numbers.Integral, 0, None, closed="left"),
                     InstanceOf(np.random.RandomState, "a numpy RandomState"),
                     InstanceOf(np.random.Generator, "a numpy Generator")],
    "progress": [Boolean()],
    # the selectors' own lists: α and β mean what they mean in Power and Softmax
    "alpha": Power._parameter_constraints["alpha"],
    "beta": Softmax._parameter_constraints["beta"],
    "factor": UniformTop._parameter_constraints["factor"],
    "score": [Options(str, SCORE_NAMES),
              Callable("a callable (N, K, C) log-probs -> (N,) scores")],
    "selector": [None, ValidSelector()],
    "eval_size": [None, _POSITIVE_INT, Interval(numbers.Real, 0, 1, closed="right")],
    "exclude_eval": [Boolean()],
    "distill_refit": [Options(str, REFITS)],
    "distill_params": [None, InstanceOf(dict, "a dict")],
    "max_exact_size": [None, _POSITIVE_INT],
    "n_configurations": [_POSITIVE_INT],
    "max_memory": [None, _POSITIVE_INT],
    "device": [Anything()],  # any torch device spec; checked by torch where it is used
    "lazy": [Boolean()],
    "on_saturation": [Options(str, SATURATION_POLICIES)],
    "saturation_alpha": [_NON_NEGATIVE],
    "X_target": [None, Rows(), Callable("a callable rng -> rows")],
    "target_size": [_POSITIVE_INT],
}

#: ``score`` by family: the first class of a strategy's MRO named here decides.
SCORE_CONSTRAINTS: dict[str, list] = {
    "EvaluationAcquisition": [Options(str, EVALUATION_SCORE_NAMES)],
    "Acquisition": PARAMETER_CONSTRAINTS["score"],
}


def _init_parameters(cls: type) -> list[str]:
    parameters = inspect.signature(cls.__init__).parameters.values()
    return [p.name for p in parameters
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def constraints_for(strategy_class: type, *, strict: bool = True) -> dict[str, list]:
    """The constraint list of each ``__init__`` parameter of ``strategy_class``.

    Parameters
    ----------
    strategy_class : type
    strict : bool, default=True
        Refuse a parameter without a constraint. The common checks
        (:mod:`skal_power.testing`) are strict, so every parameter of the
        package's strategies is checked; a query is not, so a strategy of one's
        own with a parameter the table does not know still runs (that
        parameter is its own business until it declares it).

    Raises
    ------
    KeyError
        If ``strict`` and a parameter has no entry in :data:`PARAMETER_CONSTRAINTS`
        nor in the class's own ``_parameter_constraints`` (a strategy of one's own
        may declare its new parameters there).

    Examples
    --------
    >>> from skal_power import PowerBALD
    >>> sorted(constraints_for(PowerBALD))
    ['alpha', 'chunk_size', 'n_samples', 'progress', 'random_state']
    """
    names = _init_parameters(strategy_class)
    # a strategy of one's own may declare the parameters the table does not know
    own: dict[str, list] = {}
    for klass in reversed(strategy_class.__mro__):
        own.update(vars(klass).get("_parameter_constraints", {}))
    missing = [n for n in names if n not in PARAMETER_CONSTRAINTS and n not in own]
    if not strict:
        names = [n for n in names if n not in missing]
    elif missing:
        raise KeyError(f"{strategy_class.__name__} has parameter(s) {missing} without a "
                       "constraint; add them to skal_power._strategy_parameters."
                       "PARAMETER_CONSTRAINTS (or, for a strategy of your own, to its "
                       "_parameter_constraints).")
    table = {name: PARAMETER_CONSTRAINTS[name] if name in PARAMETER_CONSTRAINTS else own[name]
             for name in names}
    if "score" in table:
        for klass in strategy_class.__mro__:
            if klass.__name__ in SCORE_CONSTRAINTS:
                table["score"] = SCORE_CONSTRAINTS[klass.__name__]
                break
    return table
