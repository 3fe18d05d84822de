"""
Serving an exported student with onnxruntime alone
==================================================

A student exported by :func:`sklearn_aft.export.to_onnx` (or ``sklearn-aft export MODEL.pkl OUT.onnx``) is
one ONNX graph: for a ``TfidfVectorizer`` + ``AFTClassifier`` pipeline it takes raw texts and returns labels
and probabilities. This script serves it in a process that has only ``onnxruntime`` and ``numpy``: no torch,
no skorch, no scikit-learn, no teacher. It is not run when the docs are built; run it as::

    pip install onnxruntime numpy
    python serve_onnx.py model.onnx "Free entry to win a prize, text WIN now" "see you at lunch"

Texts come from the arguments, or one per line on standard input; each answer is printed as a line of JSON.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import onnxruntime as ort


def load(path: str) -> ort.InferenceSession:
    """An inference session on the CPU for the graph at ``path``."""
    return ort.InferenceSession(path, providers=["CPUExecutionProvider"])


def predict(session: ort.InferenceSession, texts: list[str]) -> list[dict]:
    """Label (and class probabilities, for a classifier) of each text."""
    (graph_input,) = session.get_inputs()  # a text pipeline takes one column of strings
    rows = np.array(texts, dtype=object)
    if len(graph_input.shape) == 2:
        rows = rows.reshape(-1, 1)
    names = [o.name for o in session.get_outputs()]
    outputs = dict(zip(names, session.run(None, {graph_input.name: rows})))
    if "label" not in outputs:  # a regressor: one row of predictions per text
        return [{"prediction": np.ravel(row).tolist()} for row in outputs[names[0]]]
    answers = []
    for i, label in enumerate(outputs["label"]):
        answer = {"label": label.item() if hasattr(label, "item") else label}
        proba = outputs.get("probabilities")
        if proba is not None:  # an array (zipmap=False) or a list of {class: p} maps
            answer["probabilities"] = (
                {str(k): float(v) for k, v in proba[i].items()} if isinstance(proba, list) else proba[i].tolist()
            )
        answers.append(answer)
    return answers


USAGE = "usage: python serve_onnx.py MODEL.onnx [TEXT ...]   (no TEXT: one text per line on standard input)"


def main(argv: list[str]) -> int:
    if not argv:
        print(USAGE, file=sys.stderr)
        return 2
    session = load(argv[0])
    texts = argv[1:] or [line.rstrip("\n") for line in sys.stdin]
    for answer in predict(session, texts):
        print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
