"""The search figures of the paper, drawn from ``results/search/*/trials.csv`` only (no compute).

* Figure 5: the top 5 trials of each strategy, evaluation error (MSE) per epoch.
* Figure 6: (a) parameters and (b) GFLOPs against the final validation PSNR, the top 5 trials
  of each strategy (the others faded), the overall winner marked.
* The search studies: every trial of a search in order, marked by where its configuration
  came from; cached against joint trial PSNR of the same configurations.

And the measured speed (``results/bench/*.json``): the networks and the enhance pipeline
(``hofvsr bench``), and what each training stage of a profile costs
(``benchmarks/training_cost.py``).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..paper import TABLE3
from ..search.records import load_trials
from ..vocabulary import (
    PIPELINE_STAGES,
    STRATEGIES,
    STRATEGY_COLOURS,
    STRATEGY_LABELS,
    SRConfig,
)


def succeeded_trials(results: str | Path) -> pd.DataFrame:
    """Successful trials of the paper's three searches (``<strategy>`` directories, not the
    studies' variants), with per-epoch lists decoded and a ``config`` label."""
    df = load_trials(Path(results) / "search")
    df = df[(df["status"] == "SUCCEEDED") & df["search"].isin(STRATEGIES)].copy()
    for col in ("epoch_psnr", "epoch_ssim", "epoch_loss"):
        df[col] = df[col].map(json.loads)
    df["config"] = [SRConfig.of(r).label for r in df.itertuples()]
    return df.reset_index(drop=True)


def winner(results: str | Path) -> dict | None:
    """The best configuration over all strategies (highest final validation PSNR)."""
    df = succeeded_trials(results)
    if df.empty:
        return None
    best = df.loc[df["final_psnr"].idxmax()]
    return {"strategy": best["strategy"], "res_channels": int(best["res_channels"]),
            "n_res_blocks": int(best["n_res_blocks"]), "up_channels": int(best["up_channels"]),
            "final_psnr": float(best["final_psnr"]), "final_ssim": float(best["final_ssim"]),
            "params": int(best["params"]), "gflops": float(best["gflops"])}


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
                       label=f"winner ({best['res_channels']}, {best['n_res_blocks']}, "
                             f"{best['up_channels']})")
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("final validation PSNR (dB)")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    return fig


SOURCE_MARKERS = {"startup": ("s", "tab:gray"), "random": ("o", "tab:orange"),
                  "model": ("*", "tab:blue"), "fallback": ("x", "tab:red")}


def trial_table(trials: pd.DataFrame) -> pd.DataFrame:
    """One search's ``trials.csv`` for reading: configuration label, where it came from,
    cost, epochs run, final validation PSNR/SSIM, time and status."""
    table = pd.DataFrame({
        "configuration": [SRConfig.of(r).label for r in trials.itertuples()],
        "source": trials["source"], "params (M)": trials["params"] / 1e6,
        "GFLOPs": trials["gflops"], "epochs": trials["epochs_done"],
        "val PSNR (dB)": trials["final_psnr"], "val SSIM": trials["final_ssim"],
        "time (s)": trials["duration_s"], "status": trials["status"]})
    table.index = pd.RangeIndex(1, len(table) + 1, name="trial")
    return for_reading(table, 3)


def search_candidates(trials: pd.DataFrame, title: str) -> plt.Figure:
    """One search: (a) validation PSNR after every epoch, one line per candidate (the
    simultaneous train-evaluation), (b) GFLOPs against the final PSNR of the finished ones."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4))
    for r in trials[trials["status"].isin(["SUCCEEDED", "EARLY_STOPPED"])].itertuples():
        curve = json.loads(r.epoch_psnr)
        a.plot(range(1, len(curve) + 1), curve, marker="o", label=SRConfig.of(r).label)
    a.set(xlabel="epoch", ylabel="validation PSNR (dB)", title=f"(a) {title}: candidates")
    a.legend(fontsize=7, ncol=2)
    ok = trials[trials["status"] == "SUCCEEDED"]
    b.scatter(ok["gflops"], ok["final_psnr"])
    for r in ok.itertuples():
        b.annotate(SRConfig.of(r).label, (r.gflops, r.final_psnr), fontsize=7)
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
        ax.annotate(f"({r.res_channels},{r.n_res_blocks},{r.up_channels})",
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


def load_bench(bench: str | Path) -> tuple[list[dict], dict]:
    """The result rows and the provenance of a stored ``hofvsr bench --out`` file."""
    data = json.loads(Path(bench).read_text())
    return data["results"], data["provenance"]


def bench_device(rows: list[dict], provenance: dict) -> str:
    """The machine a bench file was measured on, in words."""
    machine = provenance["machine"]
    if any(r.get("device", "").startswith("cuda") for r in rows):
        return machine.get("gpu", "GPU")
    threads = next((r["threads"] for r in rows if "threads" in r), machine.get("torch_threads"))
    return f"{machine.get('cpu_count')}-core CPU, {threads} threads"


def network_speed_table(rows: list[dict]) -> pd.DataFrame:
    """Frames/s of each network per input size (rows) and optimisation (columns), the
    paper's GTX 1080Ti figure beside the 36x36 rows; the common best variant is marked with
    an asterisk in its row label's ``best`` column."""
    nets = [r for r in rows if "variants_fps" in r]
    table = pd.DataFrame(
        [{"input": r.get("input", "36x36x1x3").split("x1x3")[0], "network": r["model"],
          **r["variants_fps"], "best": r["optimisation"],
          "paper (GTX 1080Ti)": TABLE3.loc[r["model"], "fps"]
          if r.get("input", "36x36x1x3").startswith("36x36") else np.nan} for r in nets])
    return table.set_index(["input", "network"])


def network_speed_ratios(rows: list[dict]) -> pd.DataFrame:
    """HO-FVSR's speed against each baseline per input size and variant, the paper's
    ratios beside them."""
    table = network_speed_table(rows)
    variants = [c for c in table.columns if c not in ("best", "paper (GTX 1080Ti)")]
    out = []
    for size, block in table.groupby(level="input", sort=False):
        block = block.droplevel("input")
        for base in ("TIP-2020", "ACCV-2018"):
            row = {"input": size, "ratio": f"HO-FVSR / {base}"}
            row.update({v: block.loc["HO-FVSR", v] / block.loc[base, v] for v in variants})
            row["paper"] = TABLE3.loc["HO-FVSR", "fps"] / TABLE3.loc[base, "fps"]
            out.append(row)
    return pd.DataFrame(out).set_index(["input", "ratio"])


def pipeline_table(rows: list[dict]) -> pd.DataFrame:
    """Milliseconds per frame of each enhance-pipeline stage (the decode, detect and encode
    threads overlap the rest), frames/s, and the share of the time spent outside the
    network."""
    pipes = [r for r in rows if r.get("model", "").startswith("pipeline")]
    if not pipes:
        return pd.DataFrame(index=pd.Index([], name="pipeline"))
    table = pd.DataFrame([
        {"pipeline": f"{r['model'].removeprefix('pipeline ')}"
                     + (" fp16" if r.get("half") else ""),
         "video": r["video"], "face crop (px)": round(r["mean_face_crop"]),
         **{s: r.get(f"{s}_ms", np.nan) for s in PIPELINE_STAGES},
         "wall": r.get("wall_ms", np.nan), "frames/s": r["fps"],
         "outside network": r.get("outside_network_share", np.nan)} for r in pipes])
    return table.set_index("pipeline")


def cadence_table(rows: list[dict]) -> pd.DataFrame:
    """Face detection every k-th frame against every frame, per clip."""
    table = pd.DataFrame([r for r in rows if "detect_every" in r])
    if table.empty:
        return table
    table = table.rename(columns={"detect_ms_per_frame": "detector ms/frame",
                                  "iou_vs_every_frame": "IoU with every frame",
                                  "jitter_percent": "jitter (% of side)"})
    return table.set_index(["video", "detect_every"])[
        ["detector ms/frame", "IoU with every frame", "jitter (% of side)"]]


def speed_figure(bench: str | Path) -> plt.Figure:
    """A stored ``hofvsr bench --out`` file: (a) frames/s of the three networks at 36x36
    under every variant, the paper's (GTX 1080Ti) marked, (b) milliseconds per frame of each
    stage of the enhance pipeline."""
    rows, provenance = load_bench(bench)
    table = network_speed_table(rows)
    nets = table.xs("36x36", level="input")
    variants = [c for c in nets.columns if c not in ("best", "paper (GTX 1080Ti)")]
    pipes = pipeline_table(rows)
    fig, axes = plt.subplots(1, 2 if len(pipes) else 1, figsize=(13 if len(pipes) else 7, 4.2),
                             squeeze=False)
    ax, x = axes[0, 0], np.arange(len(nets))
    width = 0.8 / len(variants)
    for i, v in enumerate(variants):
        ax.bar(x + i * width, nets[v], width, label=v)
    centre = x + 0.4 - width / 2
    ax.scatter(centre, nets["paper (GTX 1080Ti)"], marker="_", s=600, color="k",
               label="paper (GTX 1080Ti)")
    ax.set_xticks(centre, nets.index)
    ax.set_ylabel("frames / s (36x36x1x3, batch 1)")
    ax.set_ylim(0, 1.35 * float(max(nets[variants].max().max(),
                                    nets["paper (GTX 1080Ti)"].max())))
    ax.legend(fontsize=8, ncol=3, loc="upper left")
    ax.set_title(f"(a) {bench_device(rows, provenance)}; best for all three: "
                 f"{nets['best'].iloc[0]}", fontsize=10)
    if len(pipes):
        ax = axes[0, 1]
        stages = [c for c in (*PIPELINE_STAGES, "wall") if c in pipes and pipes[c].notna().any()]
        x, width = np.arange(len(stages)), 0.8 / len(pipes)
        for i, (name, r) in enumerate(pipes.iterrows()):
            ax.bar(x + i * width, [r[s] if r[s] > 0 else np.nan for s in stages], width,
                   label=f"{name}, {r['video']}, {r['frames/s']:.2f} frames/s")
        ax.set_xticks(x + 0.4 - width / 2, [s if s != "wall" else "wall\n(per frame)"
                                             for s in stages])
        ax.set_yscale("log")
        ax.axhline(40, color="grey", ls="--", label="25 frames/s")
        ax.set_ylabel("ms per frame (log)")
        ax.set_title("(b) enhance pipeline per stage (decode, detect, encode: own threads)",
                     fontsize=10)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def speed_markdown(benches: list[str | Path]) -> str:
    """The README's speed tables, rendered from stored ``hofvsr bench --out`` files: frames/s
    per network, input and variant (the paper's beside), HO-FVSR's ratios, and the pipeline
    per stage."""
    parts = []
    for bench in benches:
        rows, prov = load_bench(bench)
        load = prov["machine"].get("load_average")
        parts.append(f"**{bench_device(rows, prov)}** (`{Path(bench).name}`, "
                     f"{prov['started'][:10]}, torch {prov['versions']['torch']}"
                     + (f", load average {load[0]:.1f}" if load else "") + ")"
                     + (f": {prov['note']}." if prov.get("note") else ":"))
        table = network_speed_table(rows).reset_index()
        table["best"] = table["best"].map(lambda v: f"**{v}**")
        parts.append(_markdown(table, ".1f"))
        parts.append(_markdown(network_speed_ratios(rows).reset_index(), ".2f"))
        pipes = pipeline_table(rows).reset_index()
        if len(pipes):
            share = pipes.pop("outside network")
            pipes["outside network"] = [None if np.isnan(v) else f"{v:.0%}" for v in share]
            parts.append(_markdown(pipes, tuple(".2f" if c == "frames/s" else ".1f"
                                                for c in pipes.columns)))
    return "\n\n".join(parts) + "\n"


def for_reading(table: pd.DataFrame, digits: int = 2) -> pd.DataFrame:
    """``table`` rounded to ``digits``, with "—" where there is no value (not NaN)."""
    return table.round(digits).astype(object).where(table.notna(), "—")


def table2_column(table: pd.DataFrame, search: str) -> pd.DataFrame:
    """One search's row of Table 2 (``search.records.table2``) as a column, for reading."""
    seconds = [c for c in table.columns if c.endswith("_time_s")]  # shown as "6m38s" too
    return for_reading(table.set_index("search").drop(columns=seconds), 2).loc[[search]].T


def by_configuration(table: pd.DataFrame, digits: int = 2) -> pd.DataFrame:
    """``table`` for reading, indexed by the configuration label "(c, n, u)" instead of its
    three columns."""
    fields = [f.name for f in dataclasses.fields(SRConfig)]
    labels = pd.Index([SRConfig.of(r).label for r in table.to_dict("records")],
                      name="configuration")
    return for_reading(table.drop(columns=fields).set_index(labels), digits)


def _markdown(table: pd.DataFrame, floatfmt: str | tuple[str, ...]) -> str:
    """A Markdown table, "—" where there is no value."""
    table = table.astype(object).where(table.notna(), None)
    return table.to_markdown(index=False, floatfmt=floatfmt, missingval="—")


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


def training_cost_table(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """A stored ``benchmarks/training_cost.py --out`` file: one row per training stage
    (milliseconds per step, steps in the profile, hours), and the whole-profile estimate in
    hours (searches: 3 strategies, trials averaged over the smallest, the paper's and the
    largest network of the space; evaluation passes left out)."""
    data = json.loads(Path(path).read_text())
    table = pd.DataFrame(data["stages"]).set_index("stage")
    table["ms_per_step"] = 1000 * table.pop("step_s")
    columns = ["ms_per_step", "steps_in_profile", "hours_in_profile"]
    estimate = {k: round(v, 1) for k, v in data["estimate"].items() if k.endswith("_h")}
    device = data["provenance"]["machine"].get("gpu") or data["device"]
    return table[columns].round(2), {"profile": data["profile"], "device": device, **estimate}
