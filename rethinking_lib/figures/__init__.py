"""Every figure of the book, drawn in one style; one module per chapter, mirroring ``chapters/``.

    style                the one style: colours, display names, figure / finish / caption, image grids, the
                         paper's values as hollow markers, sliders
    chNN_<topic>         the figures of the chapter module of the same name in ``chapters/``

Every public function of those modules is also reachable as ``figures.<name>`` (a notebook imports
``from rethinking_lib import figures as plots``); the names come from the modules themselves, so there is no
list to keep, and a test checks that no two modules define the same name.
"""

from __future__ import annotations

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
    style,
)

MODULES = (style, ch01_pac, ch02_rademacher, ch03_stability, ch04_randomization, ch04_memorization,
           ch05_regularization, ch06_theorem1, ch07_kernel, ch07_minnorm, ch07_double_descent, ch08_bounds,
           ch09_ntk)


def public_names(module) -> list[str]:
    """The figure functions (and, for ``style``, the style's names) a module offers: defined there, no underscore."""
    return [n for n, v in vars(module).items() if not n.startswith("_") and getattr(v, "__module__", None) == module.__name__
            or (module is style and n.isupper())]


def __getattr__(name: str):
    for module in MODULES:
        if name in public_names(module):
            return getattr(module, name)
    raise AttributeError(f"rethinking_lib.figures has no figure {name!r}")


def __dir__() -> list[str]:
    return sorted({n for m in MODULES for n in public_names(m)} | set(globals()))
