"""Parameter constraints declared as data: checks, messages and invalid values from one source.

A parameter's constraint is a *list* of constraint objects; a value is valid
if one item of the list accepts it. Every constraint can say whether a value
satisfies it (:meth:`Constraint.is_satisfied_by`), describe itself in English
(``str``) and give values that violate it (:meth:`Constraint.invalid_values`).
From that, :func:`validate_parameter_constraints` writes error messages that
name the parameter, its owner, the value and what is allowed, and
:func:`generate_invalid_values` gives the common checks values to try.

The idea is scikit-learn's ``sklearn/utils/_param_validation.py``; the code
is skal_power's own.
"""

from __future__ import annotations

import math
import numbers
import reprlib
from typing import Any, Iterable

import numpy as np

__all__ = [
    "Anything",
    "Boolean",
    "Callable",
    "Constraint",
    "InstanceOf",
    "Interval",
    "InvalidParameterError",
    "NoneOnly",
    "Options",
    "Rows",
    "Schedule",
    "generate_invalid_values",
    "make_constraint",
    "validate_parameter_constraints",
]


class InvalidParameterError(ValueError, TypeError):
    """A parameter value that none of its constraints accepts.

    A subclass of both ``ValueError`` and ``TypeError``, so callers that catch
    either (as they did before constraints were data) keep working.

    Examples
    --------
    >>> issubclass(InvalidParameterError, ValueError), issubclass(InvalidParameterError, TypeError)
    (True, True)
    """


def _short_repr(value: Any) -> str:
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple) and len(shape) > 0:
        return f"<{type(value).__name__} of shape {shape}>"
    short = reprlib.Repr()
    short.maxstring, short.maxother, short.maxlist, short.maxdict = 60, 80, 6, 6
    return short.repr(value)


def _is_bool(value: Any) -> bool:
    return isinstance(value, (bool, np.bool_))


class Constraint:
    """One rule a parameter value may satisfy.

    Subclasses define :meth:`is_satisfied_by`, ``__str__`` (an English noun
    phrase, "an int in the range [1, inf)") and :meth:`invalid_values`.
    """

    #: True only for :class:`Anything`: the list it is in refuses nothing.
    accepts_anything = False

    def is_satisfied_by(self, value: Any) -> bool:
        """Whether ``value`` satisfies this constraint."""
        raise NotImplementedError

    def invalid_values(self) -> list:
        """Values that violate this constraint (may be empty for :class:`Anything`)."""
        raise NotImplementedError

    def explain(self, value: Any) -> str | None:
        """Why ``value`` fails, beyond ``str(self)``, when there is more to say; else None."""
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self}>"


class Anything(Constraint):
    """Any value is valid (a parameter checked where it is used, e.g. a torch ``device``).

    Examples
    --------
    >>> Anything().is_satisfied_by(object()), Anything().invalid_values()
    (True, [])
    """

    accepts_anything = True

    def is_satisfied_by(self, value: Any) -> bool:
        return True

    def invalid_values(self) -> list:
        return []

    def __str__(self) -> str:
        return "any value"


class NoneOnly(Constraint):
    """Only ``None`` (write ``None`` in a constraint list for this).

    Examples
    --------
    >>> str(NoneOnly()), NoneOnly().is_satisfied_by(0)
    ('None', False)
    """

    def is_satisfied_by(self, value: Any) -> bool:
        return value is None

    def invalid_values(self) -> list:
        return [0, "None", False]

    def __str__(self) -> str:
        return "None"


class Boolean(Constraint):
    """``True`` or ``False`` (numpy bools too); not 0/1 or strings.

    Examples
    --------
    >>> Boolean().is_satisfied_by(True), Boolean().is_satisfied_by(1)
    (True, False)
    """

    def is_satisfied_by(self, value: Any) -> bool:
        return _is_bool(value)

    def invalid_values(self) -> list:
        return [0, 1, "True", None]

    def __str__(self) -> str:
        return "a bool"


class Callable(Constraint):
    """A callable, described as ``description`` (e.g. "a callable rng -> rows").

    Examples
    --------
    >>> Callable().is_satisfied_by(len), str(Callable())
    (True, 'a callable')
    """

    def __init__(self, description: str = "a callable") -> None:
        self.description = description

    def is_satisfied_by(self, value: Any) -> bool:
        return callable(value)

    def invalid_values(self) -> list:
        return ["not-a-callable", 1, None]

    def __str__(self) -> str:
        return self.description


class InstanceOf(Constraint):
    """An instance of ``type`` (described by ``description`` or the type's name).

    Examples
    --------
    >>> str(InstanceOf(dict)), InstanceOf(dict).is_satisfied_by({})
    ('an instance of dict', True)
    """

    def __init__(self, type: type, description: str | None = None) -> None:
        self.type = type
        self.description = description

    def is_satisfied_by(self, value: Any) -> bool:
        return isinstance(value, self.type)

    def invalid_values(self) -> list:
        candidates = ["not-an-instance", 1, [1], object(), None]
        return [value for value in candidates if not isinstance(value, self.type)]

    def __str__(self) -> str:
        return self.description or f"an instance of {self.type.__name__}"


class Options(Constraint):
    """One of a fixed set of values of one type (strings, usually).

    Examples
    --------
    >>> refit = Options(str, ("full", "warm", "head"))
    >>> str(refit), refit.is_satisfied_by("warm"), refit.is_satisfied_by(["warm"])
    ("one of {'full', 'warm', 'head'}", True, False)
    """

    def __init__(self, type: type, values: Iterable[Any]) -> None:
        self.type = type
        self.values = tuple(values)

    def is_satisfied_by(self, value: Any) -> bool:
        return isinstance(value, self.type) and any(value == v for v in self.values)

    def invalid_values(self) -> list:
        candidates = ["not-an-option", f"{self.values[0]}-x" if self.values else "x",
                      1, None, [self.values[0]] if self.values else [1]]
        return [value for value in candidates if not self.is_satisfied_by(value)]

    def __str__(self) -> str:
        return "one of {" + ", ".join(repr(v) for v in self.values) + "}"


class Interval(Constraint):
    """A number of kind ``type`` (``numbers.Integral`` or ``numbers.Real``) in a range.

    ``left``/``right`` of ``None`` are -inf/+inf, which are never in the range
    (a real interval refuses infinite values and NaN). ``closed`` is
    ``"left"``, ``"right"``, ``"both"`` or ``"neither"``. Bools are refused by
    both kinds, and an int interval refuses every float (``2.0`` too).

    Examples
    --------
    >>> positive = Interval(numbers.Integral, 1, None, closed="left")
    >>> str(positive), positive.is_satisfied_by(3), positive.is_satisfied_by(True)
    ('an int in the range [1, inf)', True, False)
    >>> fraction = Interval(numbers.Real, 0, 1, closed="right")
    >>> str(fraction), fraction.is_satisfied_by(float("nan"))
    ('a float in the range (0, 1]', False)
    """

    def __init__(self, type: type, left: float | None, right: float | None, *,
                 closed: str) -> None:
        if type not in (numbers.Integral, numbers.Real, int, float):
            raise ValueError(f"type must be numbers.Integral or numbers.Real; got {type!r}.")
        if closed not in ("left", "right", "both", "neither"):
            raise ValueError("closed must be 'left', 'right', 'both' or 'neither'; "
                             f"got {closed!r}.")
        self.type = numbers.Integral if type in (numbers.Integral, int) else numbers.Real
        self.left, self.right, self.closed = left, right, closed

    def _in_range(self, value: float) -> bool:
        if self.left is not None:
            if value < self.left or (value == self.left and self.closed in ("right", "neither")):
                return False
        if self.right is not None:
            if value > self.right or (value == self.right and self.closed in ("left", "neither")):
                return False
        return True

    def is_satisfied_by(self, value: Any) -> bool:
        if _is_bool(value) or not isinstance(value, self.type):
            return False
        if not isinstance(value, numbers.Integral) and not math.isfinite(value):
            return False  # nan and ±inf (huge ints are finite: math.isfinite would overflow)
        return self._in_range(value)

    def invalid_values(self) -> list:
        integral = self.type is numbers.Integral
        step = 1 if integral else 0.5
        candidates: list[Any] = ["1", None, True, [1]]
        if integral:
            candidates += [1.5, float(self.left if self.left is not None else 0) + 1.0]
        else:
            candidates += [float("nan"), float("inf"), float("-inf")]
        for bound in (self.left, self.right):
            if bound is not None:
                candidates += [bound, bound - step, bound + step]
        return [value for value in candidates if not self.is_satisfied_by(value)]

    def __str__(self) -> str:
        kind = "an int" if self.type is numbers.Integral else "a float"
        left = "-inf" if self.left is None else self.left
        right = "inf" if self.right is None else self.right
        opening = "[" if self.left is not None and self.closed in ("left", "both") else "("
        closing = "]" if self.right is not None and self.closed in ("right", "both") else ")"
        return f"{kind} in the range {opening}{left}, {right}{closing}"


class Schedule(Constraint):
    """A callable ``round -> value`` whose value at round 0 satisfies ``value``.

    Numbers are not schedules. The schedule is called once, at round 0, as the
    query-time resolution would; later rounds are checked when they come.

    Examples
    --------
    >>> exponent = Schedule(Interval(numbers.Real, 0, None, closed="left"))
    >>> exponent.is_satisfied_by(lambda r: 2.0), exponent.is_satisfied_by(lambda r: -1.0)
    (True, False)
    >>> str(exponent)
    'a callable (a schedule round -> value)'
    """

    def __init__(self, value: Constraint) -> None:
        self.value = value

    def _at_round_0(self, schedule: Any) -> Any:
        produced = schedule(0)
        if isinstance(produced, np.generic):
            produced = produced.item()
        return produced

    def is_satisfied_by(self, value: Any) -> bool:
        if not callable(value) or isinstance(value, numbers.Real):
            return False
        try:
            return self.value.is_satisfied_by(self._at_round_0(value))
        except Exception:  # noqa: BLE001 - a schedule that cannot run is not a valid one
            return False

    def explain(self, value: Any) -> str | None:
        if not callable(value) or isinstance(value, numbers.Real):
            return None
        try:
            produced = self._at_round_0(value)
        except Exception as error:  # noqa: BLE001
            return f"the schedule fails at round 0 ({type(error).__name__}: {error})"
        return f"the schedule gives {_short_repr(produced)} at round 0, not {self.value}"

    def invalid_values(self) -> list:
        bad = [v for v in self.value.invalid_values() if not callable(v)]
        out: list[Any] = ["not-a-schedule", None]
        if bad:
            out.append(_Constant(bad[0]))
        return out

    def __str__(self) -> str:
        return "a callable (a schedule round -> value)"


class _Constant:
    """A schedule that always gives one value (an invalid schedule for the checks)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __call__(self, round_index: int) -> Any:
        return self.value

    def __repr__(self) -> str:
        return f"<schedule giving {self.value!r}>"


class Rows(Constraint):
    """An array-like of at least one row (anything with ``shape`` or ``len``).

    Examples
    --------
    >>> Rows().is_satisfied_by(np.zeros((3, 2))), Rows().is_satisfied_by(np.zeros((0, 2)))
    (True, False)
    """

    def is_satisfied_by(self, value: Any) -> bool:
        if value is None:
            return False
        shape = getattr(value, "shape", None)
        try:
            if shape is not None and len(shape) >= 1:
                return int(shape[0]) >= 1
            return len(value) >= 1
        except (TypeError, ValueError):
            return False

    def invalid_values(self) -> list:
        return [np.zeros((0, 2)), [], 3, object()]

    def __str__(self) -> str:
        return "an array-like of rows"


def make_constraint(item: Any) -> Constraint:
    """A constraint object for a list item: ``None`` is :class:`NoneOnly`.

    Examples
    --------
    >>> make_constraint(None)
    <NoneOnly: None>
    """
    if item is None:
        return NoneOnly()
    if isinstance(item, Constraint):
        return item
    raise TypeError(f"a constraint must be None or a Constraint; got {item!r}.")


def _describe(constraints: list[Constraint]) -> str:
    texts = [str(c) for c in constraints]
    if len(texts) == 1:
        return texts[0]
    return ", ".join(texts[:-1]) + " or " + texts[-1]


def describe(constraint_list: list) -> str:
    """The English text of what a constraint list allows.

    Examples
    --------
    >>> describe([None, Interval(int, 1, None, closed="left")])
    'None or an int in the range [1, inf)'
    """
    return _describe([make_constraint(c) for c in constraint_list])


def validate_parameter_constraints(constraints: dict[str, list], params: dict[str, Any],
                                   caller_name: str) -> None:
    """Check each of ``params`` that has an entry in ``constraints``.

    Parameters
    ----------
    constraints : dict of str to list
        ``name -> constraint list``; a value is valid if one item accepts it.
    params : dict
        ``name -> value``; names without an entry are not checked.
    caller_name : str
        The owner of the parameters, named in the message (a class name).

    Raises
    ------
    InvalidParameterError
        For the first invalid value, naming the parameter, the caller, the
        allowed values and the value received.

    Examples
    --------
    >>> alpha = [Interval(numbers.Real, 0, None, closed="left")]
    >>> validate_parameter_constraints({"alpha": alpha}, {"alpha": 2.0}, "PowerBALD")
    >>> validate_parameter_constraints({"alpha": alpha}, {"alpha": -1}, "PowerBALD")
    Traceback (most recent call last):
    ...
    skal_power._param_validation.InvalidParameterError: The 'alpha' parameter of PowerBALD must be a float in the range [0, inf); got -1.
    """
    for name, value in params.items():
        if name not in constraints:
            continue
        items = [make_constraint(c) for c in constraints[name]]
        if any(c.is_satisfied_by(value) for c in items):
            continue
        reasons = [r for r in (c.explain(value) for c in items) if r]
        raise InvalidParameterError(
            f"The {name!r} parameter of {caller_name} must be {_describe(items)}; "
            f"got {_short_repr(value)}" + (f" ({'; '.join(reasons)})" if reasons else "") + "."
        )


#: Values tried against every constraint list besides each item's own invalid values.
_COMMON_INVALID = ("not-a-value", -1, 0, 1.5, -1.0, None, [1], object(), True)


def generate_invalid_values(constraint_list: list) -> list:
    """Values that satisfy no item of ``constraint_list``.

    Empty only when the list accepts anything (it holds :class:`Anything`).

    Examples
    --------
    >>> generate_invalid_values([None, Interval(int, 1, None, closed="left")])[:4]
    [0, 'None', False, '1']
    >>> generate_invalid_values([Anything()])
    []
    """
    items = [make_constraint(c) for c in constraint_list]
    if any(c.accepts_anything for c in items):
        return []
    out: list[Any] = []
    seen: set[str] = set()
    candidates = [v for c in items for v in c.invalid_values()] + list(_COMMON_INVALID)
    for value in candidates:
        key = f"{type(value).__name__}:{_short_repr(value)}"
        if key in seen or any(c.is_satisfied_by(value) for c in items):
            continue
        seen.add(key)
        out.append(value)
    return out
