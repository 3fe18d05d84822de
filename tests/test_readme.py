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
