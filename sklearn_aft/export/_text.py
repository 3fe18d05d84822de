"""Text vectorisers in the graph as scikit-learn computes them: what skl2onnx 1.20 and onnxruntime do otherwise,
and the options and graph edits that mend it (each measured on the bundled and fixture texts)."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper, numpy_helper
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer, TfidfVectorizer

from sklearn_aft.export._converters import TARGET_OPSET

#: The locale of text vectorisers' lower-casing (``StringNormalizer``) when the caller names none. skl2onnx
#: takes the converting process's locale, which the serving process may lack (onnxruntime then refuses to
#: load the graph); "C" exists everywhere and lower-cases ASCII only. ``"C.UTF-8"`` lower-cases other scripts
#: letter by letter (a final "Σ" becomes "σ", where Python writes "ς"); exact everywhere: texts lower-cased in
#: Python and ``lowercase=False``. :func:`to_onnx` checks the graph against X_sample and names the cause.
TEXT_LOCALE = "C"


#: scikit-learn's default word pattern, and the same tokens for onnxruntime's Tokenizer (RE2), whose ``\w``
#: and ``\b`` are ASCII only: with the pattern as it is, "café" becomes "caf" in the graph (15 of 1,500 SST-5
#: sentences differed); maximal runs of two or more letters, digits or underscores are Python's tokens.
_SKLEARN_TOKEN_PATTERN = r"(?u)\b\w\w+\b"
UNICODE_TOKENS = r"[\p{L}\p{N}_]{2,}"


#: The steps whose graph the edits below concern: word counters (TfidfVectorizer is one), and the steps
#: that weigh counts by tf-idf.
_VECTORIZERS = (CountVectorizer,)
_TFIDF = (TfidfTransformer, TfidfVectorizer)


def _text_options(model, options: dict | None) -> dict:
    options = dict(options or {})
    for vectorizer in _find_steps(model, _VECTORIZERS):
        chosen = {**options.get(type(vectorizer), {}), **options.get(id(vectorizer), {})}
        if vectorizer.lowercase and "locale" not in chosen:
            chosen["locale"] = TEXT_LOCALE
        if vectorizer.token_pattern == _SKLEARN_TOKEN_PATTERN and "tokenexp" not in chosen:
            chosen["tokenexp"] = UNICODE_TOKENS
        options[id(vectorizer)] = chosen
    return options


def _find_steps(model, kinds) -> list:
    """Every estimator of ``kinds`` inside pipelines, column transformers and feature unions."""
    found, stack = [], [model]
    while stack:
        step = stack.pop()
        if isinstance(step, kinds):
            found.append(step)
        for attr in ("steps", "transformers", "transformer_list"):
            for part in getattr(step, attr, None) or []:
                stack.append(part[1])
        if hasattr(step, "transformers_"):
            stack.extend(part[1] for part in step.transformers_)
    return found


def _fix_sublinear_tf(onx) -> None:
    """Rewrite skl2onnx's ``sublinear_tf`` term frequencies as scikit-learn computes them, in place.

    skl2onnx 1.20 writes ``log(1 + tf)`` (``Add`` of an all-ones vector, then ``Log``); scikit-learn's
    ``TfidfTransformer`` takes ``1 + log(tf)`` where ``tf > 0`` and keeps zeros. On the bundled SMS messages the
    probabilities of a student behind ``TfidfVectorizer(sublinear_tf=True)`` differed by up to 0.02. Term
    counts are whole numbers, so ``min(tf, 1) + log(max(tf, 1))`` is scikit-learn's value at every count
    (0 at 0, 1 at 1, 1 + log(tf) above), in elementwise passes cheaper than a ``Where`` on a mask.
    """
    graph = onx.graph
    ones = {
        init.name: init.data_type
        for init in graph.initializer
        if init.data_type in (TensorProto.FLOAT, TensorProto.DOUBLE)
        and len(init.dims) == 1
        and np.all(numpy_helper.to_array(init) == 1)
    }
    producers = {out: node for node in graph.node for out in node.output}
    for log in [n for n in graph.node if n.op_type == "Log"]:
        add = producers.get(log.input[0])
        if add is None or add.op_type != "Add" or len(add.input) != 2 or add.input[1] not in ones:
            continue
        tf, name = add.input[0], log.output[0]
        one = f"{name}_one"
        graph.initializer.append(helper.make_tensor(one, ones[add.input[1]], [], [1.0]))
        replacement = [
            helper.make_node("Min", [tf, one], [f"{name}_min1"], name=f"{log.name}_min1"),
            helper.make_node("Max", [tf, one], [f"{name}_max1"], name=f"{log.name}_max1"),
            helper.make_node("Log", [f"{name}_max1"], [f"{name}_log"], name=f"{log.name}_log"),
            helper.make_node("Add", [f"{name}_min1", f"{name}_log"], [name], name=f"{log.name}_sublinear"),
        ]
        _replace_node(graph, log, replacement)
        if not any(add.output[0] in n.input for n in graph.node):
            graph.node.remove(add)
    used = {name for node in graph.node for name in node.input}
    for init in [i for i in graph.initializer if i.name in ones and i.name not in used]:
        graph.initializer.remove(init)


def _complete_ngram_pool(onx, vectorizers: list) -> None:
    """Let onnxruntime's ``TfIdfVectorizer`` count every n-gram of the vocabulary, in place.

    It matches an n-gram only if each of its words is also in the unigram section of its pool, so skl2onnx
    leaves out the n-grams with a word outside the unigram vocabulary; but scikit-learn's vocabulary may keep
    "nokia 3510i" while ``max_features`` or ``min_df`` dropped "3510i". 5 of the 1,672 SMS test messages hold
    such bigrams (the demo's TF-IDF: 5,000 features, 1-2 grams), so the norm scaled their rows wrongly. The
    pool is rebuilt from the vectorizer's vocabulary: the missing words join the unigrams, counted into one
    extra column that a ``Slice`` drops.
    """
    graph = onx.graph
    for node in [n for n in graph.node if n.op_type == "TfIdfVectorizer"]:
        attrs = {a.name: a for a in node.attribute}
        if attrs["min_gram_length"].i != 1 or attrs["max_gram_length"].i < 2 or not attrs["pool_strings"].strings:
            continue
        vectorizer = _vectorizer_of(attrs, vectorizers)
        if vectorizer is None:
            continue
        width = len(vectorizer.vocabulary_)
        grams: dict[int, list] = {}
        for term, index in vectorizer.vocabulary_.items():
            words = term.split(" ")
            grams.setdefault(len(words), []).append((words, int(index)))
        known = {words[0] for words, _ in grams.get(1, [])}
        missing = sorted({w for n, entries in grams.items() if n > 1 for words, _ in entries for w in words} - known)
        if not missing:
            continue
        grams.setdefault(1, []).extend(([w], width) for w in missing)
        pool, starts, indexes = [], [], []
        for n in range(1, attrs["max_gram_length"].i + 1):
            starts.append(len(pool))
            for words, index in sorted(grams.get(n, [])):
                pool.extend(w.encode("utf-8") for w in words)
                indexes.append(index)
        for name, value in (("pool_strings", pool), ("ngram_counts", starts), ("ngram_indexes", indexes)):
            attrs[name].CopyFrom(helper.make_attribute(name, value))
        if "weights" in attrs and attrs["weights"].floats:  # mode "TF" keeps them at 1
            attrs["weights"].CopyFrom(helper.make_attribute("weights", [1.0] * len(indexes)))
        name = node.output[0]
        node.output[0] = f"{name}_with_extra_words"
        bounds = [f"{name}_{part}" for part in ("start", "end", "axis")]
        for bound, value in zip(bounds, (0, width, 1)):
            graph.initializer.append(helper.make_tensor(bound, TensorProto.INT64, [1], [value]))
        position = list(graph.node).index(node) + 1
        slice_node = helper.make_node("Slice", [node.output[0], *bounds], [name], name=f"{node.name}_slice")
        graph.node.insert(position, slice_node)


def _vectorizer_of(attrs: dict, vectorizers: list):
    """The fitted vectorizer whose vocabulary gives the node's unigrams their output columns."""
    pool, starts = list(attrs["pool_strings"].strings), list(attrs["ngram_counts"].ints)
    indexes = list(attrs["ngram_indexes"].ints)
    n_uni = starts[1] if len(starts) > 1 else len(pool)
    unigrams = {w.decode("utf-8"): i for w, i in zip(pool[:n_uni], indexes[:n_uni])}
    for vectorizer in vectorizers:
        vocabulary = getattr(vectorizer, "vocabulary_", {})
        if all(vocabulary.get(w) == i for w, i in unigrams.items()) and max(indexes) < len(vocabulary):
            return vectorizer
    return None


def _fast_l2_rows(onx) -> None:
    """Replace onnxruntime's ``Normalizer`` (L2) by ``ReduceL2`` and ``Div``, in place: the same rows (zero rows
    stay zero), and a third of the time of a TF-IDF pipeline's graph on 1,000 SMS messages was the
    ``Normalizer`` kernel alone."""
    graph = onx.graph
    opset = next((o.version for o in onx.opset_import if o.domain in ("", "ai.onnx")), TARGET_OPSET)
    for node in [n for n in graph.node if n.op_type == "Normalizer" and n.domain == "ai.onnx.ml"]:
        norm = next((a.s for a in node.attribute if a.name == "norm"), b"MAX")
        if norm != b"L2":
            continue
        x, name = node.input[0], node.output[0]
        tiny = f"{name}_tiny"
        graph.initializer.append(helper.make_tensor(tiny, TensorProto.FLOAT, [], [1e-30]))
        if opset >= 18:  # the axes became an input
            axes = f"{name}_axes"
            graph.initializer.append(helper.make_tensor(axes, TensorProto.INT64, [1], [1]))
            reduce = helper.make_node("ReduceL2", [x, axes], [f"{name}_l2"], keepdims=1, name=f"{node.name}_l2")
        else:
            reduce = helper.make_node("ReduceL2", [x], [f"{name}_l2"], axes=[1], keepdims=1, name=f"{node.name}_l2")
        replacement = [
            reduce,
            helper.make_node("Max", [f"{name}_l2", tiny], [f"{name}_l2_safe"], name=f"{node.name}_safe"),
            helper.make_node("Div", [x, f"{name}_l2_safe"], [name], name=f"{node.name}_div"),
        ]
        _replace_node(graph, node, replacement)


def _replace_node(graph, node, replacement: list) -> None:
    position = list(graph.node).index(node)
    graph.node.remove(node)
    for offset, new in enumerate(replacement):
        graph.node.insert(position + offset, new)


def mend_text_graph(onx, model) -> None:
    """Apply the edits above to the graph of ``model`` (a pipeline or a vectoriser), in place."""
    if any(getattr(v, "sublinear_tf", False) for v in _find_steps(model, _TFIDF)):
        _fix_sublinear_tf(onx)
    _complete_ngram_pool(onx, _find_steps(model, _VECTORIZERS))
    _fast_l2_rows(onx)


# -- why a text graph differs: named in OnnxExportError ------------------------------------------------------
#: Characters whose lower case Python takes from their context or writes as two: a per-letter lower-casing
#: (a ``StringNormalizer`` with a UTF-8 locale) gives another token. "ΟΔΟΣ".lower() is "οδος" with a final
#: sigma; the graph writes "οδοσ".
_CONTEXT_CASED = frozenset("Σİ")
_ASCII_ONLY_CLASSES = ("\\w", "\\W", "\\b", "\\B", "\\d", "\\D")


def text_mismatch_hint(model, X_sample, options: dict | None) -> str:
    """What in the sample's texts the graph of ``model`` tokenises otherwise than scikit-learn, and the option
    that changes it; ``""`` when the model has no text vectoriser or nothing in the texts explains it."""
    chosen = _text_options(model, options)
    hints = []
    for vectorizer in _find_steps(model, _VECTORIZERS):
        texts = _texts_of(model, vectorizer, X_sample)
        if not texts:
            continue
        name = type(vectorizer).__name__
        where = f"{name}" + (f" on column {texts[0]!r}" if texts[0] is not None else "")
        texts = texts[1]
        settings = chosen.get(id(vectorizer), {})
        if vectorizer.lowercase:
            hints.extend(_case_hint(where, name, texts, settings.get("locale") or TEXT_LOCALE))
        pattern = settings.get("tokenexp") or vectorizer.token_pattern
        if pattern and any(c in pattern for c in _ASCII_ONLY_CLASSES):
            rows = [t for t in texts if any(c.isalnum() and not c.isascii() for c in t)]
            if rows:
                letters = _examples(c for t in rows for c in t if c.isalnum() and not c.isascii())
                hints.append(
                    f"{where}: the graph's tokenizer (RE2) reads the pattern {pattern!r} with ASCII-only \\w, \\b and "
                    f"\\d, and {len(rows)} of {len(texts)} sample texts hold other letters or digits ({letters}): "
                    f"write the pattern with \\p{{L}}\\p{{N}}_, e.g. options={{{name}: "
                    f"{{'tokenexp': {UNICODE_TOKENS!r}}}}} for scikit-learn's default token_pattern"
                )
    return "; ".join(hints)


def _case_hint(where: str, name: str, texts: list, locale: str) -> list:
    if locale.upper() in ("C", "POSIX"):
        rows = [t for t in texts if any(not c.isascii() and c.lower() != c for c in t)]
        if not rows:
            return []
        letters = _examples(c for t in rows for c in t if not c.isascii() and c.lower() != c)
        return [
            f"{where}: the graph lower-cases with locale {locale!r}, ASCII letters only, and {len(rows)} of "
            f"{len(texts)} sample texts hold other upper-case letters ({letters}), which scikit-learn lower-cases: "
            f"lower-case the texts in Python before the pipeline (when fitting and when serving) and set "
            f"{name}(lowercase=False), or pass options={{{name}: {{'locale': 'C.UTF-8'}}}} where every serving "
            "machine has that locale (it lower-cases letter by letter: a final 'Σ' becomes 'σ' where Python writes 'ς')"
        ]
    rows = [t for t in texts if "".join(c.lower() for c in t) != t.lower()]
    if not rows:
        return []
    letters = _examples(c for t in rows for c in t if c in _CONTEXT_CASED or len(c.lower()) != 1)
    return [
        f"{where}: the graph lower-cases letter by letter (locale {locale!r}), and {len(rows)} of {len(texts)} "
        f"sample texts hold letters whose lower case Python takes from the context ({letters}; a final 'Σ' is "
        f"'ς'): lower-case the texts in Python before the pipeline (when fitting and when serving) and set "
        f"{name}(lowercase=False)"
    ]


def _examples(chars, n: int = 5) -> str:
    seen = list(dict.fromkeys(chars))
    return ", ".join(repr(c) for c in seen[:n]) + (", ..." if len(seen) > n else "")


def _texts_of(model, vectorizer, X):
    """``(column or None, texts)`` that ``vectorizer`` reads of the model's input X, or None when a step before
    it transforms them (or the input does not say)."""
    if model is vectorizer:
        column = None
        if hasattr(X, "columns"):  # a one-column frame
            column = X.columns[0]
            X = X[column]
        values = np.asarray(X, dtype=object).ravel()
        return column, [v for v in values if isinstance(v, str)]
    steps = getattr(model, "steps", None)
    if steps:
        return _texts_of(steps[0][1], vectorizer, X)
    for _, step, columns in getattr(model, "transformers_", None) or []:
        if isinstance(step, str) or not any(found is vectorizer for found in _find_steps(step, _VECTORIZERS)):
            continue
        try:
            part = X[columns] if hasattr(X, "columns") else np.asarray(X)[:, columns]
        except (KeyError, IndexError, TypeError):
            return None
        found = _texts_of(step, vectorizer, part)
        if found:
            return columns if isinstance(columns, str) else found[0], found[1]
    for _, step in getattr(model, "transformer_list", None) or []:
        found = _texts_of(step, vectorizer, X)
        if found:
            return found
    return None
