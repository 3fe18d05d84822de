"""Quiet by default (issue 26, item 8): no library warnings on a normal fit, bars only where a person sees them,
``--help`` without torch."""

import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, cwd=ROOT, timeout=300
    )


def test_a_tfidf_fit_prints_no_sparse_beta_warning():
    # A fresh process: torch says "Sparse CSR tensor support is in beta" once per process, so an earlier test in
    # this one could have used it up.
    out = _python(
        """
        import warnings
        warnings.simplefilter("always")
        import numpy as np
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn_aft import AFTClassifier

        texts = [f"word{i % 7} thing{i % 3} hello {i % 5}" for i in range(60)]
        X = TfidfVectorizer().fit_transform(texts)
        y = (np.arange(60) % 3 == 0).astype(int)  # "thing0": learnable, so no one-class warning either
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            AFTClassifier(transfer="none", random_state=0).fit(X, y).predict(X)
            AFTClassifier(transfer="none", module="mlp", max_epochs=30, random_state=0).fit(X, y).predict(X)
        for w in caught:
            print("WARNING", w.category.__name__, w.message)
        """
    )
    assert out.returncode == 0, out.stderr
    assert "WARNING" not in out.stdout and "Sparse" not in out.stderr, out.stdout + out.stderr


def test_other_sparse_warnings_are_not_silenced():
    import torch

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from sklearn_aft._data import _sparse_tensor

        _sparse_tensor(__import__("scipy.sparse").sparse.eye(3, format="csr"))
        warnings.warn("Sparse CSR tensor support is in beta (a user's own)", UserWarning)
    assert [str(w.message) for w in caught] == ["Sparse CSR tensor support is in beta (a user's own)"]
    assert torch.__version__  # the filter was scoped to the package's own tensor


def test_the_command_line_layer_parses_help_without_torch():
    # cli.py and demo.py import neither torch nor skorch to answer --help: checked with the package's __init__ left
    # out (it imports the estimators, and so torch, by itself).
    out = _python(
        f"""
        import sys, types
        package = types.ModuleType("sklearn_aft")
        package.__path__ = [{str(ROOT / "sklearn_aft")!r}]
        package.__version__ = "0"
        sys.modules["sklearn_aft"] = package
        from sklearn_aft.cli import main
        for argv in (["--help"], ["demo", "--help"]):
            try:
                main(argv)
            except SystemExit:
                pass
        print("IMPORTED", sorted(m for m in ("torch", "skorch", "sentence_transformers") if m in sys.modules))
        """
    )
    assert out.returncode == 0, out.stderr
    assert "--dataset" in out.stdout and "IMPORTED []" in out.stdout, out.stdout + out.stderr


def test_sklearn_aft_help_does_not_import_torch():
    out = _python(
        """
        import sys
        from sklearn_aft.cli import main
        try:
            main(["demo", "--help"])
        except SystemExit:
            pass
        print("TORCH", "torch" in sys.modules)
        """
    )
    assert "TORCH False" in out.stdout, out.stdout + out.stderr


def test_the_demo_teacher_shows_its_bar_only_on_a_terminal(monkeypatch):
    from sklearn_aft import demo
    from sklearn_aft.teachers import FunctionEmbedder

    teacher = FunctionEmbedder(np.cos)
    monkeypatch.setattr(demo, "_stderr_is_terminal", lambda: False)
    assert demo._demo_teacher(teacher, "cpu", progress=True).verbose == 0  # a log file gets no bar
    monkeypatch.setattr(demo, "_stderr_is_terminal", lambda: True)
    assert demo._demo_teacher(teacher, "cpu", progress=True).verbose == 1
    assert demo._demo_teacher(teacher, "cpu", progress=False).verbose == 0
    assert teacher.verbose == 0  # a clone was changed


def test_stderr_is_terminal_on_a_pipe_or_nothing(monkeypatch):
    import io

    from sklearn_aft.demo import _stderr_is_terminal

    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert not _stderr_is_terminal()
    monkeypatch.setattr(sys, "stderr", None)
    assert not _stderr_is_terminal()


def test_the_demo_probe_settings_raise_no_future_warning():
    from sklearn.linear_model import LogisticRegressionCV

    from sklearn_aft.demo import _lrcv_settings

    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(40, 3)), np.arange(40) % 2
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        LogisticRegressionCV(max_iter=200, **_lrcv_settings()).fit(X, y).predict(X)


def test_the_demo_epoch_bar_pickles_under_its_module_name():
    import pickle

    from sklearn_aft import demo

    bar = demo._epoch_progress("none")
    assert type(bar) is demo.EpochProgress and type(bar).__module__ == "sklearn_aft.demo"
    assert type(pickle.loads(pickle.dumps(bar))) is demo.EpochProgress
    with pytest.raises(AttributeError):
        demo.NoSuchThing  # noqa: B018
