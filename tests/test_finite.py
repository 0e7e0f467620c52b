"""NaN and inf are refused up front by Theorem 1, the kernel solves, the NTK and the measures: one line naming
the argument and the rows, before any work (not a failed fit afterwards)."""

import re

import numpy as np
import pytest
import torch

from rethinking_lib.theory import finite, kernel_solver, measures, ntk, theorem1

N, D = 12, 5


def data(bad: str | None = None, rows=(3, 7)):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(N, D, generator=g, dtype=torch.float64)
    y = torch.randn(N, generator=g, dtype=torch.float64)
    for r, v in zip(rows, (float("nan"), float("inf")), strict=True):
        if bad == "X":
            X[r, 1] = v
        elif bad == "y":
            y[r] = v
    return X, y


def unit(X):
    return ntk.unit_rows(X.numpy())


BAD_ROWS = np.zeros((N, 1))
BAD_ROWS[3], BAD_ROWS[7] = np.nan, np.inf
NET = torch.nn.Sequential(torch.nn.Linear(D, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))

CALLS = {  # name -> (argument named in the error, call with that argument made non-finite)
    "theorem1.construct X": ("X", lambda: theorem1.construct(*data("X"))),
    "theorem1.construct y": ("y", lambda: theorem1.construct(data()[0], data("y")[1])),
    "theorem1.project X": ("X", lambda: theorem1.project(data("X")[0])),
    "kernel_solver.solve_kernel X": ("X", lambda: kernel_solver.solve_kernel(*data("X"))),
    "kernel_solver.solve_kernel Y": ("Y", lambda: kernel_solver.solve_kernel(data()[0], data("y")[1])),
    "kernel_solver.kernel_matrix A": ("A", lambda: kernel_solver.kernel_matrix(data("X")[0])),
    "kernel_solver.predict X_new": ("A", lambda: kernel_solver.predict(data()[0], data()[1], data("X")[0])),
    "kernel_solver.solve_gram K": ("K", lambda: kernel_solver.solve_gram(
        kernel_solver.kernel_matrix(data()[0]).index_fill(0, torch.tensor([3]), float("nan"))
        .index_fill(0, torch.tensor([7]), float("inf")), data()[1])),
    "kernel_solver.linear_least_squares Y": ("Y", lambda: kernel_solver.linear_least_squares(data()[0], data("y")[1])),
    "ntk.h_infinity x": ("x", lambda: ntk.h_infinity(data("X")[0].numpy())),
    "ntk.cholesky h": ("h", lambda: ntk.cholesky(ntk.h_infinity(unit(data()[0])) + BAD_ROWS)),
    "ntk.spectrum h": ("h", lambda: ntk.spectrum(np.eye(N) + BAD_ROWS)),
    "ntk.solve y": ("y", lambda: ntk.solve(ntk.h_infinity(unit(data()[0])), data("y")[1].numpy())),
    "measures.margins x": ("x", lambda: measures.margins(NET, data("X")[0].float(), torch.zeros(N, dtype=torch.long))),
    "measures.all_measures x": ("x", lambda: measures.all_measures(NET, data("X")[0].float(), torch.zeros(N, dtype=torch.long))),
}


@pytest.mark.parametrize("name", CALLS)
def test_non_finite_input_is_refused_naming_the_argument_and_rows(name):
    arg, call = CALLS[name]
    with pytest.raises(ValueError) as e:
        call()
    msg = str(e.value)
    assert "\n" not in msg
    assert re.match(rf"{arg} has NaN or inf in row\(s\) 3, 7 \(of {N}\)", msg), msg


def test_finite_passes_finite_and_integer_input_and_counts_many_rows():
    X = np.zeros((20, 3))
    assert finite.finite("X", X) is X
    assert finite.bad_rows(torch.arange(5)) == [] and finite.bad_rows(np.arange(5)) == []
    X[::2, 0] = np.nan
    with pytest.raises(ValueError, match=r"X has NaN or inf in row\(s\) 0, 2, 4, 6, 8 and 5 more \(of 20\)"):
        finite.finite("X", X)
    assert finite.bad_rows(torch.tensor(float("inf"))) == [0]
