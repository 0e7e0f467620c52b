"""The training loop of Appendix A: SGD, momentum 0.9, learning rate x0.95 after every epoch.

Why it is fast (the paper's nets are small, so at batch 128 a GPU mostly waits on the host):
- the dataset is already a tensor on the training device (``data.py``); each epoch gathers its shuffled
  (and, with ``augment``, randomly cropped) inputs in one batched op, so a step's batch is a plain slice;
- on CUDA the whole train step (forward, backward, SGD update) is captured once as a CUDA graph and
  replayed: one launch per step instead of hundreds. The learning rate lives in a device tensor, so the
  per-epoch decay does not need a new capture; the ragged last batch of an epoch gets its own graph (no
  example is dropped, so a graph run sees exactly the batches an eager run sees);
- per-step losses go into a device buffer that is read once per epoch (no ``.item()`` host sync in the
  step); the whole-train-set accuracy pass runs in large no-grad batches under the same autocast;
- precision is fp32 unless asked (the paper trained in fp32); ``precision="auto"`` is the speed option:
  bf16 where the GPU supports it and fp16 with a gradient scaler otherwise (e.g. a Colab T4; fp16 runs
  eager because the scaler's overflow check is a host sync); the CPU always runs fp32;
- ``channels_last`` and ``torch.compile`` are options whose ``"auto"`` setting follows what
  ``gpu_checks/speed.py`` measured on an H100 (``CUDA_AUTO`` below), not what is usually assumed.
The same code path runs on the CPU (there the step is simply called instead of replayed).

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
import pickle
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from . import devices
from .data import AUGMENTS, Dataset, center_crop, preprocess, shuffled_batches, whiten

# What "auto" picks on a CUDA GPU, from gpu_checks/speed.py on an H100 (small Inception, batch 128, 2026-11-27):
# eager fp32 13.4k img/s, eager bf16 + channels-last 9.3k, CUDA graph bf16 18.9-20.5k, graph bf16 + channels-last
# 31.2k, and torch.compile + graph + bf16 + channels-last 56.2k but after ~25 s of compilation per process,
# which a run recovers only after ~35 CIFAR-10 epochs: so compile stays opt-in (compile=True for long runs).
CUDA_AUTO = {"channels_last": True, "compile": False, "cuda_graph": True}
# On the CPU (2 cores, 1x24x24 digits, batch 128; benchmarks/bench_cpu.py): channels-last makes small AlexNet
# ~1.75x and small Inception ~1.1x faster to train, so "auto" turns it on there too.
CPU_AUTO = {"channels_last": True, "compile": False, "cuda_graph": False}
SPEED_OPTIONS = tuple(CUDA_AUTO)
DECAY_SCOPES = ("weights", "hidden_fc")  # what weight decay applies to (``TrainConfig.weight_decay_on``)


@dataclass
class TrainConfig:
    """Hyper-parameters of one training run; the defaults are the paper's (Appendix A) for AlexNet / MLPs.

    ``channels_last``, ``compile`` and ``cuda_graph`` change speed, not what is computed: each is True,
    False or ``"auto"`` (``CUDA_AUTO`` on a CUDA GPU, off on the CPU).
    """

    lr: float = 0.01            # 0.1 for Inception, 0.01 for AlexNet and the MLPs
    momentum: float = 0.9
    lr_decay: float = 0.95      # multiplied in after every epoch
    weight_decay: float = 0.0   # off in the randomization tests; Table 1 "yes" rows use 5e-4 (our choice)
    batch_size: int = 128
    epochs: int = 100           # cap on epochs
    stop_at_100: bool = False   # stop at the first epoch with 100% training accuracy
    augment: bool | str = False  # True: random crop instead of centre crop; "flip_rotate": Table 4's flip + rotation
    weight_decay_on: str = "weights"  # "weights": every weight (not biases / BN shifts); "hidden_fc": the hidden
    #                                   fully connected layers' weights only (the TF CIFAR-10 tutorial's AlexNet)
    precision: str = "fp32"     # fp32 (the paper) | auto | bf16 | fp16: see resolve_precision
    channels_last: bool | str = "auto"
    compile: bool | str = "auto"      # torch.compile the model
    cuda_graph: bool | str = "auto"   # capture the train step as a CUDA graph and replay it
    seed: int = 0               # batch order and crops; the model's init is seeded by the caller
    eval_batch_size: int = 2048

    def __post_init__(self):
        checks = [("lr", self.lr > 0, "a positive learning rate such as 0.01"),
                  ("batch_size", isinstance(self.batch_size, int) and self.batch_size >= 1, "a positive integer such as 128"),
                  ("epochs", isinstance(self.epochs, int) and self.epochs >= 1, "a positive integer"),
                  ("momentum", 0 <= self.momentum < 1, "a value in [0, 1)"),
                  ("lr_decay", 0 < self.lr_decay <= 1, "a value in (0, 1]"),
                  ("weight_decay", self.weight_decay >= 0, "a non-negative value such as 5e-4"),
                  ("weight_decay_on", self.weight_decay_on in DECAY_SCOPES, "one of " + ", ".join(DECAY_SCOPES)),
                  ("augment", any(self.augment is a or (isinstance(a, str) and self.augment == a) for a in AUGMENTS),
                   "False, True (random crop) or 'flip_rotate'"),
                  ("precision", self.precision in ("auto", "fp32", "bf16", "fp16"), "one of auto, fp32, bf16, fp16"),
                  ("eval_batch_size", isinstance(self.eval_batch_size, int) and self.eval_batch_size >= 1,
                   "a positive integer such as 2048")]
        checks += [(k, getattr(self, k) in (True, False, "auto"), "True, False or 'auto'") for k in SPEED_OPTIONS]
        for name, ok, want in checks:
            if not ok:
                raise ValueError(f"{name}={getattr(self, name)!r} is invalid: pass {want}")


def resolve_precision(precision: str, device: torch.device) -> str:
    """auto -> bf16 on GPUs that support it, fp16 (with a gradient scaler) on older GPUs, fp32 on CPU."""
    device = torch.device(device)
    if precision != "auto":
        if precision != "fp32" and device.type != "cuda":
            return "fp32"  # autocast on CPU is slower than fp32 for these nets
        return precision
    if device.type != "cuda":
        return "fp32"
    return "bf16" if torch.cuda.is_bf16_supported() else "fp16"


AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def amp_dtype(precision: str) -> torch.dtype | None:
    """The autocast dtype of a resolved precision (None: fp32, no autocast)."""
    return AMP_DTYPES.get(precision)


def grad_scaler(precision: str) -> torch.amp.GradScaler | None:
    """fp16 needs a gradient scaler (its range is too small for raw gradients); bf16 and fp32 do not."""
    return torch.amp.GradScaler("cuda") if precision == "fp16" else None


def resolve_speed(cfg: TrainConfig, device: torch.device, precision: str) -> dict:
    """The speed options actually used: ``"auto"`` -> ``CUDA_AUTO`` on CUDA, ``CPU_AUTO`` elsewhere.

    CUDA graphs need CUDA and a step without host syncs, so they are off on the CPU and with fp16 (the
    gradient scaler checks for overflow on the host); asking for them there is not an error.
    """
    cuda = torch.device(device).type == "cuda"
    auto = CUDA_AUTO if cuda else CPU_AUTO
    out = {k: auto[k] if getattr(cfg, k) == "auto" else getattr(cfg, k) for k in SPEED_OPTIONS}
    out["cuda_graph"] = bool(out["cuda_graph"] and cuda and precision != "fp16")
    return out


def progress_enabled(progress: bool | None) -> bool:
    """Progress bars unless asked not to, or ``RETHINKING_PROGRESS=0`` (the book build sets it)."""
    if progress is not None:
        return progress
    return os.environ.get("RETHINKING_PROGRESS", "1") != "0"


def fit(model: nn.Module, data: Dataset, cfg: TrainConfig = TrainConfig(), *, checkpoint: str | os.PathLike | None = None,
        progress: bool | None = None, desc: str = "train", on_epoch=None, evaluate=None) -> dict:
    """Train ``model`` on ``data`` (already on the target device) with ``cfg``; return the history.

    If ``checkpoint`` is given, the state after each epoch is written there and a run that finds a
    checkpoint resumes from it. ``evaluate(model)`` (e.g. ``epoch_evals``) returns more numbers for each
    epoch's record, measured before its checkpoint so a resumed run has them too; it must not change the
    model or draw from a random generator. ``on_epoch(hist)`` is called after each epoch (after its checkpoint).
    The history holds ``step_loss`` (every step), ``epochs`` (one dict per epoch), ``epochs_to_100`` /
    ``steps_to_100`` (first time at 100% training accuracy, else None), ``train_acc``, ``test_acc``,
    ``steps``, ``wall_time``, the precision and the speed options used.
    """
    device = data.device
    eng = setup(model, cfg, device)
    model, opt, scaler, amp_dtype, memory_format = eng.model, eng.opt, eng.scaler, eng.amp_dtype, eng.memory_format
    gen = torch.Generator(device=device).manual_seed(cfg.seed)

    # Inputs the model sees when evaluating: centre-cropped and whitened once, not every epoch.
    x_train_eval = whiten(center_crop(data.x_train, data.crop))
    x_test_eval = whiten(center_crop(data.x_test, data.crop))
    random_crop = bool(cfg.augment is True and data.crop and data.crop < data.x_train.shape[-1])
    n = len(data.y_train)
    if random_crop or cfg.augment == "flip_rotate":  # one random crop / flip and rotation per image, drawn per epoch
        x_src, transform = data.x_train, (lambda x: preprocess(x, data.crop, augment=cfg.augment, generator=gen))
    else:
        x_src, transform = x_train_eval, None
    steps_per_epoch = math.ceil(n / cfg.batch_size)

    hist = {"step_loss": [], "epochs": [], "epochs_to_100": None, "steps_to_100": None,
            "precision": eng.precision, **eng.speed, "device": devices.name(device), "config": asdict(cfg)}
    start_epoch, elapsed = 0, 0.0
    ckpt = Path(checkpoint) if checkpoint else None
    if ckpt and ckpt.exists():
        state = load_checkpoint(ckpt, device)
        if state["config"] != asdict(cfg):
            raise ValueError(f"checkpoint {ckpt} was written with another config; delete it or pass another checkpoint=")
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        gen.set_state(state["gen"].cpu())
        if scaler and state.get("scaler"):
            scaler.load_state_dict(state["scaler"])
        hist, start_epoch, elapsed = state["hist"], state["epoch"], state["elapsed"]

    step = eng.step
    bar = _bar(cfg.epochs, start_epoch, desc, progress)
    losses = torch.empty(steps_per_epoch, device=device)
    t0 = time.perf_counter() - elapsed
    for epoch in range(start_epoch, cfg.epochs):
        if hist["epochs_to_100"] is not None and cfg.stop_at_100:
            break
        lr = cfg.lr * cfg.lr_decay ** epoch
        for group in opt.param_groups:
            group["lr"].fill_(lr)
        model.train()
        batches = shuffled_batches(x_src, data.y_train, cfg.batch_size, generator=gen, transform=transform,
                                   memory_format=memory_format)
        for i, (xb, yb) in enumerate(batches):
            losses[i] = step(xb, yb)  # stays on the device: no host sync inside the step
        epoch_losses = losses.tolist()
        if not all(math.isfinite(v) for v in epoch_losses):
            bad = next(j for j, v in enumerate(epoch_losses) if not math.isfinite(v))
            raise FloatingPointError(
                f"training loss became {epoch_losses[bad]} at epoch {epoch + 1}, step {epoch * steps_per_epoch + bad + 1} "
                f"(lr={lr:g}): lower lr= or use precision='fp32'")
        hist["step_loss"].extend(epoch_losses)
        train_acc = accuracy(model, x_train_eval, data.y_train, amp_dtype, cfg.eval_batch_size, memory_format)
        test_acc = accuracy(model, x_test_eval, data.y_test, amp_dtype, cfg.eval_batch_size, memory_format)
        steps = (epoch + 1) * steps_per_epoch
        hist["epochs"].append({"epoch": epoch + 1, "step": steps, "loss": sum(epoch_losses) / len(epoch_losses),
                               "train_acc": train_acc, "test_acc": test_acc, "lr": lr,
                               "time": time.perf_counter() - t0, **(evaluate(model) if evaluate else {})})
        if train_acc >= 1.0 and hist["epochs_to_100"] is None:
            hist["epochs_to_100"], hist["steps_to_100"] = epoch + 1, steps
        bar.update(1)
        bar.set_postfix(loss=f"{hist['epochs'][-1]['loss']:.3f}", train=f"{train_acc:.3f}", test=f"{test_acc:.3f}")
        if ckpt:
            _save_checkpoint(ckpt, model, opt, gen, scaler, hist, epoch + 1, time.perf_counter() - t0)
        if on_epoch is not None:
            on_epoch(hist)
    bar.close()
    last = hist["epochs"][-1]
    hist.update(train_acc=last["train_acc"], test_acc=last["test_acc"], steps=last["step"],
                epochs_run=last["epoch"], wall_time=last["time"])
    return hist


@dataclass
class Engine:
    """What ``setup`` builds: the model on its device and memory format, the optimizer, and ``step``."""

    model: nn.Module
    opt: torch.optim.Optimizer
    scaler: torch.amp.GradScaler | None
    step: object               # step(xb, yb) -> loss tensor on the device
    precision: str
    speed: dict
    amp_dtype: torch.dtype | None
    memory_format: torch.memory_format


def setup(model: nn.Module, cfg: TrainConfig, device) -> Engine:
    """Move ``model`` to ``device`` and build the optimizer and train step that ``cfg`` asks for.

    SGD with momentum (Appendix A), weight decay on weights only; the lr is a tensor on the device so a
    captured CUDA graph reads the current value (fused SGD takes it as is; ``fit`` sets it every epoch).
    """
    device = torch.device(device)
    precision = resolve_precision(cfg.precision, device)
    speed = resolve_speed(cfg, device, precision)
    amp = amp_dtype(precision)
    memory_format = torch.channels_last if speed["channels_last"] else torch.contiguous_format
    model = model.to(device, memory_format=memory_format)
    numerics(device)
    decay, no_decay = _split_decay(model, cfg.weight_decay_on)
    opt = torch.optim.SGD([{"params": decay, "weight_decay": cfg.weight_decay},
                           {"params": no_decay, "weight_decay": 0.0}],
                          lr=torch.tensor(cfg.lr, device=device), momentum=cfg.momentum, fused=True)
    scaler = grad_scaler(precision)
    plain = step = train_step(model, opt, scaler, amp)
    if speed["compile"]:
        # The epoch's ragged last batch takes the uncompiled step: the same computation, without a second
        # compilation for its shape.
        compiled = train_step(torch.compile(model), opt, scaler, amp)
        step = lambda xb, yb: (compiled if len(yb) == cfg.batch_size else plain)(xb, yb)  # noqa: E731
    if speed["cuda_graph"]:
        step = _GraphedStep(step, model, opt)
    return Engine(model, opt, scaler, step, precision, speed, amp, memory_format)


def numerics(device) -> None:
    """The process-wide settings training runs under, also for measuring a trained network (``runs.load_model``):
    cuDNN autotuning on CUDA; on the CPU denormals flushed to zero (4x faster on some CPUs once weights get tiny)."""
    if torch.device(device).type == "cuda":
        torch.backends.cudnn.benchmark = True
    else:
        torch.set_flush_denormal(True)


def train_step(model: nn.Module, opt: torch.optim.Optimizer, scaler, amp_dtype):
    """One SGD step on a batch; returns the loss as a device tensor (no host sync)."""
    device_type = next(model.parameters()).device.type

    def step(xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        opt.zero_grad(set_to_none=True)
        # cache_enabled=False: autocast's weight-cast cache would be stale inside a replayed CUDA graph.
        with torch.autocast(device_type, dtype=amp_dtype, enabled=amp_dtype is not None, cache_enabled=False):
            loss = nn.functional.cross_entropy(model(xb), yb)
        if scaler:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        else:
            loss.backward()
            opt.step()
        return loss.detach()

    return step


class _GraphedStep:
    """``step`` captured as one CUDA graph per batch size (the full one and the epoch's ragged last one).

    Capturing needs a few warm-up steps (cuDNN autotuning, lazy allocations, ``torch.compile``); they run
    on the real batch and are then undone by restoring the model and optimizer state in place, so the
    training trajectory is exactly the eager one's.
    """

    def __init__(self, step, model: nn.Module, opt: torch.optim.Optimizer, warmup: int = 3):
        self.step, self.model, self.opt, self.warmup = step, model, opt, warmup
        self.graphs: dict[int, tuple] = {}

    def __call__(self, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        if len(yb) not in self.graphs:
            self.graphs[len(yb)] = self._capture(xb, yb)
        graph, static_x, static_y, static_loss = self.graphs[len(yb)]
        static_x.copy_(xb)
        static_y.copy_(yb)
        graph.replay()
        return static_loss

    def _capture(self, xb, yb):
        saved = self._state()
        static_x, static_y = xb.clone(), yb.clone()
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(self.warmup):
                self.step(static_x, static_y)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            static_loss = self.step(static_x, static_y)
        self._restore(saved)
        return graph, static_x, static_y, static_loss

    def _state(self):
        model = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        bufs = [self.opt.state.get(p, {}).get("momentum_buffer") for g in self.opt.param_groups for p in g["params"]]
        return model, [None if b is None else b.clone() for b in bufs]

    @torch.no_grad()
    def _restore(self, saved):
        model, bufs = saved
        for k, v in self.model.state_dict().items():
            v.copy_(model[k])
        params = [p for g in self.opt.param_groups for p in g["params"]]
        for p, b in zip(params, bufs, strict=True):
            buf = self.opt.state.get(p, {}).get("momentum_buffer")
            if buf is None:  # momentum=0: no buffer
                continue
            # A buffer missing before warm-up means "before the first step": zeros give that first step
            # exactly (buf = 0.9 * 0 + grad = grad), and the captured graph keeps the buffer's address.
            buf.copy_(b) if b is not None else buf.zero_()


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, amp_dtype=None, batch_size: int = 2048,
             memory_format=torch.contiguous_format) -> float:
    """Fraction of ``x`` classified as ``y`` (``x`` already preprocessed), in eval mode, big batches."""
    was_training = model.training
    model.eval()
    correct = torch.zeros((), device=x.device, dtype=torch.long)
    for i in range(0, len(y), batch_size):
        with torch.autocast(x.device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
            logits = model(x[i:i + batch_size].contiguous(memory_format=memory_format))
        correct += (logits.argmax(1) == y[i:i + batch_size]).sum()
    model.train(was_training)
    return correct.item() / max(1, len(y))  # the one host sync of the pass


def _split_decay(model: nn.Module, on: str = "weights"):
    """Weight decay on weights only, not on biases / BN shifts (TF-slim's convention); ``on="hidden_fc"``: only
    on the weights of the fully connected layers before the output layer (the TF CIFAR-10 tutorial's AlexNet:
    its two hidden fully connected layers, none on the convolutions or the softmax layer)."""
    if on == "hidden_fc":
        fc = [m.weight for m in model.modules() if isinstance(m, nn.Linear)][:-1]
        if not fc:
            raise ValueError("weight_decay_on='hidden_fc' needs a model with a hidden fully connected layer; "
                             "pass weight_decay_on='weights'")
    else:
        fc = [p for p in model.parameters() if p.ndim > 1]
    chosen = {id(p) for p in fc}
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (decay if id(p) in chosen else no_decay).append(p)
    return decay, no_decay


def _bar(total: int, initial: int, desc: str, progress: bool | None):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit="epoch", leave=False,
                disable=not progress_enabled(progress))


def load_checkpoint(path: Path, device) -> dict:
    """A checkpoint's state, unpickled with ``weights_only=True``: tensors (the RNG state is a byte tensor) and
    plain values only. A file that asks the unpickler for anything else (a checkpoint from a shared folder could
    run arbitrary code when loaded) is refused with a one-line error."""
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError as e:
        raise ValueError(f"checkpoint {path} holds more than tensors and plain values, refused unloaded "
                         f"({str(e).splitlines()[0][:120]}); delete it to train from the start") from None


def _save_checkpoint(path: Path, model, opt, gen, scaler, hist, epoch: int, elapsed: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "gen": gen.get_state(),
                "scaler": scaler.state_dict() if scaler else None, "hist": hist, "epoch": epoch,
                "elapsed": elapsed, "config": hist["config"]}, tmp)
    os.replace(tmp, path)  # atomic: a crash mid-write leaves the previous checkpoint intact
