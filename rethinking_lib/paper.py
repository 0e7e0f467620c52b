"""Every number the paper reports, in one place (Zhang, Bengio, Hardt, Recht, Vinyals, ICLR 2017).

Chapters, tables and plots show these *as reported*, beside what this build measured; nothing here is ever
presented as a measurement. Values read off a figure (not printed in the paper) are marked approximate.
Published numbers of follow-up work that the book compares against live here too, under their source.
"""

from __future__ import annotations

# --- Table 1: parameter counts of the CIFAR-10 models (Section 2, Table 1) -----------------------------------
PARAM_COUNTS = {
    "inception_small": 1_649_402,
    "inception_small_nobn": 1_649_402,
    "alexnet_small": 1_387_786,
    "mlp_1x512": 1_209_866,
    "mlp_3x512": 1_735_178,
}

# --- Appendix A: the training setup on CIFAR-10 ------------------------------------------------------------
LR = {"inception_small": 0.1, "inception_small_nobn": 0.1, "alexnet_small": 0.01, "mlp_1x512": 0.01,
      "mlp_3x512": 0.01}  # initial learning rate; Appendix A gives 0.1 for Inception, 0.01 for AlexNet and MLPs
MOMENTUM = 0.9
LR_DECAY_PER_EPOCH = 0.95  # multiplied in after every epoch
CIFAR10_TRAIN = 50_000
# Not stated in the paper: OUR choice (the authors' later demo code, github.com/pluskid/fitting-random-labels, and
# the reproductions we know use 128; Figure 1a's step axis fits it). Kept here because the paper's per-epoch decay
# is converted to a per-step one with it (STEPS_PER_EPOCH); nothing the paper reports depends on it.
BATCH_SIZE = 128
STEPS_PER_EPOCH = -(-CIFAR10_TRAIN // BATCH_SIZE)  # 391
CROP = 28  # centre crop (random crop when augmenting), then per-image whitening

# --- Table 1: CIFAR-10 train / test accuracy, % ---------------------------------------------------------------
# (model, random crop, weight decay, labels, train %, test %)
TABLE1 = [
    ("inception_small", True, True, "true", 100.0, 89.05), ("inception_small", True, False, "true", 100.0, 89.31),
    ("inception_small", False, True, "true", 100.0, 86.03), ("inception_small", False, False, "true", 100.0, 85.75),
    ("inception_small", False, False, "random", 100.0, 9.78),
    ("inception_small_nobn", False, True, "true", 100.0, 83.00),
    ("inception_small_nobn", False, False, "true", 100.0, 82.00),
    ("inception_small_nobn", False, False, "random", 100.0, 10.12),
    ("alexnet_small", True, True, "true", 99.90, 81.22), ("alexnet_small", True, False, "true", 99.82, 79.66),
    ("alexnet_small", False, True, "true", 100.0, 77.36), ("alexnet_small", False, False, "true", 100.0, 76.07),
    ("alexnet_small", False, False, "random", 99.82, 9.86),
    ("mlp_3x512", False, True, "true", 100.0, 53.35), ("mlp_3x512", False, False, "true", 100.0, 52.39),
    ("mlp_3x512", False, False, "random", 100.0, 10.48),
    ("mlp_1x512", False, True, "true", 99.80, 50.39), ("mlp_1x512", False, False, "true", 100.0, 50.51),
    ("mlp_1x512", False, False, "random", 99.34, 10.61),
]
# Section 3's text (no numbers): with weight decay on, Inception and the MLPs still fit random labels, AlexNet
# fails to converge.
SECTION3_WEIGHT_DECAY_RANDOM = {"inception_small": "fits", "mlp_1x512": "fits", "mlp_3x512": "fits",
                                "alexnet_small": "fails to converge"}

# --- Table 2: ImageNet, Inception V3, top-1 / top-5 accuracy % ---------------------------------------------
TABLE2 = [
    {"aug": True, "dropout": True, "wd": True, "labels": "true", "top1_train": 92.18, "top5_train": 99.21,
     "top1_test": 77.84, "top5_test": 93.92},
    {"aug": True, "dropout": False, "wd": False, "labels": "true", "top1_train": 92.33, "top5_train": 99.17,
     "top1_test": 72.95, "top5_test": 90.43},
    {"aug": False, "dropout": False, "wd": True, "labels": "true", "top1_train": 90.60, "top5_train": 100.0,
     "top1_test": 67.18, "top5_test": 86.44, "best_top1_test": 72.57, "best_top5_test": 91.31},
    {"aug": False, "dropout": False, "wd": False, "labels": "true", "top1_train": 99.53, "top5_train": 100.0,
     "top1_test": 59.80, "top5_test": 80.38, "best_top1_test": 63.16, "best_top5_test": 84.49},
    {"aug": False, "dropout": True, "wd": True, "labels": "random", "top1_train": 91.18, "top5_train": 97.95,
     "top1_test": 0.09, "top5_test": 0.49},
    {"aug": False, "dropout": False, "wd": True, "labels": "random", "top1_train": 87.81, "top5_train": 96.15,
     "top1_test": 0.12, "top5_test": 0.50},
    {"aug": False, "dropout": False, "wd": False, "labels": "random", "top1_train": 95.20, "top5_train": 99.14,
     "top1_test": 0.11, "top5_test": 0.56},
]
ALEXNET_IMAGENET_TOP5_TEST = 83.6  # Krizhevsky et al. 2012, listed in Table 2 for reference

# --- Appendix E, Table 4: random labels with data augmentation or weight decay, training accuracy % -----------
# [P, unchecked] The paper's Appendix E (arXiv 1611.03530v2), entered from memory: no copy of the appendix was at
# hand to check the values against (a public reproduction, github alirezasakhaei/FoLIProject, names Table 4's
# settings but quotes no numbers).
# Chapter 5 says so beside them. "random_crop": a random 28x28 window; "flip_rotate": random left-right flip and
# rotation up to 25 degrees; "weight_decay": the coefficient is not stated. Small Inception with weight decay
# is in Section 3's text (it fits: SECTION3_WEIGHT_DECAY_RANDOM), not given a number here.
TABLE4 = [("inception_small", "random_crop", 99.93), ("inception_small", "flip_rotate", 99.28),
          ("alexnet_small", "weight_decay", "failed to converge"), ("mlp_3x512", "weight_decay", 100.0),
          ("mlp_1x512", "weight_decay", 99.21)]
TABLE4_MAX_ROTATION_DEGREES = 25

# --- Figure 1 (read off the figure: approximate) -------------------------------------------------------------
# 1a: steps (not thousands: the values are steps; the figure's axis is in thousands) until small Inception's
# average training loss is about zero, per condition.
FIG1A_STEPS_TO_ZERO_LOSS = {"true_labels": 4500, "shuffled_pixels": 6500, "gaussian": 8500,
                            "random_pixels": 8500, "random_labels": 14000}
FIG1A_RANDOM_LABEL_PLATEAU_UNTIL = 5000  # steps at ln 10 before the random-label loss starts to fall
# 1b: time to overfit at p = 1 relative to p = 0.
FIG1B_RATIO_AT_1 = {"inception_small": 3.6, "mlp_1x512": 2.0, "alexnet_small": 1.55}
# 1c: test error at p = 0 (all rise to chance, 0.9, by p ~ 0.8-1.0). How each was read: Figure 1c's p = 0 point
# is the no-regularizer true-label run of Table 1 (no crop, no weight decay), whose test accuracy the paper prints,
# so the figure is read against the table: Inception 1 - 85.75% = 0.1425, AlexNet 1 - 76.07% = 0.2393, MLP 1x512
# 1 - 50.51% = 0.4949 (computed from TABLE1 below, not read off the plot). An earlier reading of the plot by eye
# (0.13, 0.30, 0.50) disagreed with the table by up to 0.06 for AlexNet.
FIG1C_ERROR_AT_0 = {m: round(1 - acc / 100, 4) for m, crop, wd, labels, _, acc in TABLE1
                    if m in ("inception_small", "alexnet_small", "mlp_1x512") and not crop and not wd and labels == "true"}
CHANCE_ERROR = 0.9  # 10 classes

# --- Figure 2b (Section 3 text) -------------------------------------------------------------------------------
FIG2_BN_TEST_ACC_DIFFERENCE = (0.03, 0.04)  # "changes test accuracy by 3-4%"

# --- Section 5: implicit regularization, test error % -------------------------------------------------------
KERNEL_TEST_ERROR = {
    "mnist_gaussian_pixels": 1.2,        # exact interpolation, no preprocessing
    "mnist_gabor": 0.6,                  # after a Gabor wavelet transform
    "cifar10_gaussian_pixels": 46.0,
    "cifar10_random_features": 17.0,     # 32,000 random convolutional filters
    "cifar10_random_features_l2": 15.0,  # the same plus l2 regularization
}
KERNEL_NORM = {"mnist_pixels": 220.0, "mnist_gabor": 390.0}  # norm of the minimum-norm interpolant (approximate)
KERNEL_RANDOM_FILTERS = 32_000
MNIST_TRAIN = 60_000  # the MNIST kernel results use the full training set
# gamma of the Gaussian kernel exp(-gamma ||x - x'||^2) on pixels / 255: from the authors' public demo code
# (github.com/pluskid/fitting-random-labels), not stated in the paper.
KERNEL_GAMMA_DEMO = 0.02

# --- Dziugaite & Roy (2017), "Computing nonvacuous generalization bounds for deep (stochastic) neural networks
# with many more parameters than training data", Table 1: binary MNIST (55,000 training examples), SGD-trained
# fully connected nets; PAC-Bayes bound on the optimized stochastic classifier's 0-1 error. ---------------------
DZIUGAITE_ROY_2017 = {
    "n_train": 55_000,
    "hidden": 600,                          # their T-600 network: one hidden layer of 600 units
    "bound_true_labels_range": (0.16, 0.22),  # true labels, over their networks (T-600 ... T-1200^2)
    "bound_random_labels_above": 1.0,         # random labels: vacuous, above 1
    "delta": 0.025, "delta_samples": 0.01,    # confidence of the bound / of the Monte-Carlo estimate
    "prior_grid_b": 100, "prior_grid_c": 0.1,  # prior variance grid lambda_j = c exp(-j / b)
}
