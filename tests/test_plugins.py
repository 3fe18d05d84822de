"""Third-party plugins: an example distribution installed into the test environment, used by name."""

import importlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sklearn_aft import AFTClassifier, available_students, available_teachers, available_transfers
from sklearn_aft.registry import DISABLE_ENV, reload_plugins

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "plugin"


def _add_distribution(site: Path, name: str, entry_points: str, module: str | None = None) -> None:
    """Write an installed distribution by hand: its metadata, entry points and (optionally) module."""
    info = site / f"{name}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(entry_points)
    if module is not None:
        (site / f"{name}.py").write_text(module)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """examples/plugin installed with pip into a folder on sys.path, plus a broken plugin distribution."""
    site = tmp_path_factory.mktemp("site")
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(EXAMPLE)]
    if subprocess.run([*pip, "--no-build-isolation"]).returncode:  # setuptools not in this environment
        subprocess.run(pip, check=True)
    _add_distribution(site, "broken_aft_plugin", "[sklearn_aft.transfers]\nbroken = broken_aft_plugin:Missing\n", "")
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    reload_plugins()
    yield site
    sys.path.remove(str(site))
    sys.modules.pop("sklearn_aft_example_plugin", None)
    reload_plugins()


def test_installed_plugin_is_used_by_name(site, baseline):
    reload_plugins()  # the broken plugin's warning comes on the first look-up after a reload
    with pytest.warns(UserWarning, match="could not load transfer plugin 'broken' from broken_aft_plugin: Attri"):
        transfers = available_transfers()
    assert "cosine_match" in transfers and "broken" not in transfers
    assert "linear" in available_students() and "char_counts" in available_teachers()
    texts = [f"{'hello world' if i % 2 else 'call 555 0101!'} {i}" for i in range(80)]
    y = np.arange(80) % 2
    from sklearn.feature_extraction.text import CountVectorizer

    X = CountVectorizer().fit_transform(texts).toarray().astype(np.float32)
    clf = AFTClassifier(
        module="linear", transfer="cosine_match", teacher="char_counts", lr=0.05, max_epochs=50, random_state=0
    )
    clf.fit(X, y, teacher_input=texts)
    assert type(clf.transfer_).__module__ == "sklearn_aft_example_plugin"
    assert clf.teacher_blocks_ == (4,) and clf.score(X, y) >= baseline(X, y, X, y) - 0.02


@pytest.mark.filterwarnings("ignore:could not load transfer plugin 'broken'")
def test_autoload_can_be_turned_off(site, monkeypatch):
    monkeypatch.setenv(DISABLE_ENV, "1")
    reload_plugins()
    assert "cosine_match" not in available_transfers()
    with pytest.raises(ValueError, match="unknown transfer='cosine_match'"):
        AFTClassifier(transfer="cosine_match").fit(np.ones((4, 2)), [0, 1, 0, 1], teacher_features=np.ones((4, 2)))
    monkeypatch.delenv(DISABLE_ENV)
    reload_plugins()
    assert "cosine_match" in available_transfers()


@pytest.mark.filterwarnings("ignore:could not load transfer plugin 'broken'")
def test_a_plugin_cannot_shadow_a_built_in(site, tmp_path):
    _add_distribution(tmp_path, "shadow_aft_plugin", "[sklearn_aft.transfers]\naft = json:loads\n")
    sys.path.insert(0, str(tmp_path))
    importlib.invalidate_caches()
    reload_plugins()
    try:
        with pytest.warns(UserWarning, match="plugin 'aft' from shadow_aft_plugin ignored"):
            available_transfers()
        from sklearn_aft.registry import get_transfer
        from sklearn_aft.transfer import AFTKernel

        assert get_transfer("aft") is AFTKernel
    finally:
        sys.path.remove(str(tmp_path))
        reload_plugins()
