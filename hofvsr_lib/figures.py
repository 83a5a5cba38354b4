"""The search figures of the paper, drawn from ``results/search/*/trials.csv`` only (no compute).

* Figure 5: the top 5 trials of each strategy, evaluation error (MSE) per epoch.
* Figure 6: (a) parameters and (b) GFLOPs against the final eval PSNR of every trial, the
  overall winner marked.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from .search.records import load_trials

STRATEGIES = ("tpe", "random", "smac")
LABELS = {"tpe": "TPE", "random": "Random", "smac": "SMAC"}
COLOURS = {"tpe": "tab:blue", "random": "tab:orange", "smac": "tab:green"}


def succeeded_trials(results: str | Path) -> pd.DataFrame:
    """Successful trials of the three strategies (the default, cached mode), with per-epoch
    lists decoded and a ``config`` label."""
    df = load_trials(Path(results) / "search")
    df = df[(df["status"] == "SUCCEEDED") & df["strategy"].isin(STRATEGIES)].copy()
    for col in ("epoch_psnr", "epoch_ssim", "epoch_loss"):
        df[col] = df[col].map(json.loads)
    df["config"] = [f"({r.res_channels}, {r.n_res_blocks}, {r.up_channels})"
                    for r in df.itertuples()]
    return df.reset_index(drop=True)


def winner(results: str | Path) -> dict | None:
    """The best configuration over all strategies (highest final eval PSNR)."""
    df = succeeded_trials(results)
    if df.empty:
        return None
    best = df.loc[df["final_psnr"].idxmax()]
    return {"strategy": best["strategy"], "res_channels": int(best["res_channels"]),
            "n_res_blocks": int(best["n_res_blocks"]), "up_channels": int(best["up_channels"]),
            "final_psnr": float(best["final_psnr"]), "final_ssim": float(best["final_ssim"]),
            "params": int(best["params"]), "gflops": float(best["gflops"])}


def figure5_top5(results: str | Path, k: int = 5) -> plt.Figure:
    """Figure 5: eval error per epoch of the top ``k`` trials of each strategy."""
    df = succeeded_trials(results)
    fig, axes = plt.subplots(1, len(STRATEGIES), figsize=(4.2 * len(STRATEGIES), 3.4),
                             sharey=True, squeeze=False)
    for ax, strategy in zip(axes[0], STRATEGIES, strict=True):
        top = df[df["strategy"] == strategy].nlargest(k, "final_psnr")
        for row in top.itertuples():
            ax.plot(range(1, len(row.epoch_loss) + 1), row.epoch_loss, marker="o", ms=3,
                    label=f"{row.config} {row.final_psnr:.2f} dB")
        ax.set_title(f"{LABELS[strategy]}: top {min(k, len(top))} of "
                     f"{(df['strategy'] == strategy).sum()}")
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        if len(top):
            ax.legend(fontsize=7, title="(c, n, u), final PSNR", title_fontsize=7)
    axes[0, 0].set_ylabel("eval error (MSE)")
    fig.tight_layout()
    return fig


def figure6_complexity(results: str | Path) -> plt.Figure:
    """Figure 6: (a) params and (b) GFLOPs against final eval PSNR, every trial."""
    df = succeeded_trials(results)
    best = winner(results)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for ax, col, label in zip(axes, ("params", "gflops"),
                              ("(a) parameters (M)", "(b) GFLOPs at 36x36x1x3"), strict=True):
        scale = 1e6 if col == "params" else 1.0
        for strategy in STRATEGIES:
            sub = df[df["strategy"] == strategy]
            ax.scatter(sub[col] / scale, sub["final_psnr"], s=28, alpha=0.75,
                       color=COLOURS[strategy], label=LABELS[strategy])
        if best:
            ax.scatter(best[col] / scale, best["final_psnr"], s=180, facecolors="none",
                       edgecolors="red", linewidths=2,
                       label=f"winner ({best['res_channels']}, {best['n_res_blocks']}, "
                             f"{best['up_channels']})")
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("final eval PSNR (dB)")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    return fig


def save(fig: plt.Figure, results: str | Path, name: str) -> Path:
    """Save a figure as ``results/figures/<name>.png``."""
    path = Path(results) / "figures" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    return path


def final_curves(records: list[dict]) -> plt.Figure:
    """Eval PSNR after every epoch of each final network (``final_training`` records)."""
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    for rec in records:
        psnrs = [h["eval_psnr"] for h in rec["history"]]
        ax.plot(range(1, len(psnrs) + 1), psnrs, marker="o", ms=3, label=rec["display"])
    ax.set_xlabel("epoch")
    ax.set_ylabel("eval PSNR (dB)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
