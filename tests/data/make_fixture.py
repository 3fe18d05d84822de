"""Build the real-data test fixtures: TREC questions and SST-5 sentences with all-MiniLM-L6-v2 features.

TREC: a fixed random subset of 2,000 training questions and the 500 test questions (6 coarse classes).
SST-5 (sentiment 0-4, the regression fixture): fixed random subsets of 1,500 training and 1,000 test
sentences. Each with texts, labels and 384-d MiniLM sentence embeddings stored as float16. Run from the
repository root with the benchmark extras installed: ``python tests/data/make_fixture.py``.
Source and license of the texts: ``benchmarks/data/README.md`` (TREC, Li & Roth 2002, research use).
"""

import gzip
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent.parent / "benchmarks"))

from _data import load_text_dataset, teacher_features  # noqa: E402

N_TRAIN = 2000
SST5_TRAIN, SST5_TEST = 1500, 1000


def sst5() -> None:
    data, feats = load_text_dataset("sst5"), teacher_features("sst5")
    rng = np.random.default_rng(0)
    idx = {
        "train": np.sort(rng.choice(len(data["train"][1]), SST5_TRAIN, replace=False)),
        "test": np.sort(rng.choice(len(data["test"][1]), SST5_TEST, replace=False)),
    }
    out = {s: {"texts": [data[s][0][i] for i in idx[s]], "labels": data[s][1][idx[s]].tolist()} for s in idx}
    with gzip.open(HERE / "sst5_texts.json.gz", "wt", encoding="utf-8") as fh:
        json.dump(out, fh)
    np.savez_compressed(HERE / "sst5_minilm.npz", **{s: feats[s][idx[s]].astype(np.float16) for s in idx})


def main() -> None:
    data, feats = load_text_dataset("trec"), teacher_features("trec")
    rng = np.random.default_rng(0)
    train_idx = np.sort(rng.choice(len(data["train"][1]), N_TRAIN, replace=False))
    out = {
        "train": {
            "texts": [data["train"][0][i] for i in train_idx],
            "labels": data["train"][1][train_idx].tolist(),
        },
        "test": {"texts": data["test"][0], "labels": data["test"][1].tolist()},
    }
    with gzip.open(HERE / "trec_texts.json.gz", "wt", encoding="utf-8") as fh:
        json.dump(out, fh)
    np.savez_compressed(
        HERE / "trec_minilm.npz",
        train=feats["train"][train_idx].astype(np.float16),
        test=feats["test"].astype(np.float16),
    )
    sst5()


if __name__ == "__main__":
    main()
