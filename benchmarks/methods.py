"""Every transfer method on real data: accuracy, and the share of the student-to-teacher-probe gap it closes.

Student: an MLP on TF-IDF of the raw texts (``max_epochs="auto"``, the estimators' defaults). Teacher:
all-MiniLM-L6-v2 sentence embeddings (384-d, offline). For each dataset in ``benchmarks/data`` (SST-2,
TREC, SMS spam), label budget (100, 500, all) with and without the other training rows as unlabeled rows
(label -1: the transfer set), method and seed, one fit; the teacher probe is a logistic regression on the
labeled rows' teacher features. Gap closed = (method - plain student) / (teacher probe - plain student),
averaged over the settings where the probe beats the plain student.

Run: ``python benchmarks/methods.py`` (3 seeds; about an hour on 2 CPU cores). Results:
``benchmarks/results/methods.{md,json,png}``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from _data import DATASETS, teacher_features  # noqa: I001
from defaults import SETTINGS, one_run, references
from joblib import Parallel, delayed

RESULTS = Path(__file__).parent / "results"

METHODS = {
    "none": {"transfer": "none"},
    "aft_feature": {"transfer": "aft_feature"},
    "aft": {"transfer": "aft"},
    "fitnet": {"transfer": "fitnet"},
    "rkd": {"transfer": "rkd"},
    "kd": {"transfer": "kd"},
    "hybrid": {"transfer": "hybrid"},
    "kd+aft_feature": {"transfer": "combined", "transfer__terms": {"kd": 1.0, "aft_feature": 1.0}},
    "task_oriented": {"transfer": "task_oriented"},
    "talking": {"transfer": "talking"},
}


def _acc(run) -> float:
    return next(iter(run["acc_at_epoch"].values()))


def summarise(runs, refs, methods) -> tuple[str, dict]:
    lines = []
    gaps: dict[tuple[str, bool], list[float]] = {}
    for ds in sorted({r["dataset"] for r in runs}):
        lines += [
            f"\n### {ds}\n",
            "| labels | unlabeled rows | teacher probe | " + " | ".join(methods) + " |",
            "|---" * (3 + len(methods)) + "|",
        ]
        for n, unl, _ in SETTINGS:
            probe = np.mean([r["teacher_probe"] for r in refs if r["dataset"] == ds and r["labels"] == n])
            accs = {
                m: [
                    _acc(r) for r in runs if (r["dataset"], r["labels"], r["unlabeled"], r["method"]) == (ds, n, unl, m)
                ]
                for m in methods
            }
            plain = np.mean(accs["none"]) if accs.get("none") else np.nan
            cells = [str(n), "yes" if unl else "no", f"{probe:.3f}"]
            for m in methods:
                a = accs[m]
                cells.append(f"{np.mean(a):.3f} ± {np.std(a):.3f}" if a else "-")
                if a and probe > plain:
                    gaps.setdefault((m, unl), []).append((np.mean(a) - plain) / (probe - plain))
            lines.append("| " + " | ".join(cells) + " |")
    head = [
        "| method | gap closed, labeled rows only | gap closed, with unlabeled rows |",
        "|---|---|---|",
    ]
    for m in methods:
        cells = [f"{np.mean(gaps[(m, u)]):+.2f}" if gaps.get((m, u)) else "-" for u in (False, True)]
        head.append(f"| {m} | " + " | ".join(cells) + " |")
    return "\n".join(head) + "\n\nTest accuracy, mean ± std over seeds:\n" + "\n".join(lines), gaps


def plot(runs, refs, methods, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = sorted({r["dataset"] for r in runs})
    fig, axes = plt.subplots(1, len(datasets), figsize=(5 * len(datasets), 4), squeeze=False)
    budgets = [100, 500]
    for ax, ds in zip(axes[0], datasets):
        for m in methods:
            means = [
                np.mean(
                    [
                        _acc(r)
                        for r in runs
                        if (r["dataset"], r["labels"], r["unlabeled"], r["method"]) == (ds, n, True, m)
                    ]
                    or [np.nan]
                )
                for n in budgets
            ]
            ax.plot(budgets, means, marker="o", label=m, linestyle="--" if m == "none" else "-")
        probe = [
            np.mean([r["teacher_probe"] for r in refs if r["dataset"] == ds and r["labels"] == n]) for n in budgets
        ]
        ax.plot(budgets, probe, color="black", linewidth=2, label="teacher probe")
        ax.set(title=f"{ds} (with unlabeled rows)", xlabel="labeled rows", ylabel="test accuracy", xscale="log")
        ax.set_xticks(budgets, [str(b) for b in budgets])
    axes[0][-1].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--methods", nargs="+", default=list(METHODS))
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--merge", action="store_true", help="replace only these methods' runs in the saved results")
    args = parser.parse_args()
    for ds in args.datasets:  # compute and cache teacher features before the workers start
        teacher_features(ds)
    jobs = [
        (ds, n, unl, None, m, s, METHODS[m])
        for ds in args.datasets
        for (n, unl, _) in SETTINGS
        for m in args.methods
        for s in range(args.seeds)
    ]
    jobs.sort(key=lambda j: j[1] == "all")  # long runs last so the workers stay balanced
    runs = Parallel(n_jobs=args.n_jobs, verbose=5)(delayed(one_run)(*j) for j in jobs)
    refs = [references(ds, n, s) for ds in args.datasets for n in (100, 500, "all") for s in range(args.seeds)]
    methods = args.methods
    if args.merge and (RESULTS / "methods.json").exists():
        saved = json.loads((RESULTS / "methods.json").read_text())
        runs = [r for r in saved["runs"] if r["method"] not in args.methods] + runs
        methods = [m for m in METHODS if any(r["method"] == m for r in runs)]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "methods.json").write_text(json.dumps({"runs": runs, "references": refs}, indent=1, default=str))
    table, _ = summarise(runs, refs, methods)
    title = f"# Transfer methods on real data: `python benchmarks/methods.py --seeds {args.seeds}`\n\n"
    (RESULTS / "methods.md").write_text(title + table + "\n")
    plot(runs, refs, methods, RESULTS / "methods.png")
    print(table)


if __name__ == "__main__":
    main()
