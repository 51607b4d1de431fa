"""Tests for skal_power._param_validation and the strategies' constraint table."""

from __future__ import annotations

import inspect
import math
import numbers

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import skal_power.strategies
from skal_power._param_validation import (
    Anything,
    Boolean,
    Callable,
    InstanceOf,
    Interval,
    InvalidParameterError,
    NoneOnly,
    Options,
    Rows,
    describe,
    generate_invalid_values,
    make_constraint,
    validate_parameter_constraints,
)
from skal_power._validation import (
    check_bool,
    check_non_negative,
    check_optional_dict,
    check_optional_positive_int,
    check_positive_int,
    check_seed,
)
from skal_power.batch._saturation import check_on_saturation
from skal_power.distill import check_refit, eval_subset
from skal_power.sampling import LinearSchedule, Power, Softmax, Softrank, Top, UniformTop
from skal_power.sampling import resolve_exponent
from skal_power.strategies import PosteriorStrategy, QueryStrategy
from skal_power.strategies._single_point import SCORES, resolve_score
from skal_power.strategies._evaluation import EVALUATION_SCORES
from skal_power._strategy_parameters import (
    EVALUATION_SCORE_NAMES,
    PARAMETER_CONSTRAINTS,
    SCORE_CONSTRAINTS,
    SCORE_NAMES,
    constraints_for,
)

POSITIVE = Interval(numbers.Integral, 1, None, closed="left")
EXPONENT = Power._parameter_constraints["alpha"]

#: Any value a user might pass: numbers of every kind, strings, containers, objects.
values = st.one_of(
    st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True),
    st.floats(-3, 3), st.text(max_size=5), st.lists(st.integers(), max_size=3),
    st.sampled_from([np.int64(3), np.float32(0.5), np.bool_(True), np.float64("nan"),
                     {"a": 1}, (), object(), np.zeros((2, 2)), np.zeros((0, 3))]),
)


#: ``values`` without ints beyond int64 (the former checks failed inside numpy on those
#: with a TypeError; they are finite numbers and the constraints take them as such).
ordinary = values.filter(lambda v: not isinstance(v, int) or abs(v) < 2**63)


def _accepts(check, value) -> bool:
    try:
        check(value)
    except (TypeError, ValueError):
        return False
    return True


def _accepted(constraints, value) -> bool:
    try:
        validate_parameter_constraints({"p": constraints}, {"p": value}, "Owner")
    except InvalidParameterError:
        return False
    return True


# ----------------------------------------------------------------- the constraint objects
def test_descriptions():
    assert str(POSITIVE) == "an int in the range [1, inf)"
    assert str(Interval(numbers.Real, 0, None, closed="left")) == "a float in the range [0, inf)"
    assert str(Interval(float, 0, 1, closed="neither")) == "a float in the range (0, 1)"
    assert str(Options(str, ("warm", "head", "full"))) == "one of {'warm', 'head', 'full'}"
    assert str(NoneOnly()) == "None" and str(Boolean()) == "a bool"
    assert str(Callable()) == "a callable" and str(Rows()) == "an array-like of rows"
    assert str(InstanceOf(Top, "an instance of Selector")) == "an instance of Selector"
    assert describe([None, POSITIVE, Callable()]) == \
        "None, an int in the range [1, inf) or a callable"


def test_message_names_parameter_class_value_and_what_is_allowed():
    with pytest.raises(InvalidParameterError) as raised:
        validate_parameter_constraints({"alpha": EXPONENT}, {"alpha": -1}, "PowerBALD")
    assert str(raised.value) == (
        "The 'alpha' parameter of PowerBALD must be a float in the range [0, inf) or a "
        "callable (a schedule round -> value); got -1.")
    assert isinstance(raised.value, ValueError) and isinstance(raised.value, TypeError)


def test_message_says_what_a_schedule_gave():
    with pytest.raises(InvalidParameterError, match=r"the schedule gives -2\.0 at round 0"):
        validate_parameter_constraints({"beta": EXPONENT}, {"beta": lambda r: -2.0}, "Softmax")


def test_unlisted_parameters_are_not_checked():
    validate_parameter_constraints({"a": [POSITIVE]}, {"b": -1}, "Owner")


def test_invalid_construction_of_an_interval():
    with pytest.raises(ValueError, match="closed"):
        Interval(int, 0, 1, closed="up")
    with pytest.raises(ValueError, match="type"):
        Interval(str, 0, 1, closed="both")


@given(value=values)
def test_int_interval_is_the_formula(value):
    integral = isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))
    assert POSITIVE.is_satisfied_by(value) == (integral and value >= 1)


@given(value=values, left=st.floats(-5, 5), width=st.floats(0, 5),
       closed=st.sampled_from(["left", "right", "both", "neither"]))
def test_real_interval_is_the_formula(value, left, width, closed):
    right = left + width
    interval = Interval(numbers.Real, left, right, closed=closed)
    real = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    expected = real and not math.isnan(value) and (
        (left < value or (value == left and closed in ("left", "both")))
        and (value < right or (value == right and closed in ("right", "both"))))
    assert interval.is_satisfied_by(value) == expected


@given(value=st.one_of(ordinary, st.sampled_from([float("inf"), -0.0, 1e308])))
def test_non_negative_interval_refuses_infinity_and_nan(value):
    non_negative = Interval(numbers.Real, 0, None, closed="left")
    assert non_negative.is_satisfied_by(value) == _accepts(
        lambda v: check_non_negative(v, name="x"), value)


# ------------------------------------------------- generated invalid values, every list
ALL_LISTS = (
    [(f"strategy:{name}", lst) for name, lst in PARAMETER_CONSTRAINTS.items()]
    + [(f"score:{family}", lst) for family, lst in SCORE_CONSTRAINTS.items()]
    + [(f"{cls.__name__}:{name}", lst) for cls in (Power, Softmax, Softrank, UniformTop)
       for name, lst in cls._parameter_constraints.items()]
    + [("toy:options", [Options(str, ("a", "b"))]), ("toy:instance", [InstanceOf(dict)]),
       ("toy:callable-or-none", [None, Callable()]), ("toy:boolean", [Boolean()])]
)


@pytest.mark.parametrize("name, constraints", ALL_LISTS, ids=[n for n, _ in ALL_LISTS])
def test_every_generated_invalid_value_is_rejected_naming_the_parameter(name, constraints):
    invalid = generate_invalid_values(constraints)
    accepts_anything = any(isinstance(c, Anything) for c in constraints)
    assert bool(invalid) != accepts_anything, name
    parameter = name.split(":")[1]
    for value in invalid:
        with pytest.raises(InvalidParameterError) as raised:
            validate_parameter_constraints({parameter: constraints}, {parameter: value}, "Owner")
        assert f"'{parameter}' parameter of Owner" in str(raised.value)


@given(value=values)
@settings(max_examples=60)
def test_valid_examples_pass(value):
    for constraints in PARAMETER_CONSTRAINTS.values():
        if any(make_constraint(c).is_satisfied_by(value) for c in constraints):
            validate_parameter_constraints({"p": constraints}, {"p": value}, "Owner")


# -------------------------------------- the table accepts exactly what the checks did
def _old_exponent(value):
    resolve_exponent(value, 0, name="alpha")


def _old_score(value):
    resolve_score(value)


def _old_evaluation_score(value):
    if value not in EVALUATION_SCORES:
        raise ValueError(value)


def _old_eval_size(value):
    eval_subset(10, value, random_state=0)


def _old_random_state(value):
    check_seed(value)


OLD_CHECKS = {
    "n_samples": lambda v: check_positive_int(v, name="n"),
    "chunk_size": lambda v: check_positive_int(v, name="n"),
    "target_size": lambda v: check_positive_int(v, name="n"),
    "n_configurations": lambda v: check_positive_int(v, name="n"),
    "max_memory": lambda v: check_optional_positive_int(v, name="n"),
    "max_exact_size": lambda v: check_optional_positive_int(v, name="n"),
    "factor": lambda v: check_optional_positive_int(v, name="n"),
    "progress": lambda v: check_bool(v, name="b"),
    "lazy": lambda v: check_bool(v, name="b"),
    "exclude_eval": lambda v: check_bool(v, name="b"),
    "alpha": _old_exponent,
    "beta": _old_exponent,
    "saturation_alpha": lambda v: check_non_negative(v, name="s"),
    "distill_refit": lambda v: check_refit(v, name="r"),
    "distill_params": lambda v: check_optional_dict(v, name="d"),
    "on_saturation": lambda v: check_on_saturation(v, name="o"),
    "score": _old_score,
    "eval_size": _old_eval_size,
    "random_state": _old_random_state,
}


@given(value=st.one_of(ordinary, st.sampled_from(
    ["bald", "entropy", "expected_entropy", "eig", "evaluation_bald", "warm", "full", "head",
     "power", "continue", "warn", "raise", 0.25, 1.0, 1, 7, np.random.RandomState(0),
     np.random.default_rng(0), LinearSchedule(0.0, 4.0, 3), LinearSchedule(-1.0, 4.0, 3),
     len, lambda r: -1.0, lambda r: float("inf")])))
@settings(max_examples=300)
def test_the_table_accepts_exactly_what_the_former_checks_accepted(value):
    for name, old in OLD_CHECKS.items():
        if isinstance(value, np.ndarray) and name in ("score", "distill_refit", "on_saturation"):
            continue  # the former checks raised numpy's own "ambiguous truth value" error
        assert _accepted(PARAMETER_CONSTRAINTS[name], value) == _accepts(old, value), \
            (name, value)
    assert _accepted(SCORE_CONSTRAINTS["EvaluationAcquisition"], value) == \
        _accepts(_old_evaluation_score, value)


def test_score_names_are_the_scores():
    assert set(SCORE_NAMES) == set(SCORES)
    assert set(EVALUATION_SCORE_NAMES) == set(EVALUATION_SCORES)


# --------------------------------------------------- every strategy parameter is checked
STRATEGY_CLASSES = [getattr(skal_power.strategies, name) for name in skal_power.strategies.__all__
                    if inspect.isclass(getattr(skal_power.strategies, name))
                    and issubclass(getattr(skal_power.strategies, name), QueryStrategy)]


@pytest.mark.parametrize("cls", STRATEGY_CLASSES, ids=lambda c: c.__name__)
def test_every_init_parameter_has_a_constraint(cls):
    parameters = {p.name for p in inspect.signature(cls.__init__).parameters.values()
                  if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)} - {"self"}
    assert set(constraints_for(cls)) == parameters


def test_a_parameter_without_constraint_is_refused():
    class Mine(PosteriorStrategy):
        def __init__(self, *, temperature=1.0, n_samples=20):
            self.temperature = temperature
            self.n_samples = n_samples

    with pytest.raises(KeyError, match=r"Mine has parameter\(s\) \['temperature'\]"):
        constraints_for(Mine)

    class Declared(Mine):
        _parameter_constraints = {"temperature": [Interval(float, 0, None, closed="neither")]}

    assert set(constraints_for(Declared)) == {"temperature", "n_samples"}
    with pytest.raises(ValueError, match="'temperature' parameter of Declared"):
        Declared(temperature=0.0)._check_params()


def test_score_depends_on_the_family():
    from skal_power.strategies import Acquisition, EvaluationAcquisition

    assert constraints_for(Acquisition)["score"] is SCORE_CONSTRAINTS["Acquisition"]
    assert constraints_for(EvaluationAcquisition)["score"] is \
        SCORE_CONSTRAINTS["EvaluationAcquisition"]


def test_a_bad_selector_parameter_is_named_in_the_strategy_error():
    from skal_power.strategies import Acquisition

    with pytest.raises(ValueError, match=r"'selector' parameter of Acquisition .*"
                                         r"'beta' parameter of Softmax"):
        Acquisition("bald", Softmax(beta=-1.0))._check_params()


@given(value=st.one_of(ordinary, st.sampled_from([len, [[1.0, 2.0]], "rows"])))
@settings(max_examples=100)
def test_targets_accept_exactly_what_check_targets_accepted(value):
    from skal_power._targets import check_targets

    assert _accepted(PARAMETER_CONSTRAINTS["X_target"], value) == \
        _accepts(lambda v: check_targets(v, name="X_target"), value)


@pytest.mark.parametrize("selector, valid", [
    (None, True), (Top(), True), (Power(2.0), True), (Power(LinearSchedule(0.0, 4.0, 3)), True),
    (Softrank(beta=0), True), (UniformTop(), True), (UniformTop(factor=np.int64(2)), True),
    (Power(-1), False), (Power(LinearSchedule(-1.0, 4.0, 3)), False), (Softmax("x"), False),
    (UniformTop(factor=0), False), (UniformTop(factor=2.0), False),
    (UniformTop(factor=True), False), ("top", False), (Power, False),
])
def test_selectors_accepted_as_before(selector, valid):
    from skal_power.strategies._base import check_selector

    assert _accepted(PARAMETER_CONSTRAINTS["selector"], selector) == valid
    assert _accepts(check_selector, selector) == valid


def test_a_strategy_of_ones_own_with_a_new_parameter_still_queries():
    # Regression: with every parameter checked through the table, a user's strategy with a
    # parameter the table does not know raised KeyError at query time. The query leaves
    # that parameter to the class (strict=False); the common checks stay strict.
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier

    from skal_power.sampling import Power
    from skal_power.scores import entropy
    from skal_power.strategies import PosteriorStrategy

    class Sharpened(PosteriorStrategy):
        def __init__(self, *, sharpness=2.0, n_samples=20, chunk_size=8192,
                     random_state=None, progress=False):
            self.sharpness = sharpness
            self.n_samples = n_samples
            self.chunk_size = chunk_size
            self.random_state = random_state
            self.progress = progress

        def _score_log_probs(self, log_probs):
            return entropy(log_probs) ** self.sharpness

        def get_selector(self):
            return Power(1.0)

    X, y = load_iris(return_X_y=True)
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X[::5], y[::5])
    assert len(Sharpened(random_state=0)(forest, X, 3)[0]) == 3
    with pytest.raises(ValueError, match="n_samples"):  # the known parameters still are
        Sharpened(n_samples=0)(forest, X, 3)
    with pytest.raises(KeyError, match="sharpness"):
        Sharpened.parameter_constraints()
    assert "sharpness" not in Sharpened.parameter_constraints(strict=False)
