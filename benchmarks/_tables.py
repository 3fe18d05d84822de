"""Tables with a text column, for the regression benchmark (filled in when a dataset is added)."""

from __future__ import annotations

TABLES: tuple[str, ...] = ()


def load_table(name: str, pool: int | None):
    raise ValueError(f"unknown table {name!r}; choose one of {TABLES}")
