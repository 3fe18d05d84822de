"""The demo and the command line (``python -m sklearn_aft``, ``sklearn-aft``)."""

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest

from sklearn_aft.cli import main
from sklearn_aft.demo import _pick_labeled_rows, load_demo_data


def test_help_lists_the_options(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for option in ("--dataset", "--labels", "--methods", "--device", "--output", "--seed", "--no-static"):
        assert option in out


def test_module_entry_point_runs():
    out = subprocess.run([sys.executable, "-m", "sklearn_aft", "info"], capture_output=True, text=True, check=True)
    assert "aft_feature" in out.stdout and "sentence" in out.stdout


def test_user_errors_exit_2_with_one_line(capsys, tmp_path):
    assert main(["demo", "--methods", "nope", "--output", str(tmp_path)]) == 2
    assert "nope" in capsys.readouterr().err
    assert main(["demo", "--dataset", str(tmp_path / "missing.tsv"), "--output", str(tmp_path)]) == 2
    assert "dataset" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["demo", "--labels", "0"])


def test_demo_data_from_a_file_and_label_choice(tmp_path):
    path = tmp_path / "mine.tsv"
    path.write_text("label\ttext\n" + "".join(f"{'ab'[i % 2]}\tmessage number {i}\n" for i in range(40)))
    x_tr, y_tr, x_te, y_te = load_demo_data(str(path), seed=0)
    assert (len(x_tr), len(x_te)) == (28, 12) and set(y_tr) == {"a", "b"}
    mask = _pick_labeled_rows(y_tr, 6, seed=0)
    assert mask.sum() == 6 and set(y_tr[mask]) == {"a", "b"}
    with pytest.raises(ValueError, match="at least 2 per class"):
        _pick_labeled_rows(y_tr, 3, seed=0)
    x_tr, y_tr, x_te, y_te = load_demo_data("sms_spam", max_samples=100)
    assert len(x_tr) == len(x_te) == 100 and set(y_tr) == {"ham", "spam"}


@pytest.mark.slow
def test_demo_end_to_end_on_a_subset(tmp_path, capsys):
    """The README's main job, on 300 texts: real teacher, table, plot, result files."""
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("matplotlib")
    args = [
        "demo",
        "--max-samples",
        "300",
        "--labels",
        "40",
        "--methods",
        "none",
        "stacked_kd",
        "aft_feature",
        "--output",
        str(tmp_path / "out"),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--quiet",
    ]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(args) == 0
    # the demo's own estimators raise no FutureWarning, its plain student no "rows go unused", torch no sparse beta
    assert [f"{w.category.__name__}: {w.message}" for w in caught] == []
    out = capsys.readouterr().out
    assert "teacher probe" in out and "student + aft_feature" in out and "speed-up" in out
    assert "pseudo-labels (by hand)" in out and "student + stacked_kd (default)" in out
    assert "serving the default student: torch, trimmed pickle" in out and "ONNX (onnxruntime, no torch)" in out
    rows = json.loads((tmp_path / "out" / "demo_sms_spam.json").read_text())
    assert [r["method"] for r in rows] == ["-", "-", "stacked_kd", "none", "stacked_kd", "aft_feature"]
    probe, pseudo, static, plain, default, aft = rows
    assert static["model"].startswith("static student on raw texts")
    assert probe["accuracy"] > 0.866 and pseudo["accuracy"] > 0.866  # beat always predicting ham on SMS
    assert static["accuracy"] > 0.866
    # the students do not run the teacher
    assert min(r["speedup"] for r in (pseudo, static, plain, default, aft)) > 10
    assert np.isclose(plain["gap_closed"], 0) or np.isnan(plain["gap_closed"])
    assert (tmp_path / "out" / "demo_sms_spam.png").stat().st_size > 10_000
    # second run: the teacher embeddings come from the cache
    assert any((tmp_path / "cache").rglob("*.npz"))
    assert main(args[:-1] + ["--no-plot", "--quiet"]) == 0


def test_console_script_is_installed():
    from pathlib import Path

    script = Path(sys.executable).parent / "sklearn-aft"
    if not script.exists():
        pytest.skip("package not installed with its scripts (pip install -e . installs them)")
    out = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("sklearn-aft ")


def test_gap_closed_is_not_reported_below_a_point_of_gap():
    from sklearn_aft.demo import PROBE, _add_relative_columns, format_table

    def row(model, method, accuracy):
        return dict(
            model=model, method=method, accuracy=accuracy, macro_f1=accuracy, fit_seconds=1.0, predict_per_second=100.0
        )

    # the probe leads the plain student by one text in 1,672: no share of that gap means anything
    one_text = [row(PROBE, "probe", 0.9600), row("plain", "none", 0.9594), row("aft", "aft", 0.9612)]
    _add_relative_columns(one_text)
    assert np.isnan(one_text[2]["gap_closed"]) and " n/a" in format_table(one_text).splitlines()[4]
    wide = [row(PROBE, "probe", 0.90), row("plain", "none", 0.80), row("aft", "aft", 0.85)]
    _add_relative_columns(wide)
    assert wide[2]["gap_closed"] == pytest.approx(0.5) and "+0.50" in format_table(wide)


def test_throughput_is_a_median_after_a_warm_up():
    import time

    from sklearn_aft.demo import _throughput

    calls = []

    def predict(X):  # the first call sets up (slow), one later call is interrupted (slow): neither counts
        calls.append(len(X))
        time.sleep(0.2 if len(calls) in (1, 3) else 0.01)

    rate = _throughput(predict, np.zeros(100), min_seconds=0.0, min_repeats=5)
    assert len(calls) == 6 and 100 / 0.02 < rate < 100 / 0.01 * 1.01
