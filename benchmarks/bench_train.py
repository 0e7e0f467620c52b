"""The training-engine benchmark as a script: the same as ``python -m rethinking_lib bench``.

    python benchmarks/bench_train.py                 # full: five models at batch 128 + time to memorize
    python benchmarks/bench_train.py --quick         # CPU-sized, about a minute on an idle machine
    python benchmarks/bench_train.py --models inception_small --steps 200 --json --out bench.json
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable from a checkout without installing

from rethinking_lib.__main__ import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
