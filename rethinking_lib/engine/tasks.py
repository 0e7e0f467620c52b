"""The labels a run trains on: the dataset's own classes, or a binary task made from them.

A run spec's ``task`` (``runs.OPTIONS``) picks one; it is applied to the loaded data before any corruption
(``corrupt.apply`` then corrupts the task's labels, e.g. random labels of the binary task).

    classes      the dataset's labels unchanged (every run of Sections 2-3).
    digit_ge_5   Dziugaite & Roy's binary MNIST: 1 for digits 5-9, 0 for 0-4, train and test (chapter 8's
                 bounds; chapter 2's Rademacher bound on a real task).
    signs        one Rademacher sign vector sigma as the training labels (class 1 where sigma_i = +1): draw
                 ``draw`` of ``signs(n, draws, seed)``, with n the number of training examples, so a network
                 fitted to it measures sup_h (1/n) sum_i sigma_i h(x_i) (chapter 2). Such a fit has no test
                 task: the test labels are a placeholder (the digit's parity) that nothing reads.
"""

from __future__ import annotations

from dataclasses import replace

import torch

from .data import Dataset

TASKS = ("classes", "digit_ge_5", "signs")


def signs(n: int, draws: int, seed: int = 0) -> torch.Tensor:
    """``draws`` independent Rademacher vectors of length ``n`` (float, entries +-1), from a seeded generator."""
    if n < 1 or draws < 1:
        raise ValueError(f"n={n} and draws={draws} must be positive integers")
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 2, (draws, n), generator=g).double() * 2 - 1


def apply(data: Dataset, task: str, *, signs_of: dict | None = None) -> Dataset:
    """``data`` with the labels of ``task``; ``signs_of`` = {"seed", "draws", "draw"} names the sign vector of
    ``task="signs"``. ``classes`` returns ``data`` itself."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}: choose one of {', '.join(TASKS)}")
    if (task == "signs") != (signs_of is not None):
        raise ValueError("task 'signs' needs signs={'seed': ..., 'draws': ..., 'draw': ...}, and only it takes signs=")
    if task == "classes":
        return data
    if task == "digit_ge_5":
        return replace(data, y_train=(data.y_train >= 5).long(), y_test=(data.y_test >= 5).long(), num_classes=2,
                       classes=["0-4", "5-9"])
    n = len(data.y_train)
    if not 0 <= signs_of["draw"] < signs_of["draws"]:
        raise ValueError(f"draw={signs_of['draw']} is not one of the {signs_of['draws']} draws: pass 0..draws-1")
    sigma = signs(n, signs_of["draws"], seed=signs_of["seed"])[signs_of["draw"]]
    return replace(data, y_train=((sigma.to(data.device) + 1) / 2).long(), y_test=data.y_test % 2, num_classes=2,
                   classes=["-1", "+1"])
