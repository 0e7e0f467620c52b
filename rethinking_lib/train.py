"""The training loop of Appendix A: SGD, momentum 0.9, learning rate x0.95 after every epoch.

Why it is fast: the dataset is already a tensor on the training device (see ``data.py``), so a batch is
one index into a permutation; the crop and whitening run on the device; per-step losses are written
into a device buffer and read once per epoch (no ``.item()`` host sync in the step); the whole-train-set
accuracy pass runs in large no-grad batches under the same autocast. Mixed precision on CUDA is bf16
where the GPU supports it and fp16 with a gradient scaler otherwise (e.g. a Colab T4); the CPU runs fp32.
The same code path runs on the CPU.

Recorded: the loss of every step (Figure 1a's x-axis is steps) and, per epoch, the accuracy on the whole
training set (against the labels it was trained on), test accuracy, learning rate and wall time.
``stop_at_100=True`` ends training at the first epoch with 100% training accuracy (our reading of
Figure 1b's "time to overfit", which the paper does not define); ``epochs`` caps it either way.

Long runs write a checkpoint after every epoch (atomically) and resume from it with identical results:
all randomness after the model's initialisation comes from one generator whose state is checkpointed.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from .data import Dataset, center_crop, preprocess, whiten


@dataclass
class TrainConfig:
    """Hyper-parameters of one training run; the defaults are the paper's (Appendix A) for AlexNet / MLPs."""

    lr: float = 0.01            # 0.1 for Inception, 0.01 for AlexNet and the MLPs
    momentum: float = 0.9
    lr_decay: float = 0.95      # multiplied in after every epoch
    weight_decay: float = 0.0   # off in the randomization tests; Table 1 "yes" rows use 5e-4 (our choice)
    batch_size: int = 128
    epochs: int = 100           # cap on epochs
    stop_at_100: bool = False   # stop at the first epoch with 100% training accuracy
    augment: bool = False       # random crop instead of centre crop
    precision: str = "auto"     # auto | fp32 | bf16 | fp16
    channels_last: bool = False
    compile: bool = False       # torch.compile the model (pays off on GPUs for long runs)
    seed: int = 0               # batch order and crops; the model's init is seeded by the caller
    eval_batch_size: int = 2048

    def __post_init__(self):
        checks = [("lr", self.lr > 0, "a positive learning rate such as 0.01"),
                  ("batch_size", isinstance(self.batch_size, int) and self.batch_size >= 1, "a positive integer such as 128"),
                  ("epochs", isinstance(self.epochs, int) and self.epochs >= 1, "a positive integer"),
                  ("momentum", 0 <= self.momentum < 1, "a value in [0, 1)"),
                  ("lr_decay", 0 < self.lr_decay <= 1, "a value in (0, 1]"),
                  ("weight_decay", self.weight_decay >= 0, "a non-negative value such as 5e-4"),
                  ("precision", self.precision in ("auto", "fp32", "bf16", "fp16"), "one of auto, fp32, bf16, fp16")]
        for name, ok, want in checks:
            if not ok:
                raise ValueError(f"{name}={getattr(self, name)!r} is invalid: pass {want}")


def resolve_precision(precision: str, device: torch.device) -> str:
    """auto -> bf16 on GPUs that support it, fp16 (with a gradient scaler) on older GPUs, fp32 on CPU."""
    if precision != "auto":
        if precision != "fp32" and device.type != "cuda":
            return "fp32"  # autocast on CPU is slower than fp32 for these nets
        return precision
    if device.type != "cuda":
        return "fp32"
    return "bf16" if torch.cuda.is_bf16_supported() else "fp16"


def progress_enabled(progress: bool | None) -> bool:
    """Progress bars unless asked not to, or ``RETHINKING_PROGRESS=0`` (the book build sets it)."""
    if progress is not None:
        return progress
    return os.environ.get("RETHINKING_PROGRESS", "1") != "0"


def fit(model: nn.Module, data: Dataset, cfg: TrainConfig = TrainConfig(), *, checkpoint: str | os.PathLike | None = None,
        progress: bool | None = None, desc: str = "train") -> dict:
    """Train ``model`` on ``data`` (already on the target device) with ``cfg``; return the history.

    If ``checkpoint`` is given, the state after each epoch is written there and a run that finds a
    checkpoint resumes from it. The history holds ``step_loss`` (every step), ``epochs`` (one dict per
    epoch), ``epochs_to_100`` / ``steps_to_100`` (first time at 100% training accuracy, else None),
    ``train_acc``, ``test_acc``, ``steps``, ``wall_time`` and the precision used.
    """
    device = data.device
    model = model.to(device)
    precision = resolve_precision(cfg.precision, device)
    amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    if cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    else:
        torch.set_flush_denormal(True)  # 4x faster on some CPUs once weights get tiny, same results
    step_model = torch.compile(model) if cfg.compile else model

    decay, no_decay = _split_decay(model)
    opt = torch.optim.SGD([{"params": decay, "weight_decay": cfg.weight_decay},
                           {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, momentum=cfg.momentum)
    scaler = torch.amp.GradScaler("cuda") if precision == "fp16" else None
    gen = torch.Generator(device=device).manual_seed(cfg.seed)

    # Inputs the model sees when evaluating: centre-cropped and whitened once, not every epoch.
    x_train_eval = whiten(center_crop(data.x_train, data.crop))
    x_test_eval = whiten(center_crop(data.x_test, data.crop))
    x_train_fixed = None if (cfg.augment and data.crop) else x_train_eval
    n = len(data.y_train)
    steps_per_epoch = math.ceil(n / cfg.batch_size)

    hist = {"step_loss": [], "epochs": [], "epochs_to_100": None, "steps_to_100": None,
            "precision": precision, "device": _device_name(device), "config": asdict(cfg)}
    start_epoch, elapsed = 0, 0.0
    ckpt = Path(checkpoint) if checkpoint else None
    if ckpt and ckpt.exists():
        state = torch.load(ckpt, map_location=device, weights_only=False)
        if state["config"] != asdict(cfg):
            raise ValueError(f"checkpoint {ckpt} was written with another config; delete it or pass another checkpoint=")
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        gen.set_state(state["gen"].cpu() if device.type != "cuda" else state["gen"].cpu())
        if scaler and state.get("scaler"):
            scaler.load_state_dict(state["scaler"])
        hist, start_epoch, elapsed = state["hist"], state["epoch"], state["elapsed"]

    bar = _bar(cfg.epochs, start_epoch, desc, progress)
    losses = torch.empty(steps_per_epoch, device=device)
    t0 = time.perf_counter() - elapsed
    for epoch in range(start_epoch, cfg.epochs):
        if hist["epochs_to_100"] is not None and cfg.stop_at_100:
            break
        lr = cfg.lr * cfg.lr_decay ** epoch
        for group in opt.param_groups:
            group["lr"] = lr
        model.train()
        perm = torch.randperm(n, device=device, generator=gen)
        for i in range(steps_per_epoch):
            idx = perm[i * cfg.batch_size:(i + 1) * cfg.batch_size]
            if x_train_fixed is not None:
                xb = x_train_fixed[idx]
            else:
                xb = preprocess(data.x_train[idx], data.crop, augment=True, generator=gen)
            if cfg.channels_last:
                xb = xb.contiguous(memory_format=torch.channels_last)
            with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
                loss = nn.functional.cross_entropy(step_model(xb), data.y_train[idx])
            opt.zero_grad(set_to_none=True)
            if scaler:
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
            else:
                loss.backward()
                opt.step()
            losses[i] = loss.detach()  # stays on the device: no host sync inside the step
        epoch_losses = losses.tolist()
        if not all(math.isfinite(v) for v in epoch_losses):
            bad = next(j for j, v in enumerate(epoch_losses) if not math.isfinite(v))
            raise FloatingPointError(
                f"training loss became {epoch_losses[bad]} at epoch {epoch + 1}, step {epoch * steps_per_epoch + bad + 1} "
                f"(lr={lr:g}): lower lr= or use precision='fp32'")
        hist["step_loss"].extend(epoch_losses)
        train_acc = accuracy(model, x_train_eval, data.y_train, amp_dtype, cfg.eval_batch_size)
        test_acc = accuracy(model, x_test_eval, data.y_test, amp_dtype, cfg.eval_batch_size)
        steps = (epoch + 1) * steps_per_epoch
        hist["epochs"].append({"epoch": epoch + 1, "step": steps, "loss": sum(epoch_losses) / len(epoch_losses),
                               "train_acc": train_acc, "test_acc": test_acc, "lr": lr,
                               "time": time.perf_counter() - t0})
        if train_acc >= 1.0 and hist["epochs_to_100"] is None:
            hist["epochs_to_100"], hist["steps_to_100"] = epoch + 1, steps
        bar.update(1)
        bar.set_postfix(loss=f"{hist['epochs'][-1]['loss']:.3f}", train=f"{train_acc:.3f}", test=f"{test_acc:.3f}")
        if ckpt:
            _save_checkpoint(ckpt, model, opt, gen, scaler, hist, epoch + 1, time.perf_counter() - t0)
    bar.close()
    last = hist["epochs"][-1]
    hist.update(train_acc=last["train_acc"], test_acc=last["test_acc"], steps=last["step"],
                epochs_run=last["epoch"], wall_time=last["time"])
    return hist


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, amp_dtype=None, batch_size: int = 2048) -> float:
    """Fraction of ``x`` classified as ``y`` (``x`` already preprocessed), in eval mode, big batches."""
    was_training = model.training
    model.eval()
    correct = torch.zeros((), device=x.device, dtype=torch.long)
    for i in range(0, len(y), batch_size):
        with torch.autocast(x.device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
            correct += (model(x[i:i + batch_size]).argmax(1) == y[i:i + batch_size]).sum()
    model.train(was_training)
    return correct.item() / max(1, len(y))


def predict(model: nn.Module, data: Dataset, split: str = "test", batch_size: int = 2048) -> torch.Tensor:
    """Predicted classes for ``split`` of ``data`` (centre crop + whitening, as in evaluation)."""
    x = whiten(center_crop(getattr(data, f"x_{split}"), data.crop))
    model.eval()
    with torch.no_grad():
        return torch.cat([model(x[i:i + batch_size]).argmax(1) for i in range(0, len(x), batch_size)])


def _split_decay(model: nn.Module):
    """Weight decay on weights only, not on biases / BN shifts (TF-slim's convention)."""
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (decay if p.ndim > 1 else no_decay).append(p)
    return decay, no_decay


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({os.cpu_count()} cores)"


def _bar(total: int, initial: int, desc: str, progress: bool | None):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit="epoch", leave=False,
                disable=not progress_enabled(progress))


def _save_checkpoint(path: Path, model, opt, gen, scaler, hist, epoch: int, elapsed: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "gen": gen.get_state(),
                "scaler": scaler.state_dict() if scaler else None, "hist": hist, "epoch": epoch,
                "elapsed": elapsed, "config": hist["config"]}, tmp)
    os.replace(tmp, path)  # atomic: a crash mid-write leaves the previous checkpoint intact
