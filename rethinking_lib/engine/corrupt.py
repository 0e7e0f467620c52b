"""The randomization tests of Section 2: six ways to destroy the relation between images and labels.

``apply(data, condition, p=..., seed=...)`` returns a new :class:`~rethinking_lib.engine.data.Dataset`; the
randomness is drawn once, from its own seeded CPU generator (so CPU and GPU runs corrupt identically),
and then stays fixed for every epoch, as in the paper.

    true_labels      the data unchanged.
    partial_labels   each training label, independently with probability p, is replaced by a uniformly
                     random class; it may land on the true class, so about 0.9 p of the labels end up wrong.
    random_labels    partial_labels with p = 1.
    shuffled_pixels  one random permutation of the pixel positions, the same for every image, train and test.
    random_pixels    an independent random permutation of pixel positions for each image.
    gaussian         every image replaced by Gaussian noise with the training set's per-channel mean and std.

A pixel is a spatial position: its channels move together. When the dataset has a ``crop`` (the paper's
28x28 centre crop of CIFAR's 32x32), the pixel conditions permute the positions *inside the centre crop*
and leave the border alone, so the network sees a permutation of exactly the pixels it would otherwise see
(with random-crop augmentation a shifted window also sees a few border pixels). Test labels stay clean unless
``corrupt_test=True`` (the authors' demo corrupts them too; we keep the test set a measurement of how
well the true function was learned). Pixel conditions change test images as well, since otherwise the
test set would measure something else entirely.
"""

from __future__ import annotations

from dataclasses import replace

import torch

from .data import Dataset

CONDITIONS = ("true_labels", "partial_labels", "random_labels", "shuffled_pixels", "random_pixels", "gaussian")
LABELS = {  # display names (tables and figures)
    "true_labels": "true labels", "random_labels": "random labels", "shuffled_pixels": "shuffled pixels",
    "random_pixels": "random pixels", "gaussian": "Gaussian", "partial_labels": "partially corrupted labels",
    "linear": "linear",
}


def apply(data: Dataset, condition: str, *, p: float | None = None, seed: int = 0,
          corrupt_test: bool = False) -> Dataset:
    """Return ``data`` under randomization ``condition`` (see module docstring)."""
    if condition not in CONDITIONS:
        raise ValueError(f"unknown condition {condition!r}: choose one of {', '.join(CONDITIONS)}")
    if condition == "partial_labels":
        if p is None:
            raise ValueError("condition 'partial_labels' needs p=, the corruption probability in [0, 1]")
    elif p is not None and condition != "random_labels":
        raise ValueError(f"p={p} only applies to 'partial_labels' (and 'random_labels', where it must be 1)")
    if condition == "random_labels":
        if p not in (None, 1, 1.0):
            raise ValueError(f"p={p} contradicts 'random_labels' (p = 1); use 'partial_labels' for p < 1")
        p = 1.0
    if p is not None and not (isinstance(p, (int, float)) and 0.0 <= p <= 1.0):
        raise ValueError(f"p={p!r} is outside [0, 1]: pass a probability such as p=0.5")

    g = torch.Generator().manual_seed(seed)
    meta = dict(data.meta, condition=condition, p=p, corruption_seed=seed, corrupt_test=corrupt_test)
    meta.setdefault("y_train_clean", data.y_train)
    out = replace(data, meta=meta)

    if condition in ("partial_labels", "random_labels"):
        out.y_train = _corrupt_labels(data.y_train, p, data.num_classes, g)
        if corrupt_test:
            out.y_test = _corrupt_labels(data.y_test, p, data.num_classes, g)
        meta["fraction_changed"] = float((out.y_train != data.y_train).float().mean())
    elif condition == "shuffled_pixels":
        win = _window(data)
        n_pix = win[1] * win[1]
        perm = torch.randperm(n_pix, generator=g).to(data.device)
        out.x_train = _in_window(data.x_train, win, lambda x: _permute_pixels(x, perm))
        out.x_test = _in_window(data.x_test, win, lambda x: _permute_pixels(x, perm))
    elif condition == "random_pixels":
        win = _window(data)
        out.x_train = _in_window(data.x_train, win, lambda x: _permute_pixels(x, _perms(len(x), x, g)))
        out.x_test = _in_window(data.x_test, win, lambda x: _permute_pixels(x, _perms(len(x), x, g)))
    elif condition == "gaussian":
        # per-channel statistics of the training images, as "matching mean and variance" asks
        mean = data.x_train.mean(dim=(0, 2, 3), keepdim=True).cpu()
        std = data.x_train.std(dim=(0, 2, 3), keepdim=True).cpu()
        out.x_train = (torch.randn(data.x_train.shape, generator=g) * std + mean).to(data.device)
        out.x_test = (torch.randn(data.x_test.shape, generator=g) * std + mean).to(data.device)
    return out


def condition_for(p: float) -> dict:
    """The condition of label-corruption level ``p`` as ``apply``'s (and a run spec's) ``condition`` and ``p``.

    p = 0 is the unmodified data (``true_labels``) and p = 1 is ``random_labels``; anything between is
    ``partial_labels`` at that p (Figure 1b/1c's levels, the bounds chapter's, Table 1's random-label rows).
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p={p!r} is outside [0, 1]: pass corruption levels such as ps=[0, 0.5, 1]")
    if p == 0:
        return {"condition": "true_labels", "p": None}
    if p == 1:
        return {"condition": "random_labels", "p": None}
    return {"condition": "partial_labels", "p": float(p)}


def _window(data: Dataset) -> tuple[int, int]:
    """(offset, side) of the centre crop the network sees; the whole image without a crop."""
    h = data.x_train.shape[-1]
    side = data.crop or h
    return (h - side) // 2, side


def _in_window(x: torch.Tensor, win: tuple[int, int], fn) -> torch.Tensor:
    """``x`` with ``fn`` applied to its centre window only (the border is copied unchanged)."""
    top, side = win
    if side == x.shape[-1]:
        return fn(x)
    out = x.clone()
    out[..., top:top + side, top:top + side] = fn(x[..., top:top + side, top:top + side].contiguous())
    return out


def _corrupt_labels(y: torch.Tensor, p: float, num_classes: int, g: torch.Generator) -> torch.Tensor:
    # Draw both the coin flips and the replacement labels for every example, so the labels chosen for
    # p = 0.4 are a superset of those for p = 0.2 under the same seed (nested corruption levels).
    u = torch.rand(len(y), generator=g)
    new = torch.randint(0, num_classes, (len(y),), generator=g)
    mask = (u < p).to(y.device)
    return torch.where(mask, new.to(y.device), y)


def _perms(n: int, like: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    n_pix = like.shape[-2] * like.shape[-1]
    return torch.rand(n, n_pix, generator=g).argsort(dim=1).to(like.device)


def _permute_pixels(x: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
    """Permute spatial positions: ``perm`` is (H*W,) for all images or (N, H*W) for one per image."""
    n, c, h, w = x.shape
    flat = x.reshape(n, c, h * w)
    if perm.ndim == 1:
        return flat[:, :, perm].reshape(n, c, h, w)
    idx = perm[:, None, :].expand(n, c, h * w)
    return flat.gather(2, idx).reshape(n, c, h, w)
