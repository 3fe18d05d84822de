"""Names to classes for transfer methods, students and teachers, built in or from plugins.

Built-in components register themselves where they are defined, with the ``register_*`` decorators. This
module imports nothing of the package when it is imported (every other module may import it, and the package's
``__init__`` is lazy): the first look-up of a kind imports the built-in subpackage of that kind
(:mod:`sklearn_aft.transfer`, :mod:`sklearn_aft.students` or :mod:`sklearn_aft.teachers`), so that torch is
only imported when a component is needed. Third-party packages add theirs through entry points, loaded on the
first look-up, after the built-ins::

    [project.entry-points."sklearn_aft.transfers"]
    my_method = "my_package.methods:MyMethod"

(groups ``sklearn_aft.transfers``, ``sklearn_aft.students``, ``sklearn_aft.teachers``). A plugin that fails
to load gives a warning naming its distribution; a name already registered (built in, or by an earlier
plugin) is never replaced. Set the
environment variable ``SKLEARN_AFT_DISABLE_PLUGIN_AUTOLOAD=1`` to skip plugins. Estimator parameters stay
plain strings or classes, so ``clone`` and ``get_params`` keep working.
"""

from __future__ import annotations

import importlib
import os
import threading
import warnings
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import TypeVar

from sklearn.utils._param_validation import InvalidParameterError

T = TypeVar("T", bound=type)

KINDS = {"transfer": "sklearn_aft.transfers", "student": "sklearn_aft.students", "teacher": "sklearn_aft.teachers"}
DISABLE_ENV = "SKLEARN_AFT_DISABLE_PLUGIN_AUTOLOAD"
# the subpackage whose import registers the built-ins of each kind (by name only: see the module docstring)
BUILTINS = {"transfer": "sklearn_aft.transfer", "student": "sklearn_aft.students", "teacher": "sklearn_aft.teachers"}

_REGISTRIES: dict[str, dict[str, type]] = {kind: {} for kind in KINDS}
_PLUGINS: dict[str, dict[str, str]] = {kind: {} for kind in KINDS}  # names added by entry points -> distribution
_PLUGINS_LOADED: set[str] = set()
_BUILTINS_LOADED: set[str] = set()
_LOCK = threading.RLock()


def _load_builtins(kind: str) -> None:
    # The import system is thread-safe and imports a module once; a failed import is retried on the next call.
    # During the built-ins' own import (a look-up at import time) this returns the registry as it stands so far.
    if kind not in _BUILTINS_LOADED:
        importlib.import_module(BUILTINS[kind])
        _BUILTINS_LOADED.add(kind)


def _register(kind: str, name: str) -> Callable[[T], T]:
    def decorator(cls: T) -> T:
        if not cls.__module__.startswith("sklearn_aft."):
            # a class of another package meets the built-ins, as when the package imported them eagerly
            _load_builtins(kind)
        registry = _REGISTRIES[kind]
        known = registry.get(name)
        # the same class defined again (a re-run notebook cell, a reloaded module) replaces itself
        if (
            known is not None
            and known is not cls
            and (known.__module__, known.__qualname__)
            != (
                cls.__module__,
                cls.__qualname__,
            )
        ):
            raise ValueError(f"a {kind} named {name!r} is already registered: {known!r}")
        registry[name] = cls
        return cls

    return decorator


def register_transfer(name: str) -> Callable[[T], T]:
    """Class decorator: make a :class:`~sklearn_aft.transfer.TransferMethod` available by ``name``."""
    return _register("transfer", name)


def register_student(name: str) -> Callable[[T], T]:
    """Class decorator: make a student module class available by ``name``."""
    return _register("student", name)


def register_teacher(name: str) -> Callable[[T], T]:
    """Class decorator: make a teacher (transformer) class available by ``name``."""
    return _register("teacher", name)


def _load_plugins(kind: str) -> None:
    with _LOCK:  # other threads wait until the registry is complete
        if kind in _PLUGINS_LOADED:
            return
        if os.environ.get(DISABLE_ENV, "").strip() not in ("", "0"):
            _PLUGINS_LOADED.add(kind)
            return
        registry, plugins = _REGISTRIES[kind], _PLUGINS[kind]
        for ep in entry_points(group=KINDS[kind]):
            dist = getattr(ep.dist, "name", None) or "an unknown distribution"
            if ep.name in plugins:
                warnings.warn(
                    f"{kind} plugin {ep.name!r} from {dist} ignored: {plugins[ep.name]} already provides it",
                    stacklevel=3,
                )
                continue
            if ep.name in registry:
                warnings.warn(
                    f"{kind} plugin {ep.name!r} from {dist} ignored: {registry[ep.name].__module__} already "
                    "registers that name",
                    stacklevel=3,
                )
                continue
            try:
                registry[ep.name] = ep.load()
            except Exception as exc:  # a broken plugin must not break the package
                warnings.warn(
                    f"could not load {kind} plugin {ep.name!r} from {dist}: {type(exc).__name__}: {exc}", stacklevel=3
                )
                continue
            plugins[ep.name] = dist
        _PLUGINS_LOADED.add(kind)


def reload_plugins() -> None:
    """Forget the plugins loaded from entry points and look for them again on the next look-up.

    Classes registered with the ``register_*`` decorators stay.
    """
    with _LOCK:
        for kind in KINDS:
            for name in _PLUGINS[kind]:
                _REGISTRIES[kind].pop(name, None)
            _PLUGINS[kind].clear()
        _PLUGINS_LOADED.clear()


def _available(kind: str) -> list[str]:
    _load_builtins(kind)  # before the plugins: a plugin never takes a built-in's name
    _load_plugins(kind)
    return sorted(_REGISTRIES[kind])


def available_transfers() -> list[str]:
    """Names accepted by the ``transfer`` parameter of the estimators (built-ins and plugins)."""
    return _available("transfer")


def available_students() -> list[str]:
    """Names accepted by the ``module`` parameter of the estimators (built-ins and plugins)."""
    return _available("student")


def available_teachers() -> list[str]:
    """Names accepted by the ``teacher`` parameter of the estimators (built-ins and plugins)."""
    return _available("teacher")


def _resolve(kind: str, param: str, value: object) -> type:
    # scikit-learn's InvalidParameterError (a ValueError and a TypeError), as for every other bad parameter
    if isinstance(value, str):
        names = _available(kind)
        if value not in names:
            raise InvalidParameterError(f"unknown {param}={value!r}; available: {', '.join(names)}")
        return _REGISTRIES[kind][value]
    if isinstance(value, type):
        return value
    raise InvalidParameterError(f"{param} must be a registered name or a class, got {type(value).__name__}: {value!r}")


def get_transfer(value: str | type) -> type:
    """Resolve the estimators' ``transfer`` parameter (a name or a class) to a class."""
    return _resolve("transfer", "transfer", value)


def get_student(value: str | type) -> type:
    """Resolve the estimators' ``module`` parameter (a name or a class) to a class."""
    return _resolve("student", "module", value)


def get_teacher(value: str | type) -> type:
    """Resolve a teacher name (``"sentence"``, ``"timm"``, a plugin's) or class to a class."""
    return _resolve("teacher", "teacher", value)
