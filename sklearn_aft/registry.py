"""Names to classes for transfer methods and students.

Built-in components register themselves where they are defined, with the ``register_*`` decorators;
estimators resolve the names given as parameters (``transfer="aft"``, ``module="mlp"``) here. Parameters
stay plain strings or classes so that ``clone`` and ``get_params`` keep working.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T", bound=type)

_REGISTRIES: dict[str, dict[str, type]] = {"transfer": {}, "student": {}}


def _register(kind: str, name: str) -> Callable[[T], T]:
    def decorator(cls: T) -> T:
        registry = _REGISTRIES[kind]
        if name in registry and registry[name] is not cls:
            raise ValueError(f"a {kind} named {name!r} is already registered: {registry[name]!r}")
        registry[name] = cls
        return cls

    return decorator


def register_transfer(name: str) -> Callable[[T], T]:
    """Class decorator: make a :class:`~sklearn_aft.transfer.TransferMethod` available by ``name``."""
    return _register("transfer", name)


def register_student(name: str) -> Callable[[T], T]:
    """Class decorator: make a student module class available by ``name``."""
    return _register("student", name)


def _available(kind: str) -> list[str]:
    # Importing the subpackages runs their register_* decorators.
    import sklearn_aft.students  # noqa: F401
    import sklearn_aft.transfer  # noqa: F401

    return sorted(_REGISTRIES[kind])


def available_transfers() -> list[str]:
    """Names accepted by the ``transfer`` parameter of the estimators."""
    return _available("transfer")


def available_students() -> list[str]:
    """Names accepted by the ``module`` parameter of the estimators."""
    return _available("student")


def _resolve(kind: str, param: str, value: object) -> type:
    if isinstance(value, str):
        names = _available(kind)
        if value not in names:
            raise ValueError(f"unknown {param}={value!r}; available: {', '.join(names)}")
        return _REGISTRIES[kind][value]
    if isinstance(value, type):
        return value
    raise TypeError(f"{param} must be a registered name or a class, got {type(value).__name__}: {value!r}")


def get_transfer(value: str | type) -> type:
    """Resolve the estimators' ``transfer`` parameter (a name or a class) to a class."""
    return _resolve("transfer", "transfer", value)


def get_student(value: str | type) -> type:
    """Resolve the estimators' ``module`` parameter (a name or a class) to a class."""
    return _resolve("student", "module", value)
