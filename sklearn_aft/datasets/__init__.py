"""Datasets: the real data bundled with the package, and a loader for image folders.

Loaders follow :mod:`sklearn.datasets`: they return a :class:`~sklearn.utils.Bunch` and take
``return_X_y`` (and ``as_frame`` for tabular text). Sources and licenses: ``data/README.md``.
"""

from ._images import load_image_folder
from ._text import load_sms_spam

__all__ = ["load_image_folder", "load_sms_spam"]
