"""rethinking_lib: the code behind the executable book on Zhang et al., "Understanding deep learning
requires rethinking generalization" (ICLR 2017).

Modules, one concept each (import them directly; importing the package itself loads nothing heavy):

Data, models, training
    data                 datasets as device tensors, the paper's crop + per-image whitening
    corrupt              the six randomization conditions of Section 2
    models               the paper's architectures with Table 1's exact parameter counts; their display names
    train                the SGD training loop of Appendix A, fast on GPUs, resumable
    runs                 one training run as data: a spec in, a stored record out
    sweep                grids of runs (models x corruption levels, Table 1's rows), run one at a time or all
    devices              device choice, its name, GPU timing and peak memory
    bench                how fast the training engine is, against a standard PyTorch input pipeline

Experiments and results
    experiments          the registry behind ``python -m rethinking_lib run EXPERIMENT``
    profiles             the ``quick`` (CPU, offline), ``gpu`` (one small GPU) and ``paper`` profiles
    settings             every training setting written once for the paper, the gpu / quick deltas, the appendix page
    plan                 per chapter: its runs, which are stored, the estimated time on this device
    costs                cost models of the experiments that do their own computation (for ``plan``)
    checks               one-line checks of an experiment's settings
    results              the JSON results store with provenance (incl. the code version), ``load_or_run``
    store_cli            ``results pack`` / ``results unpack``: move a results store between machines
    paper                every number the paper reports, in one place
    __main__             the command line

One module per topic of the book
    pac                  chapter 1: empirical vs held-out error, finite-class and VC bounds
    rademacher           chapter 2: Monte Carlo estimates of the empirical Rademacher complexity
    stability            chapter 3: uniform stability of SGD, measured
    randomization        chapter 4: the randomization tests (Figures 1a, 1b, 1c)
    regularization       chapter 5: explicit regularization (Tables 1 and 2, Figure 2b)
    theorem1             chapter 6: Theorem 1's two-layer network built from data, checked, and its numerics
    implicit             chapter 7: SGD on a linear model converges to the minimum-norm solution
    kernels              chapter 7: the exact kernel-interpolation experiment and its tables / sentences
    kernel_solver        the memory-bounded exact kernel solver (chunked K, Cholesky, refinement), norms
    kernel_features      Gabor filter bank and random convolutional features (as Gram matrices)
    double_descent       chapter 7: test error of min-norm random-features regression through the threshold
    memorization         chapter 4: clean examples are fitted before the corrupted ones (Arpit et al.)
    pac_bayes            chapter 8: kl inverse, PAC-Bayes bounds, the Dziugaite-Roy posterior optimization
    measures             chapter 8: spectral margin, Frobenius and path norms, sharpness, rank correlation
    bounds               chapter 8: the ``bounds`` experiment (true, partial and random labels)
    claims               the conclusion: every claim of the paper beside this build's measurement

Display
    notebook             what every chapter notebook calls: set up, tables, markdown
    plots                every figure as ``plots.<name>`` (re-exported from the modules below)
    plots_style          the one style: colours, display names, figure / finish / caption, image grids
    plots_bounds         chapters 1-3's figures
    plots_randomization  chapters 4-5's figures and the corruption widget
    plots_expressivity   chapter 6's figures
    plots_implicit       chapter 7's figures
    plots_beyond         chapter 8's figures
"""

__version__ = "0.1.0"
