"""What the documentation states about the code comes from the code: defaults, parameters, counts, extras."""

from __future__ import annotations

import ast
import inspect
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from sklearn_aft import AFTClassifier, AFTRegressor
from sklearn_aft._constraints import accepted_parameters
from sklearn_aft.registry import available_transfers, get_transfer

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
FIXED = {"self", "student_dim", "teacher_dims"}  # filled in by the estimator, never given by the user


def _table(text: str, header: str) -> list[list[str]]:
    """The cells of the markdown table whose header line starts with ``header`` (separator row left out)."""
    start = text.index(header)
    rows = []
    for line in text[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split(" | ")])
    assert rows, f"no rows under {header!r}"
    return rows


def _code_spans(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def _literal(source: str):
    try:
        return ast.literal_eval(source)
    except (ValueError, SyntaxError):
        pytest.fail(f"the documented default {source!r} is not a Python literal")


# -- the estimators' parameter table (docs/estimators.md) -------------------------------------------


def _documented_estimator_defaults() -> dict:
    rows = _table((DOCS / "estimators.md").read_text(), "| parameter | default | meaning |")
    documented = {}
    for name_cell, default_cell, _ in rows:
        (name,) = _code_spans(name_cell)  # one parameter per row
        (default,) = _code_spans(default_cell)  # written as the Python literal
        documented[name] = _literal(default)
    return documented


@pytest.mark.parametrize("estimator", [AFTClassifier, AFTRegressor])
def test_estimator_table_matches_init_defaults(estimator):
    signature = inspect.signature(estimator)
    code = {name: p.default for name, p in signature.parameters.items() if p.kind is not inspect.Parameter.VAR_KEYWORD}
    documented = _documented_estimator_defaults()
    assert list(documented) == list(code), "docs/estimators.md lists other parameters, or in another order"
    for name, default in code.items():
        assert documented[name] == default and type(documented[name]) is type(default), (
            f"docs/estimators.md gives {name}={documented[name]!r}; {estimator.__name__}.__init__ has {default!r}"
        )


# -- the transfer__* parameters of every method (docs/methods.md) ------------------------------------


def _builtin_transfers() -> dict[str, type]:
    # plugins installed in the environment are not the package's to document
    classes = {name: get_transfer(name) for name in available_transfers()}
    return {name: cls for name, cls in classes.items() if cls.__module__.startswith("sklearn_aft.")}


def _documented_transfer_params() -> dict[str, dict]:
    rows = _table((DOCS / "methods.md").read_text(), "| `transfer=` |")
    documented = {}
    for row in rows:
        name = re.match(r'`"(\w+)"`', row[0]).group(1)
        params = {}
        for span in _code_spans(row[-1]):
            key, sep, default = span.partition("=")
            params[key] = _literal(default) if sep else ...  # `<term>__<param>`: no default
        documented[name] = params
    return documented


def test_every_builtin_method_is_documented_once():
    rows = _table((DOCS / "methods.md").read_text(), "| `transfer=` |")
    names = [re.match(r'`"(\w+)"`', row[0]).group(1) for row in rows]
    assert len(names) == len(set(names))
    assert sorted(names) == sorted(_builtin_transfers())


@pytest.mark.parametrize("method", sorted(_builtin_transfers()))
def test_method_parameters_match_what_it_accepts(method):
    """The listed names are the ones the estimators let through (``accepted_parameters``, which
    ``check_params`` uses), with the constructor's defaults; ``**kwargs`` is listed as ``<term>__<param>``."""
    cls = _builtin_transfers()[method]
    documented = _documented_transfer_params()[method]
    accepted, takes_more = accepted_parameters(cls)
    signature = inspect.signature(cls.__init__).parameters
    code = {name: signature[name].default for name in sorted(accepted - FIXED)}
    if takes_more:
        code["<term>__<param>"] = ...
    assert sorted(documented) == sorted(code), f"docs/methods.md lists other transfer__* parameters for {method!r}"
    for name, default in code.items():
        assert documented[name] == default and type(documented[name]) is type(default), (
            f"docs/methods.md gives {method!r} {name}={documented[name]!r}; the code has {default!r}"
        )


def test_warmup_is_refused_by_the_default_method():
    """The docs (README, estimators.md, methods.md) say that every method but ``stacked_kd`` takes warmup."""
    transfers = _builtin_transfers()
    without = sorted(name for name, cls in transfers.items() if "warmup" not in accepted_parameters(cls)[0])
    assert without == [inspect.signature(AFTClassifier).parameters["transfer"].default] == ["stacked_kd"]


# -- counts and installs ----------------------------------------------------------------------------


def _prose_files() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.glob("*.md")), *sorted((ROOT / "examples").glob("*.py"))]


def test_sms_split_sizes_agree_with_the_data():
    from sklearn_aft.datasets import load_sms_spam

    sizes = {
        "test": len(load_sms_spam(subset="test").data),
        "training": len(load_sms_spam(subset="train").data),
    }
    wrong = []
    for path in _prose_files():
        text = re.sub(r"\s+", " ", path.read_text(encoding="utf-8"))
        if "SMS" not in text and "sms" not in text:
            continue
        for number, split in re.findall(r"\b(\d[\d,]*) (?:SMS )?(test|training) messages", text):
            if int(number.replace(",", "")) != sizes[split]:
                wrong.append(f"{path.relative_to(ROOT)}: {number} {split} messages (the data: {sizes[split]:,})")
    assert not wrong, wrong


def _extras() -> dict[str, list[str]]:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {"": project["dependencies"], **project["optional-dependencies"]}


def _distributions(extra: str, extras: dict[str, list[str]]) -> set[str]:
    """Normalised names of the distributions an extra installs (the core dependencies included)."""
    names: set[str] = set()
    for requirement in extras[extra] + (extras[""] if extra else []):
        name = re.match(r"[A-Za-z0-9_.\-]+", requirement).group(0)
        nested = re.match(r"sklearn-aft\[([^\]]+)\]", requirement)
        if nested:
            for inner in nested.group(1).split(","):
                names |= _distributions(inner.strip(), extras)
        else:
            names.add(re.sub(r"[-_.]+", "-", name).lower())
    return names


def _imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - {"sklearn_aft", "__future__"}


def test_gallery_imports_are_installed_by_the_docs_extra():
    """The docs build runs every gallery example: what they import comes with ``.[docs]``."""
    extras = _extras()
    installed = _distributions("docs", extras)
    owners = packages_distributions()
    missing = []
    for path in sorted((ROOT / "examples").glob("*.py")):
        for module in sorted(_imported_modules(path)):
            dists = {re.sub(r"[-_.]+", "-", d).lower() for d in owners.get(module, [])}
            if not dists & installed:
                missing.append(f"{path.name}: {module} ({', '.join(sorted(dists)) or 'not installed here'})")
    assert not missing, missing


def test_demo_extra_brings_pandas_for_the_examples():
    extras = _extras()
    assert "pandas" in _distributions("examples", extras)
    assert any(re.fullmatch(r"pandas>=\d.*", r) for r in extras["demo"])
