"""The measured speed, read from ``results/bench/*.json`` only (no compute): the networks
under every optimisation and the enhance pipeline per stage (``hofvsr bench``), the README's
speed tables, and what each training stage of a profile costs (``benchmarks/training_cost.py``).
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..paper import TABLE3
from ..vocabulary import PIPELINE_STAGES
from .figures import for_reading

# the whole-profile estimates of benchmarks/training_cost.py, as the book names them
ESTIMATE_LABELS = {"search_cached_h": "three searches, cached trials (h)",
                   "search_joint_h": "three searches, joint trials (h)",
                   "final_h": "final training, five networks (h)"}


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


def time_split_table(rows: list[dict]) -> pd.DataFrame:
    """Where a video network's time goes: the median ms of its draft cube (flow net and warps)
    and of its SR net, eager, per input size, and the draft cube's share of the two."""
    split = [r for r in rows if "draft_cube_ms" in r]
    table = pd.DataFrame(
        [{"input": r.get("input", "36x36x1x3").split("x1x3")[0], "network": r["model"],
          "draft cube (ms)": r["draft_cube_ms"], "SR net (ms)": r["sr_ms"]} for r in split],
        columns=["input", "network", "draft cube (ms)", "SR net (ms)"])
    table["draft cube share (%)"] = 100 * table["draft cube (ms)"] / (
        table["draft cube (ms)"] + table["SR net (ms)"])
    return table.set_index(["input", "network"])


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
        parts.append(f"**{bench_device(rows, prov)}** (`{Path(bench).name}`, "
                     f"{_measured(prov)})" + (f": {prov['note']}." if prov.get("note") else ":"))
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


def _measured(provenance: dict) -> str:
    """When and with what a bench file was measured: date, torch, the load average."""
    load = provenance["machine"].get("load_average")
    return (f"{provenance['started'][:10]}, torch {provenance['versions']['torch']}"
            + (f", load average {load[0]:.1f}" if load else ""))


def _markdown(table: pd.DataFrame, floatfmt: str | tuple[str, ...]) -> str:
    """A Markdown table, "—" where there is no value."""
    table = table.astype(object).where(table.notna(), None)
    return table.to_markdown(index=False, floatfmt=floatfmt, missingval="—")


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


def bench_sections(bench: str | Path) -> list:
    """The speed chapter's section for one bench file, in reading order: a heading naming the
    machine and its load, the speed figure, then each table with its caption (IPython
    ``Markdown`` objects, figures and tables, for ``display``)."""
    from IPython.display import Markdown

    rows, prov = load_bench(bench)
    figure = speed_figure(bench)
    plt.close(figure)  # shown once, where it stands in the list
    items: list = [Markdown(
        f"### {bench_device(rows, prov)} (`{Path(bench).name}`)\n\n"
        f"Measured {_measured(prov)}" + (f". {prov['note']}" if prov.get("note") else ".")),
        figure]
    speeds, ratios = network_speed_table(rows), network_speed_ratios(rows)
    for size in speeds.index.unique("input"):
        items += [Markdown(f"**Frames/s per network and optimisation at {size}** (the paper's "
                           "on a GTX 1080Ti), and HO-FVSR's speed against each baseline"),
                  for_reading(speeds.xs(size, level="input").dropna(axis=1, how="all"), 1),
                  for_reading(ratios.xs(size, level="input").dropna(axis=1, how="all"))]
    warps = [r for r in rows if "torch_ms" in r]
    if warps:
        columns = [c for c in ("input", "torch_ms", "onnxruntime_ms") if c in warps[0]]
        items += [Markdown("**The 16 sub-pixel warps of one neighbour (`grid_sample`), ms**"),
                  for_reading(pd.DataFrame(warps).set_index("model")[columns])]
    pipes = pipeline_table(rows)
    if len(pipes):
        items += [Markdown(f"**Enhance pipeline on {', '.join(pipes['video'].unique())}, ms "
                           "per frame per stage** (decode, detect and encode in their own "
                           "threads; one column per pipeline)"),
                  _pipeline_for_reading(pipes)]
    cadence = cadence_table(rows)
    if len(cadence):
        items += [Markdown("**Face detection every k-th frame against every frame**"),
                  for_reading(cadence, 3)]
    return items


def _pipeline_for_reading(pipes: pd.DataFrame) -> pd.DataFrame:
    """:func:`pipeline_table` with one column per pipeline: ms to 0.1, frames/s to 0.01, the
    share outside the network in percent."""
    table = pipes.drop(columns=["video", "frames/s"]).assign(**{
        "outside network": 100 * pipes["outside network"]}).round(1)
    table.insert(len(table.columns) - 1, "frames/s", pipes["frames/s"])
    table = table.rename(columns={"outside network": "outside network (%)"})
    return for_reading(table, 2).T


def training_costs(results: str | Path) -> pd.DataFrame:
    """The whole-profile estimate of every ``results/bench/training_cost*.json``, one column
    per file (hours)."""
    costs = sorted(Path(results, "bench").glob("training_cost*.json"))
    table = pd.DataFrame({c.name: training_cost_table(c)[1] for c in costs})
    table.index = [ESTIMATE_LABELS.get(k, k) for k in table.index]
    return for_reading(table.rename_axis("estimate"), 1)
