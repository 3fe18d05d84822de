"""Declared parameter constraints: scikit-learn's constraint objects, one message format, one exception type.

The estimators and teachers declare ``_parameter_constraints`` as scikit-learn's own estimators do, checked
by ``BaseEstimator._validate_params`` at ``fit``; public functions use scikit-learn's ``validate_params``.
Transfer methods and students are torch modules, not estimators: they declare ``parameter_constraints``
(merged along the class hierarchy, so a subclass names only its own parameters) and
:func:`check_declared` checks them, from the estimator before anything is built and from
:class:`DeclaredParameters` whenever one is constructed. Every invalid value raises scikit-learn's
``InvalidParameterError`` (a ``ValueError`` and a ``TypeError``) with scikit-learn's message.
"""

from __future__ import annotations

import inspect
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
    validate_parameter_constraints,
    validate_params,
)

__all__ = [
    "Choices",
    "HasMethods",
    "Integral",
    "Interval",
    "InvalidParameterError",
    "Number",
    "Options",
    "Real",
    "StrOptions",
    "accepted_parameters",
    "check_declared",
    "declared_constraints",
    "unknown_parameters_error",
    "validate_params",
]


class _NoBooleans:
    """Refuses booleans before the constraint it is mixed into: ``True`` is an ``int`` to Python (and
    ``False == 0``), never an epoch count, a learning rate or a number of folds."""

    def is_satisfied_by(self, val) -> bool:
        return not isinstance(val, (bool, np.bool_)) and super().is_satisfied_by(val)


class Number(_NoBooleans, Interval):
    """scikit-learn's ``Interval`` without booleans."""


class Choices(_NoBooleans, Options):
    """scikit-learn's ``Options`` without booleans."""


def declared_constraints(cls: type) -> dict[str, list]:
    """``parameter_constraints`` of ``cls`` and its bases, the subclass's winning."""
    merged: dict[str, list] = {}
    for klass in reversed(cls.__mro__):
        merged.update(vars(klass).get("parameter_constraints", {}))
    return merged


def unknown_parameters_error(owner: str, unknown, accepted, prefix: str = "") -> InvalidParameterError:
    """The one message for names a class does not take (estimator, teacher, transfer method or student)."""
    names = ", ".join(repr(prefix + n) for n in sorted(unknown))
    valid = ", ".join(repr(prefix + n) for n in sorted(accepted))
    return InvalidParameterError(f"{owner} got unexpected parameter(s) {names}; valid parameters are: {valid}")


def accepted_parameters(cls: type) -> tuple[set[str], bool]:
    """The named keyword parameters of ``cls.__init__``, and whether it takes more (``**kwargs``)."""
    signature = inspect.signature(cls.__init__)
    kinds = {p.kind for p in signature.parameters.values()}
    names = {
        name
        for name, p in signature.parameters.items()
        if name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }
    return names, inspect.Parameter.VAR_KEYWORD in kinds


def check_declared(cls: type, params: dict, owner: str, prefix: str = "", fixed: tuple[str, ...] = ()) -> None:
    """Check ``params`` against what ``cls`` declares: its constructor's names and ``parameter_constraints``.

    ``owner`` and ``prefix`` word the message as the user wrote the values: through an estimator,
    ``"The 'transfer__beta' parameter of AFTClassifier ..."``; on the class itself, ``"The 'beta' parameter of
    AFTKernel ..."``. ``fixed`` names the constructor arguments the estimator sets (``student_dim``, ...),
    which the user may not give.
    """
    accepted, takes_more = accepted_parameters(cls)
    accepted -= set(fixed)
    unknown = [name for name in params if name not in accepted]
    if unknown and not takes_more:
        raise unknown_parameters_error(owner, unknown, accepted, prefix)
    constraints = {prefix + k: v for k, v in declared_constraints(cls).items()}
    validate_parameter_constraints(constraints, {prefix + k: v for k, v in params.items()}, caller_name=owner)


class DeclaredParameters:
    """Mixin of torch modules with declared constraints: they are checked before ``__init__`` runs.

    ``__new__`` receives the constructor's arguments, so every subclass (a plugin's too) is checked without
    its constructor calling anything. Unpickling and copying call ``__new__`` without arguments, and check
    nothing.
    """

    #: ``{parameter: [constraint, ...]}`` in scikit-learn's vocabulary (``Interval``, ``StrOptions``, types,
    #: ``None``, ``"boolean"``, ...); merged along the class hierarchy.
    parameter_constraints: dict[str, list] = {}

    def __new__(cls, *args, **kwargs):
        constraints = declared_constraints(cls) if args or kwargs else {}
        if constraints:
            signature = inspect.signature(cls.__init__)
            try:
                values = dict(signature.bind(None, *args, **kwargs).arguments)
            except TypeError:
                values = {}  # the constructor raises its own error for arguments it does not take
            for name, p in signature.parameters.items():
                if p.kind is p.VAR_KEYWORD:  # passed on to a base: checked against the merged declaration
                    values.update(values.pop(name, {}))
            given = {k: v for k, v in values.items() if k in constraints}
            validate_parameter_constraints(constraints, given, caller_name=cls.__name__)
        return super().__new__(cls)
