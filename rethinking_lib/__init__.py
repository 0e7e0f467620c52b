"""rethinking_lib: the code behind the executable book on Zhang et al., "Understanding deep learning
requires rethinking generalization" (ICLR 2017).

Its folders show its layers. Bottom up: paper | engine, store | config, theory, figures | chapters | experiments |
pages, planning | __main__; a module imports only from its own layer or below (tests/test_imports.py holds the
line; docs/MAINTAINING.md says where each kind of code goes). Importing the package loads nothing heavy.

    paper.py         the paper's reported numbers, nothing else
    engine/          datasets, corruptions, models, the training loop, devices; runs: the one way anything trains
    store/           the results store (results), a run's final weights, which code produced a run (provenance),
                     pack / unpack
    config/          the Experiment declaration (paper config + deltas with reasons), training settings, profiles,
                     setting checks, the vocabularies of cost models and of the conclusion's claims
    theory/          pure math: PAC-Bayes, complexity measures, the kernel solver and features, Theorem 1
    figures/         every figure, one module per chapter module (chNN_topic), in one style (style)
    chapters/        one module per chapter topic, declaring its page (CHAPTER), EXPERIMENTS and claims; MODULES
                     lists them in the book's order
    experiments.py   the registry, derived from the chapter modules: names, get, run
    pages/           what the notebooks call, the appendix page, the conclusion's claims table
    planning/        what each chapter runs and how long it will take (plan), sweeps of runs, the engine benchmark
    __main__.py      the command line (``python -m rethinking_lib``)

``rethinking_lib.models``, ``rethinking_lib.data`` and ``rethinking_lib.corrupt`` (the names the design promises,
e.g. ``rethinking_lib.models.build``) are the engine's modules under their old names: either import form works
(``import rethinking_lib.models``, ``from rethinking_lib import models``) and gives the module object of
``rethinking_lib.engine.models``. Code inside the project imports the engine's names (a test checks).
"""

import importlib
import importlib.util
import sys

__version__ = "0.1.0"

# old name -> the engine module it is; nothing is imported until the old name is
ALIASES = {f"{__name__}.{name}": f"{__name__}.engine.{name}" for name in ("models", "data", "corrupt")}


class AliasFinder:
    """Finds ``rethinking_lib.models`` (etc.) by importing the engine module and handing back that same object.

    A finder on ``sys.meta_path`` (not a module-level ``__getattr__``), because ``import rethinking_lib.models``
    looks for a submodule and never asks the package for an attribute. It loads by name from ``ALIASES``, so the
    engine (and torch) is imported only when an old name is.
    """

    def find_spec(self, fullname, path=None, target=None):
        return importlib.util.spec_from_loader(fullname, self) if fullname in ALIASES else None

    def create_module(self, spec):
        module = importlib.import_module(ALIASES[spec.name])  # the engine module itself, already executed
        spec.loader_state = module.__spec__  # the import system sets ``__spec__`` to the alias's spec next ...
        return module

    def exec_module(self, module):
        module.__spec__ = module.__spec__.loader_state  # ... so give the engine module its own back


if not any(type(f).__name__ == AliasFinder.__name__ and type(f).__module__ == __name__ for f in sys.meta_path):
    sys.meta_path.append(AliasFinder())  # once, even if the package is reloaded
