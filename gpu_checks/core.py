"""GPU check of the core engine: mixed-precision training on CUDA shows the same phenomena.

Run on a CUDA machine from the repo root: ``python gpu_checks/core.py``. Prints one line per run and
exits non-zero if a phenomenon fails: MLP 1x512 on mnist5k memorizes true and random labels (100% train)
with test accuracy >= 0.85 for true labels and <= 0.2 for random, in bf16 and in fp16 (+ GradScaler);
small Inception memorizes 5,000 CIFAR-shaped Gaussian images with random labels in bf16.
"""

import sys
import time

import torch

from rethinking_lib.engine import corrupt, data, models, runs, train

assert torch.cuda.is_available(), "needs a CUDA GPU"
print("device:", torch.cuda.get_device_name(0), "torch", torch.__version__)
ok = True
mnist = data.load("mnist5k", device="cuda")
for precision in ("bf16", "fp16"):
    for cond in ("true_labels", "random_labels"):
        d = corrupt.apply(mnist, cond, seed=0)
        torch.manual_seed(0)
        m = models.build("mlp_1x512", in_channels=1, image_size=d.image_size)
        t = time.perf_counter()
        h = train.fit(m, d, train.TrainConfig(lr=0.01, lr_decay=runs.paper_lr_decay(4000), epochs=200,
                                              stop_at_100=True, precision=precision), progress=False)
        good = h["train_acc"] == 1.0 and (h["test_acc"] >= 0.85 if cond == "true_labels" else h["test_acc"] <= 0.2)
        ok &= good
        print(f"mlp_1x512 mnist5k {cond:14s} {h['precision']}: epochs_to_100={h['epochs_to_100']} "
              f"train={h['train_acc']:.4f} test={h['test_acc']:.4f} {time.perf_counter() - t:.1f}s {'OK' if good else 'FAIL'}")

g = data.load("gaussian", device="cuda", n_train=5000, n_test=1000)
torch.manual_seed(0)
m = models.build("inception_small")
t = time.perf_counter()
h = train.fit(m, g, train.TrainConfig(lr=0.1, epochs=60, stop_at_100=True, precision="bf16"), progress=False)
good = h["train_acc"] == 1.0 and h["test_acc"] < 0.2
ok &= good
print(f"inception_small gaussian-5k random labels bf16: epochs_to_100={h['epochs_to_100']} train={h['train_acc']:.4f} "
      f"test={h['test_acc']:.4f} {time.perf_counter() - t:.1f}s {'OK' if good else 'FAIL'}")
sys.exit(0 if ok else 1)
