"""Feature maps for the kernel experiments of Section 5: a fixed Gabor filter bank (the paper's "wavelet"
preprocessing for MNIST) and random convolutional features (its 32,000 random filters on CIFAR-10), the
latter as Gram matrices accumulated over chunks of filters so the full feature matrix is never stored.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def gabor_bank(size: int = 9, wavelengths=(3.0, 6.0), orientations: int = 4) -> torch.Tensor:
    """Even (cos) and odd (sin) Gabor filters, zero-mean and unit-norm: (2 * len(wavelengths) * orientations, 1, size, size)."""
    r = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    yy, xx = torch.meshgrid(r, r, indexing="ij")
    filters = []
    for lam in wavelengths:
        sigma = 0.56 * lam  # about one octave of bandwidth
        env = torch.exp(-(xx ** 2 + yy ** 2) / (2 * sigma ** 2))
        for k in range(orientations):
            th = math.pi * k / orientations
            u = xx * math.cos(th) + yy * math.sin(th)
            for wave in (torch.cos(2 * math.pi * u / lam), torch.sin(2 * math.pi * u / lam)):
                f = env * wave
                f = f - env * (f.sum() / env.sum())  # remove the DC response so flat regions give 0
                filters.append(f / f.norm())
    return torch.stack(filters)[:, None].float()


def gabor_features(x: torch.Tensor, bank: torch.Tensor | None = None, pool: int = 2, chunk: int = 1000) -> torch.Tensor:
    """|Gabor response| (modulus of each even/odd pair) average-pooled by ``pool``, flattened; images (N, 1, H, W)."""
    if x.ndim != 4 or x.shape[1] != 1:
        raise ValueError(f"gabor_features needs grey images (N, 1, H, W), got shape {tuple(x.shape)}")
    bank = (gabor_bank() if bank is None else bank).to(x.device)
    pad = bank.shape[-1] // 2
    out = []
    for xb in x.split(chunk):
        resp = F.conv2d(xb.float(), bank, padding=pad)
        mod = (resp[:, 0::2] ** 2 + resp[:, 1::2] ** 2).sqrt()  # phase-invariant energy
        out.append(F.avg_pool2d(mod, pool).flatten(1))
    return torch.cat(out)


def random_conv_gram(x_train: torch.Tensor, x_test: torch.Tensor, *, num_filters: int = 512, size: int = 5,
                     pool_cells: int = 3, stride: int = 1, seed: int = 0, filter_chunk: int = 256, image_chunk: int = 500,
                     dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Random convolutional features phi(x) = avg_pool(relu(conv(whitened x, W) + b)) with W, b Gaussian, as Gram matrices.

    Returns (K_train (n, n), K_test (m, n), feature dimension). The features are never stored whole: for each
    chunk of ``filter_chunk`` filters the features of all images are computed and their Gram added in, so
    32,000 filters on 50,000 CIFAR-10 images need only the two Gram matrices.
    """
    from ..engine import data

    g = torch.Generator().manual_seed(seed)
    dev = x_train.device
    c = x_train.shape[1]
    K = torch.zeros(len(x_train), len(x_train), dtype=dtype, device=dev)
    Kt = torch.zeros(len(x_test), len(x_train), dtype=dtype, device=dev)
    dim = 0
    xs = [data.whiten(x.float()) for x in (x_train, x_test)]
    for f0 in range(0, num_filters, filter_chunk):
        nf = min(filter_chunk, num_filters - f0)
        W = torch.randn(nf, c, size, size, generator=g).to(dev) / math.sqrt(c * size * size)
        b = torch.randn(nf, generator=g).to(dev) * 0.5
        feats = []
        for x in xs:
            feats.append(torch.cat([
                F.adaptive_avg_pool2d(F.relu(F.conv2d(xb, W, b, stride=stride)), pool_cells).flatten(1)
                for xb in x.split(image_chunk)]).to(dtype) / math.sqrt(num_filters))
        K += feats[0] @ feats[0].T
        Kt += feats[1] @ feats[0].T
        dim += feats[0].shape[1]
    return K, Kt, dim
