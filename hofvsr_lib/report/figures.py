"""The search figures of the paper, drawn from ``results/search/*/trials.csv`` only (no compute).

* Figure 5: the top 5 trials of each strategy, evaluation error (MSE) per epoch.
* Figure 6: (a) parameters and (b) GFLOPs against the final validation PSNR, the top 5 trials
  of each strategy (the others faded), the overall winner marked.
* The search studies: every trial of a search in order, marked by where its configuration
  came from; cached against joint trial PSNR of the same configurations.

And the helpers every chapter's tables share (``for_reading``: rounded, "—" not NaN). The
speed chapter's tables and figures are in :mod:`.speed`, the dataset chapter's in
:mod:`.dataset`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..paper import TABLE3, WINNER
from ..search.records import KEY, load_trials, table2
from ..spec import NetSpec
from ..vocabulary import STRATEGIES, STRATEGY_COLOURS, STRATEGY_LABELS


def succeeded_trials(results: str | Path) -> pd.DataFrame:
    """Successful trials of the paper's three searches (``<strategy>`` directories, not the
    studies' variants), with per-epoch lists decoded and a ``config`` label."""
    df = load_trials(Path(results) / "search")
    df = df[(df["status"] == "SUCCEEDED") & df["search"].isin(STRATEGIES)].copy()
    for col in ("epoch_psnr", "epoch_ssim", "epoch_loss"):
        df[col] = df[col].map(json.loads)
    df["config"] = [NetSpec.of(r).label for r in df.itertuples()]
    return df.reset_index(drop=True)


def winner(results: str | Path) -> dict | None:
    """The best configuration over all strategies (highest final validation PSNR)."""
    df = succeeded_trials(results)
    if df.empty:
        return None
    best = df.loc[df["final_psnr"].idxmax()]
    return {"strategy": best["strategy"], **NetSpec.of(best).params(),
            "final_psnr": float(best["final_psnr"]), "final_ssim": float(best["final_ssim"]),
            "params": int(best["params"]), "gflops": float(best["gflops"])}


def winner_table(results: str | Path) -> pd.DataFrame:
    """Our searches' winner beside the paper's (64, 5, 64), for reading."""
    ours = winner(results)
    paper = TABLE3.loc["HO-FVSR"]
    rows = {"paper (TPE, 20 epochs per candidate)": {
        "configuration": WINNER.label, "found by": "TPE",
        "params (M)": paper["params_M"], "GFLOPs": paper["gflops"],
        "validation PSNR (dB)": None}}
    if ours is not None:
        rows["ours (this profile)"] = {
            "configuration": NetSpec.of(ours).label,
            "found by": STRATEGY_LABELS.get(ours["strategy"], ours["strategy"]),
            "params (M)": ours["params"] / 1e6, "GFLOPs": ours["gflops"],
            "validation PSNR (dB)": ours["final_psnr"]}
    return for_reading(pd.DataFrame(rows).T.infer_objects(), 2)


def figure5_top5(results: str | Path, k: int = 5) -> plt.Figure:
    """Figure 5: validation error per epoch of the top ``k`` trials of each strategy."""
    df = succeeded_trials(results)
    fig, axes = plt.subplots(1, len(STRATEGIES), figsize=(4.2 * len(STRATEGIES), 3.4),
                             sharey=True, squeeze=False)
    for ax, strategy in zip(axes[0], STRATEGIES, strict=True):
        top = df[df["strategy"] == strategy].nlargest(k, "final_psnr")
        for row in top.itertuples():
            ax.plot(range(1, len(row.epoch_loss) + 1), row.epoch_loss, marker="o", ms=3,
                    label=f"{row.config} {row.final_psnr:.2f} dB, {row.source}")
        ax.set_title(f"{STRATEGY_LABELS[strategy]}: top {min(k, len(top))} of "
                     f"{(df['strategy'] == strategy).sum()}")
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        if len(top):
            ax.legend(fontsize=7, title="(c, n, u), final PSNR, proposal source",
                      title_fontsize=7)
    axes[0, 0].set_ylabel("validation error (MSE)")
    fig.tight_layout()
    return fig


def figure6_complexity(results: str | Path, k: int = 5) -> plt.Figure:
    """Figure 6, as in the paper: (a) params and (b) GFLOPs against the final validation PSNR
    of the top ``k`` trials of each strategy; the other trials faded."""
    df = succeeded_trials(results)
    best = winner(results)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for ax, col, label in zip(axes, ("params", "gflops"),
                              ("(a) parameters (M)", "(b) GFLOPs at 36x36x1x3"), strict=True):
        scale = 1e6 if col == "params" else 1.0
        for strategy in STRATEGIES:
            sub = df[df["strategy"] == strategy]
            top = sub.nlargest(k, "final_psnr")
            rest = sub.drop(top.index)
            ax.scatter(rest[col] / scale, rest["final_psnr"], s=20, alpha=0.2,
                       color=STRATEGY_COLOURS[strategy])
            ax.scatter(top[col] / scale, top["final_psnr"], s=32, alpha=0.9,
                       color=STRATEGY_COLOURS[strategy],
                       label=f"{STRATEGY_LABELS[strategy]}: top {len(top)}")
        if best:
            ax.scatter(best[col] / scale, best["final_psnr"], s=180, facecolors="none",
                       edgecolors="red", linewidths=2,
                       label=f"winner {NetSpec.of(best).label}")
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("final validation PSNR (dB)")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    return fig


FLOW_MARKERS = {"tip": "o", "accv": "D", "dis": "^", "none": "s"}  # a point's flow kind


def whole_front(points: pd.DataFrame, picked: Sequence[str] = ()) -> plt.Figure:
    """The whole-network plane (``report.front.plane``): validation PSNR against the latency
    ratio to ACCV-2018 (log scale), the searches' trials coloured by strategy and marked by
    their flow, the named networks in black and labelled, the networks ``picked`` for the
    evidence runs (their ``network`` labels) ringed in red and named in the legend, the front
    of all of them a line."""
    fig, ax = plt.subplots(figsize=(8.5, 4.8))
    for (strategy, kind), sub in points.groupby(["strategy", "flow_kind"], sort=False):
        named = strategy == "reference"
        ax.scatter(sub["latency_ratio"], sub["final_psnr"], marker=FLOW_MARKERS[kind],
                   s=60 if named else 34, alpha=0.95 if named else 0.7,
                   color="black" if named else STRATEGY_COLOURS[strategy],
                   label=None if named else f"{STRATEGY_LABELS[strategy]}, flow {kind}")
    trials = points[points["strategy"] != "reference"]
    for network, rings in trials[trials["network"].isin(picked)].groupby("network"):
        ax.scatter(rings["latency_ratio"], rings["final_psnr"], s=160, facecolors="none",
                   edgecolors="red", linewidths=1.2, label=f"picked: {network}")
    labelled = points[points["strategy"] == "reference"]
    # labels of neighbouring points take turns above and below them, so that they do not
    # overlap; those of the slower half of the plane stand left of their point
    middle = np.sqrt(points["latency_ratio"].min() * points["latency_ratio"].max())
    for i, (_, row) in enumerate(labelled.sort_values("latency_ratio").iterrows()):
        left = row["latency_ratio"] > middle
        ax.annotate(row["network"], (row["latency_ratio"], row["final_psnr"]),
                    xytext=(-4 if left else 4, (6, -11, 16)[i % 3]), textcoords="offset points",
                    fontsize=7, ha="right" if left else "left")
    front = points[points["on_front"]].sort_values("latency_ratio")
    ax.step(front["latency_ratio"], front["final_psnr"], where="post", color="red",
            alpha=0.6, label="front (all points)")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("latency / ACCV-2018's (batch 1, 36x36 and 128x128, geometric mean)")
    ax.set_ylabel("validation PSNR (dB)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


SOURCE_MARKERS = {"startup": ("s", "tab:gray"), "random": ("o", "tab:orange"),
                  "model": ("*", "tab:blue"), "fallback": ("x", "tab:red")}


def trial_table(trials: pd.DataFrame) -> pd.DataFrame:
    """One search's ``trials.csv`` for reading: configuration label, where it came from,
    cost, epochs run, final validation PSNR/SSIM, time and status."""
    table = pd.DataFrame({
        "configuration": [NetSpec.of(r).label for r in trials.itertuples()],
        "source": trials["source"], "params (M)": trials["params"] / 1e6,
        "GFLOPs": trials["gflops"], "epochs": trials["epochs_done"],
        "val PSNR (dB)": trials["final_psnr"], "val SSIM": trials["final_ssim"],
        "time (s)": trials["duration_s"], "status": trials["status"]})
    table.index = pd.RangeIndex(1, len(table) + 1, name="trial")
    return for_reading(table, 3)


def best_trials(results: str | Path, k: int = 10) -> pd.DataFrame:
    """The ``k`` best finished trials over every strategy, for reading (ranked by validation
    PSNR, the search named)."""
    top = succeeded_trials(results).nlargest(k, "final_psnr")
    table = trial_table(top).drop(columns="status")
    table.insert(0, "search", top["search"].to_numpy())
    return table.rename_axis("rank")


def search_candidates(trials: pd.DataFrame, title: str) -> plt.Figure:
    """One search: (a) validation PSNR after every epoch, one line per candidate (the
    simultaneous train-evaluation), (b) GFLOPs against the final PSNR of the finished ones."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4))
    for r in trials[trials["status"].isin(["SUCCEEDED", "EARLY_STOPPED"])].itertuples():
        curve = json.loads(r.epoch_psnr)
        a.plot(range(1, len(curve) + 1), curve, marker="o", label=NetSpec.of(r).label)
    a.set(xlabel="epoch", ylabel="validation PSNR (dB)", title=f"(a) {title}: candidates")
    a.legend(fontsize=7, ncol=2)
    ok = trials[trials["status"] == "SUCCEEDED"]
    b.scatter(ok["gflops"], ok["final_psnr"])
    for r in ok.itertuples():
        b.annotate(NetSpec.of(r).label, (r.gflops, r.final_psnr), fontsize=7)
    b.set(xlabel="GFLOPs (36x36x1x3)", ylabel="final validation PSNR (dB)",
          title=f"(b) {title}: cost against quality (trials run to the end)")
    fig.tight_layout()
    return fig


def search_traces(results: str | Path, searches: list[str]) -> plt.Figure:
    """Each search's trials in the order they ran: the last validation PSNR (faded: stopped
    early by the assessor), the marker saying where the configuration came from, the best so
    far as a step line."""
    df = load_trials(Path(results) / "search")
    searches = [s for s in searches if (df["search"] == s).any()]
    cols = min(3, len(searches))
    rows = -(-len(searches) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.3 * rows), sharey=True,
                             squeeze=False)
    for ax in axes.flat[len(searches):]:
        ax.set_visible(False)
    for ax, search in zip(axes.flat, searches, strict=False):
        sub = df[(df["search"] == search) & df["status"].isin(("SUCCEEDED", "EARLY_STOPPED"))]
        sub = sub.sort_values("started").reset_index(drop=True)
        last = sub["epoch_psnr"].map(lambda e: json.loads(e)[-1] if json.loads(e) else np.nan)
        full = sub["status"] == "SUCCEEDED"
        trial = np.arange(1, len(sub) + 1)
        for source, (marker, colour) in SOURCE_MARKERS.items():
            mine = (sub["source"] == source).to_numpy()
            if mine.any():
                ax.scatter(trial[mine & full], last[mine & full], marker=marker, color=colour,
                           s=40, label=source)
                ax.scatter(trial[mine & ~full], last[mine & ~full], marker=marker, s=40,
                           color=colour, alpha=0.3)
        ax.step(trial, sub["final_psnr"].cummax().ffill(), where="post", color="black", lw=0.8,
                label="best so far")
        ax.set_title(search, fontsize=10)
        ax.set_xlabel("trial")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    for ax in axes[:, 0]:
        ax.set_ylabel("validation PSNR, last epoch (dB)")
    fig.tight_layout()
    return fig


def protocol_agreement(table: pd.DataFrame, summary: dict) -> plt.Figure:
    """Cached against joint trial PSNR of the same configurations
    (``search.studies.agreement_table`` and ``agreement_summary``)."""
    fig, ax = plt.subplots(figsize=(5.2, 4.2))
    ax.scatter(table["cached"], table["joint"])
    for r in table.itertuples():
        ax.annotate(NetSpec.of(r).label.replace(" ", ""),
                    (r.cached, r.joint), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set(xlabel="cached trial: validation PSNR (dB)", ylabel="joint trial: validation PSNR (dB)",
           title=f"Kendall's tau {summary['kendall_tau']:.2f}, top-{summary['top_k']} overlap "
                 f"{summary['top_k_overlap']}/{summary['top_k']}")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def save(fig: plt.Figure, results: str | Path, name: str) -> Path:
    """Save a figure as ``results/figures/<name>.png``."""
    path = Path(results) / "figures" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    return path


def learning_curves(records: list[dict]) -> plt.Figure:
    """Validation PSNR against training steps of every final network (``training.final``
    records): the mean over seeds, the seeds' range shaded; (a) the cached protocol with the
    centre-frame ablation dashed, (b) the joint protocol beside the same networks cached."""
    by_variant: dict[str, list[dict]] = {}
    for rec in records:
        by_variant.setdefault(rec["variant"], []).append(rec)
    joint = any(r["protocol"] == "joint" for r in records)
    fig, axes = plt.subplots(1, 2 if joint else 1, figsize=(13 if joint else 7, 4.2),
                             squeeze=False)
    panels = [(axes[0, 0], "cached")] + ([(axes[0, 1], "joint")] if joint else [])
    video = {r["key"] for r in records if r["protocol"] == "joint"}
    for ax, protocol in panels:
        for recs in by_variant.values():
            first = recs[0]
            if protocol == "joint" and (first["key"] not in video or first["centre_only"]):
                continue
            if protocol == "cached" and first["protocol"] == "joint":
                continue
            steps = np.arange(1, len(first["history"]) + 1) * first["iters_per_epoch"]
            curves = np.array([[h["psnr"] for h in r["history"]] for r in recs])
            style = "--" if first["centre_only"] or (
                protocol == "joint" and first["protocol"] != "joint") else "-"
            label = first["display"] + (f" ({len(recs)} seeds)" if len(recs) > 1 else "")
            line, = ax.plot(steps, curves.mean(0), style, marker="o", ms=3, label=label)
            if len(recs) > 1:
                ax.fill_between(steps, curves.min(0), curves.max(0), alpha=0.2,
                                color=line.get_color())
        ax.set_xlabel(f"training steps (batch {first['batch_size']})")
        ax.set_ylabel("validation PSNR (dB)")
        ax.set_title("cached protocol (frozen pretrained flow net)" if protocol == "cached"
                     else "joint protocol (solid) against cached (dashed)", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def for_reading(table: pd.DataFrame, digits: int = 2) -> pd.DataFrame:
    """``table`` rounded to ``digits``, with "—" where there is no value (not NaN)."""
    return table.round(digits).astype(object).where(table.notna(), "—")


def table2_column(table: pd.DataFrame, search: str) -> pd.DataFrame:
    """One search's row of Table 2 (``search.records.table2``) as a column, for reading."""
    seconds = [c for c in table.columns if c.endswith("_time_s")]  # shown as "6m38s" too
    return for_reading(table.set_index("search").drop(columns=seconds), 2).loc[[search]].T


def search_label(row: dict) -> str:
    """'TPE', 'Random, no assessor', 'TPE, NNI's own Medianstop', ... for a Table 2 row."""
    label = STRATEGY_LABELS.get(row["strategy"], row["strategy"])
    if row["space"] == "ordinal":
        label += ", ordinal encoding"
    elif row["space"] == "whole":
        label += ", whole network against latency"
    if row["assessor"] == "none":
        label += ", no assessor"
    elif row["assessor"] == "Medianstop":
        label += ", NNI's own Medianstop"
    return label + (", joint trials" if row["mode"] == "joint" else "")


def searches_markdown(results: str | Path) -> str:
    """The README's table of the committed searches (``search.records.table2``)."""
    table = table2(Path(results) / "search")
    order = {s: i for i, s in enumerate(STRATEGIES)}
    rows = sorted(table.to_dict("records"),
                  key=lambda r: (r["search"] not in STRATEGIES, order.get(r["strategy"], 9),
                                 r["search"]))
    lines = ["| search | trials stopped early | where the configurations came from | "
             "epochs trained | search time | best (c, n, u), val. PSNR |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        stopped = f"{r['early_stopped']} of {r['trials']}" if r["early_stopped"] else "0"
        lines.append(f"| {search_label(r)} | {stopped} | {r['sources']} | "
                     f"{r['epochs_trained']} | {r['search_time']} | {r['best']}, "
                     f"{r['best_psnr']:.2f} dB |")
    return "\n".join(lines) + "\n"


def by_configuration(table: pd.DataFrame, digits: int = 2) -> pd.DataFrame:
    """``table`` for reading, indexed by the configuration label "(c, n, u)" instead of its
    searched fields' columns."""
    labels = pd.Index([NetSpec.of(r).label for r in table.to_dict("records")],
                      name="configuration")
    return for_reading(table.drop(columns=KEY).set_index(labels), digits)


def figure2_caption(folder: str | Path) -> str:
    """What made Figure 2's panels (Markdown): the weights and the profile."""
    provenance = json.loads((Path(folder) / "figure2.json").read_text())["provenance"]
    return (f"HO-FVSR weights: `{provenance['weights']}`, profile `{provenance['profile']}`; "
            "frames from `results/figure2/`.")


def figure2_panels(folder: str | Path) -> plt.Figure:
    """The committed before / after crops of ``hofvsr_lib.facevideo.figure2``: one row per
    clip (LR input, bicubic x4, HO-FVSR, original), PSNR on Y against the original."""
    import matplotlib.image as mpimg

    folder = Path(folder)
    data = json.loads((folder / "figure2.json").read_text())
    rows = data["results"]
    titles = {"lr": "input (shrunk x4)", "bicubic": "bicubic x4", "hofvsr": "HO-FVSR",
              "original": "original"}
    fig, axes = plt.subplots(len(rows), 4, figsize=(12, 3.2 * len(rows)), squeeze=False)
    for ax_row, r in zip(axes, rows, strict=True):
        for ax, panel in zip(ax_row, titles, strict=True):
            ax.imshow(mpimg.imread(folder / f"{r['video']}_{panel}.png"),
                      interpolation="nearest")
            score = r["psnr_y"].get(panel)
            ax.set_title(titles[panel] + (f", {score:.2f} dB" if score else ""), fontsize=10)
            ax.axis("off")
        ax_row[0].text(-0.05, 0.5, r["video"], transform=ax_row[0].transAxes, rotation=90,
                       va="center", ha="right", fontsize=10)
    fig.tight_layout()
    return fig
