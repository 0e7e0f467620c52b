"""Per-epoch measurements a run spec can ask for by name (``epoch_eval``), beyond the loop's own accuracies.

A spec names one (data, not a closure, so the run stays a JSON spec with a stable key); ``runs.train_spec``
builds it for the run's dataset and ``train.fit`` adds what it returns to every epoch's record.

    clean_noisy   training accuracy (against the labels trained on) on the clean and on the corrupted
                  training examples separately: ``clean_train_acc`` and ``noisy_train_acc`` (Arpit et al.
                  2017's memorization order, chapter 4). A corrupted example is one whose label differs from
                  the clean one (``meta["y_train_clean"]``); a replacement that drew the true class is clean.
"""

from __future__ import annotations

import torch

from .data import Dataset, center_crop, whiten


def clean_noisy(data: Dataset, batch_size: int = 4096):
    """``evaluate(model)`` -> {"clean_train_acc", "noisy_train_acc"} on ``data``'s training set (fp32, eval mode)."""
    x = whiten(center_crop(data.x_train, data.crop))
    noisy = data.y_train != data.meta.get("y_train_clean", data.y_train)

    @torch.no_grad()
    def evaluate(model) -> dict:
        was_training = model.training
        model.eval()
        right = torch.cat([model(x[i:i + batch_size]).argmax(1) for i in range(0, len(x), batch_size)]) == data.y_train
        model.train(was_training)
        return {"clean_train_acc": float(right[~noisy].float().mean()),
                "noisy_train_acc": float(right[noisy].float().mean())}

    return evaluate


EPOCH_EVALS = {"clean_noisy": clean_noisy}


def build(name: str, data: Dataset):
    """The evaluation ``name`` for ``data`` (``EPOCH_EVALS``)."""
    if name not in EPOCH_EVALS:
        raise ValueError(f"unknown epoch_eval {name!r}: choose one of {', '.join(EPOCH_EVALS)}")
    return EPOCH_EVALS[name](data)
