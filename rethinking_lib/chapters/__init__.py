"""One module per chapter (or per experiment of a chapter), in the book's order; each declares its experiments
(``EXPERIMENTS``) and the tables and sentences its page shows. The registry (``experiments``) is built from
``MODULES``: adding an experiment to a chapter module, or a module to this list, is all it takes to register it.
"""

from . import (
    ch01_pac,
    ch02_rademacher,
    ch03_stability,
    ch04_memorization,
    ch04_randomization,
    ch05_regularization,
    ch06_theorem1,
    ch07_double_descent,
    ch07_kernel,
    ch07_minnorm,
    ch08_bounds,
    ch09_ntk,
)

# The book's order: a chapter's experiments in the order its page runs them.
MODULES = (ch01_pac, ch02_rademacher, ch03_stability, ch04_randomization, ch04_memorization, ch05_regularization,
           ch06_theorem1, ch07_kernel, ch07_minnorm, ch07_double_descent, ch08_bounds,
           ch09_ntk)
