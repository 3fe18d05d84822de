"""The README's quickstart runs as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_quickstart_runs():
    text = README.read_text()
    section = text[text.index("## Quickstart") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace: dict = {}
    exec(compile(code, "README quickstart", "exec"), namespace)
    clf, X = namespace["clf"], namespace["X"]
    assert clf.predict(X[:5]).shape == (5,)
    assert clf.transfer_.feature_weights_.shape == (32,)


def test_two_commands_match_the_project():
    """The main job runs the demo with an extra that exists; CI runs the README's test command verbatim."""
    import pytest

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    text = README.read_text()
    commands = re.findall(r"```bash\n(.*?)\n```", text[text.index("## Two commands") :], re.S)
    main_job, cpu_job = commands[0], commands[1]
    tests = next(c for c in commands if "pytest" in c)
    assert main_job.endswith("python -m sklearn_aft demo") and '".[demo]"' in main_job
    # the CPU-only variant sits next to it: the same job after torch's CPU build
    assert "download.pytorch.org/whl/cpu" in cpu_job and cpu_job.endswith(main_job.split("&& ", 1)[1])
    extras = tomllib.loads((README.parent / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert {"demo", "test", "docs"} <= set(extras)
    assert tests in (README.parent / ".ci" / "run").read_text()
