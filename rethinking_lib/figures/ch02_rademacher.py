"""Chapter 2's figures: the Rademacher complexity sweeps (sample size, width)."""

from __future__ import annotations

from .style import color, figure, finish, label


def rademacher_sweeps(result: dict, profile: str):
    """Estimated R_hat_n against n (left) and against the hidden width (right), with standard errors."""
    fig, (a1, a2) = figure(2, width=10, height=3.6)
    sw = result["sweep_n"]
    names = [k for k in sw if k != "n"]
    for name in names:
        key = "linear" if name.startswith("linear") else name
        est = [e["estimate"] for e in sw[name]]
        err = [0 if e["stderr"] != e["stderr"] else e["stderr"] for e in sw[name]]
        lab = {"linear": "linear classifier (trained)", "linear_norm": r"linear, $\|w\| \leq 1/\max\|x_i\|$ (exact)"}.get(
            name, label(name) + " (trained)")
        a1.errorbar(sw["n"], est, yerr=err, marker="o", capsize=3, color=color(key),
                    linestyle="--" if name == "linear_norm" else "-", label=lab)
    a1.set_xscale("log")
    a1.set_xticks(sw["n"], [str(m) for m in sw["n"]])
    a1.minorticks_off()
    a1.set_xlabel("sample size n")
    a1.set_ylabel(r"$\hat{\mathfrak{R}}_n(H)$ (Monte Carlo)")
    a1.set_ylim(-0.02, 1.05)
    a1.legend(loc="center left")
    ws = result["sweep_width"]
    hidden = [round(512 * x) for x in ws["widths"]]
    a2.errorbar(hidden, [e["estimate"] for e in ws["estimates"]],
                yerr=[0 if e["stderr"] != e["stderr"] else e["stderr"] for e in ws["estimates"]],
                marker="o", capsize=3, color=color(ws["model"]))
    a2.set_xscale("log", base=2)
    a2.set_xlabel(f"hidden units ({label(ws['model'])} family), n = {ws['n']}")
    a2.set_ylim(-0.02, 1.05)
    a2.set_title("width")
    a1.set_title("sample size")
    return finish(fig, profile, "networks: lower bounds found by training")
