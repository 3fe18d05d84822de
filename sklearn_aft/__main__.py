"""``python -m sklearn_aft demo``: see :mod:`sklearn_aft.cli`."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
