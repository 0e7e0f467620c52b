"""rethinking_lib: the code behind the executable book on Zhang et al., "Understanding deep learning
requires rethinking generalization" (ICLR 2017).

Modules, one concept each (import them directly; importing the package itself loads nothing heavy):
    data         datasets as device tensors, the paper's crop + per-image whitening
    corrupt      the six randomization conditions of Section 2
    models       the paper's architectures with Table 1's exact parameter counts
    train        the SGD training loop of Appendix A, fast on GPUs, resumable
    results      the JSON results store with provenance, ``load_or_run``
    profiles     the ``quick`` (CPU, offline) and ``paper`` (GPU, CIFAR-10) profiles
    experiments  the registry behind ``python -m rethinking_lib run EXPERIMENT``
    plots        one plotting style for every figure of the book
"""

__version__ = "0.1.0"
