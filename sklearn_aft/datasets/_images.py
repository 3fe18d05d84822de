"""Images stored as ``[subset/]class_name/image`` files, in a folder or a tar archive."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path, PurePosixPath

import numpy as np
from sklearn.utils import Bunch

_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


def _entries(path: Path, subset: str | None):
    """Yield ``(relative posix path, opener)`` for every image file, sorted by path (stable order)."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in _IMAGE_SUFFIXES)
        for p in files:
            rel = PurePosixPath(p.relative_to(path).as_posix())
            yield rel, p.read_bytes
        return
    with tarfile.open(path) as tf:
        members = sorted(
            (m for m in tf.getmembers() if m.isfile() and PurePosixPath(m.name).suffix.lower() in _IMAGE_SUFFIXES),
            key=lambda m: m.name,
        )
        for m in members:
            yield PurePosixPath(m.name), tf.extractfile(m).read


def load_image_folder(
    path, *, subset: str | None = None, image_size: tuple[int, int] | None = None, return_X_y: bool = False
):
    """Load labelled images from a folder or a tar archive laid out as ``[subset/]class_name/file``.

    The class of an image is the name of its parent folder; classes are numbered in sorted order.
    Images are converted to RGB and returned as one uint8 NHWC array, the input format of the timm
    teachers and students.

    Parameters
    ----------
    path : str or path-like
        A directory, or a ``.tar``/``.tar.gz`` archive, holding the images.
    subset : str, default=None
        Read only the images under this first-level folder (e.g. ``"train"``); the next level is then
        the class. ``None`` reads ``class_name/file`` at the top level.
    image_size : (height, width), default=None
        Resize every image to this size. ``None`` requires all images to share one size.
    return_X_y : bool, default=False
        Return ``(images, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``images`` (uint8 array ``(n, height, width, 3)``), ``target`` (ndarray of int),
        ``target_names`` (sorted class names), ``filenames`` (paths relative to ``path``).
    (images, target) : tuple if ``return_X_y`` is True

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> from pathlib import Path
    >>> from PIL import Image
    >>> from sklearn_aft.datasets import load_image_folder
    >>> root = Path(tempfile.mkdtemp())
    >>> for name, value in [("cat", 0), ("dog", 255)]:
    ...     (root / name).mkdir()
    ...     Image.fromarray(np.full((8, 8, 3), value, np.uint8)).save(root / name / "a.png")
    >>> bunch = load_image_folder(root)
    >>> bunch.images.shape, bunch.target.tolist(), bunch.target_names
    ((2, 8, 8, 3), [0, 1], ['cat', 'dog'])
    """
    from PIL import Image

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no image folder or archive at {path}")
    depth = 2 if subset is None else 3
    images, labels, names = [], [], []
    for rel, read in _entries(path, subset):
        parts = rel.parts
        if len(parts) != depth or (subset is not None and parts[0] != subset):
            continue
        image = Image.open(io.BytesIO(read())).convert("RGB")
        if image_size is not None:
            image = image.resize((image_size[1], image_size[0]), Image.Resampling.BILINEAR)
        images.append(np.asarray(image))
        labels.append(parts[-2])
        names.append(str(rel))
    where = f"{path}" + (f" under {subset!r}" if subset is not None else "")
    if not images:
        raise ValueError(f"no images laid out as {'subset/' if subset else ''}class_name/file in {where}")
    sizes = {im.shape for im in images}
    if len(sizes) > 1:
        raise ValueError(f"images in {where} have different sizes {sorted(sizes)}; pass image_size=(h, w)")
    target_names = sorted(set(labels))
    target = np.asarray([target_names.index(label) for label in labels])
    images = np.stack(images)
    if return_X_y:
        return images, target
    return Bunch(images=images, target=target, target_names=target_names, filenames=names)
