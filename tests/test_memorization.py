"""Memorization order (Arpit et al. 2017): clean examples are fitted before corrupted ones."""

from rethinking_lib import experiments
from rethinking_lib.chapters import ch04_memorization as memorization

QUICK = experiments.get("memorization").base("quick")  # the quick config, resolved from the paper config + delta


def test_clean_fitted_before_noisy(results_dir):
    res = experiments.run("memorization", "quick")["result"]
    s = res["summary"]
    assert s["p"] == 0.4
    assert s["clean_epoch_90"] is not None and s["noisy_epoch_90"] is not None
    assert s["clean_epoch_90"] < s["noisy_epoch_90"]
    assert s["clean_first_at_every_p"]
    # test accuracy peaks before the noise is memorized, and memorizing it costs test accuracy
    assert s["best_test_epoch"] < s["noisy_epoch_90"]
    assert s["final_test_acc"] < s["best_test_acc"]


def test_first_epoch_at():
    assert memorization.first_epoch_at([0.1, 0.5, 0.95, 0.99]) == 3
    assert memorization.first_epoch_at([0.1, 0.5]) is None


def test_curves_are_what_the_hand_built_loop_measured(tmp_path):
    """The run spec (engine + ``epoch_eval="clean_noisy"``) gives the curves the chapter's own loop and hook gave."""
    import torch

    from rethinking_lib.engine import corrupt, data, models, train

    cfg = {**QUICK, "dataset": "digits", "n_train": 200, "epochs": 5, "batch_size": 32,
           "model": "mlp_1x512", "lr": 0.05, "device": "cpu"}
    ds = data.load("digits", crop=cfg["crop"], n_train=200, seed=0)
    ds = corrupt.apply(ds, "partial_labels", p=0.4, seed=2)
    noisy = ds.y_train != ds.meta["y_train_clean"]
    torch.manual_seed(2)
    model = models.build("mlp_1x512", in_channels=ds.in_channels, image_size=ds.image_size, num_classes=10)
    x = data.whiten(data.center_crop(ds.x_train, ds.crop))
    clean, corrupted = [], []

    def on_epoch(hist):
        with torch.no_grad():
            right = model.eval()(x).argmax(1) == ds.y_train
            model.train()
        clean.append(float(right[~noisy].float().mean()))
        corrupted.append(float(right[noisy].float().mean()))

    tc = train.TrainConfig(lr=0.05, lr_decay=cfg["lr_decay"], batch_size=32, epochs=5, stop_at_100=True, seed=2)
    hist = train.fit(model, ds, tc, progress=False, on_epoch=on_epoch)
    got = memorization.curves(cfg, 0.4, 2, out=tmp_path)
    assert got["clean_train_acc"] == clean and got["noisy_train_acc"] == corrupted
    assert got["test_acc"] == [e["test_acc"] for e in hist["epochs"]]
    assert got["train_acc"] == [e["train_acc"] for e in hist["epochs"]]
    assert got["noisy_fraction"] == float(noisy.float().mean()) > 0


def test_memorization_specs_list_every_run_the_experiment_trains(tmp_path, monkeypatch):
    from rethinking_lib.engine import runs

    cfg = {**QUICK, "dataset": "digits", "n_train": 100, "epochs": 1, "ps": [0.2, 0.6], "summary_p": 0.2}
    seen, real = [], runs.run_one
    monkeypatch.setattr(runs, "run_one", lambda s, **kw: seen.append(runs.key(s)) or real(s, **kw))
    memorization.memorization(cfg, seed=3, out=tmp_path)
    assert seen == [runs.key(s) for s in memorization.memorization_specs(runs.seeded(cfg, 3))] and len(seen) == 2
