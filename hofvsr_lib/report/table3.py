"""Table 3 and Figure 7 measured here: complexity, speed and quality of the trained networks.

Quality comes from the per-window test scores of the final training
(``results/final/<variant>_scores.csv``, every seed) through :mod:`hofvsr_lib.stats`, with two
95% intervals each: *these persons* (columns ``psnr``, ``psnr_lo``, ``psnr_hi``...: the mean
over the test persons' windows and seeds, a bootstrap over sequences within each person and
over seeds, conditional on the test persons) and *new faces* (columns ``psnr_newfaces``,
``psnr_newfaces_lo``, ``psnr_newfaces_hi``...: the mean over persons, a t-interval over persons
and seeds). Beside them: per-person means, the gain over bicubic and the paired differences
HO-FVSR (64, 5, 64) minus each network in PSNR and SSIM (``ho_minus_db``, ``ho_minus_ssim``).
A difference is taken only against the HO-FVSR run of the same protocol, budget (steps, batch)
and seeds (``ho_reference`` names it; no difference where there is none). Its verdict
(``ho_verdict``, ``gain_verdict``) is the new-faces interval's: "undecided" unless it excludes
zero; the verdict on these persons alone is kept beside it (``*_verdict_these_persons``).
Every row carries its budget (``steps``, ``batch_size``, ``seeds``). Complexity and speed are
measured once on the first seed's checkpoints (params, GFLOPs with ptflops at 36x36x1x3,
latency/FPS at batch 1 timed interleaved, ``results/table3_speed.json``) and kept: a re-render
never re-times on a busy machine. ``render_figure7`` runs the networks on the same test crops.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import torch

from .. import stats
from ..atomic import replacing, write_json
from ..complexity import count_params, gflops, measure_latencies
from ..data.dataset import FaceWindows
from ..metrics import psnr, shave_border
from ..models import OFRNet, build_model, load_checkpoint
from ..paper import TABLE3 as PAPER
from ..provenance import run_provenance
from ..training.final import final_records, read_scores
from ..training.loops import evenly_spaced

HO = "hofvsr_64_5_64"


VERDICTS = {"higher": "HO-FVSR better", "lower": "HO-FVSR worse",
            "undecided": "undecided (CI holds 0)"}  # of "HO-FVSR minus a network"


def _main_runs(results: Path) -> dict[str, dict]:
    """variant -> the record of its first seed: the networks, then the ablations of HO-FVSR,
    then the whole-network search's picks, then the joint runs."""
    runs: dict[str, dict] = {}
    for rec in sorted(final_records(results), key=lambda r: (r["seed"], r["run"])):
        runs.setdefault(rec["variant"], rec)
    order = ["hofvsr_", "tip", "accv", "edsr", "fsrcnn"]

    def rank(v: str) -> tuple:
        rec = runs[v]
        return (rec["protocol"] == "joint", rec.get("pick", False), v != rec["key"], v != HO,
                next(i for i, p in enumerate(order) if v.startswith(p)), v)
    return {v: runs[v] for v in sorted(runs, key=rank)}


def _network_runs(results: Path) -> dict[str, dict]:
    """The networks' own runs (no joint copy, no ablation): those timed and shown in Figure 7."""
    return {v: r for v, r in _main_runs(results).items() if v == r["key"]}


def reference(record: dict) -> str:
    """The HO-FVSR variant a run is compared with: the one of its protocol and budget."""
    return (HO + ("_joint" if record["protocol"] == "joint" else "")
            + ("_long" if record.get("long") else ""))


def budget(record: dict, seeds: list[int]) -> dict:
    """A run's training budget: protocol, SR steps, batch size and the variant's seeds."""
    return {"protocol": record["protocol"], "steps": record["epochs"] * record["iters_per_epoch"],
            "batch_size": record["batch_size"], "seeds": sorted(int(s) for s in seeds)}


def budget_label(steps: int, batch_size: int, seeds: int, persons: int,
                 protocol: str = "cached") -> str:
    """How much evidence a verdict rests on, e.g. "400 SR steps at batch 16, 3 seeds, on 3
    test persons" ("joint steps" for a jointly trained network)."""
    kind = "joint" if protocol == "joint" else "SR"
    return (f"{steps:,} {kind} steps at batch {batch_size}, {seeds} seed{'s' * (seeds != 1)}, "
            f"on {persons} test persons")


def measure_speed(results: str | Path, repeats: int = 50, warmup: int = 10,
                  force: bool = False) -> dict:
    """Params, GFLOPs and batch-1 speed of each network (first seed's checkpoint) and of
    bicubic; measured once into ``results/table3_speed.json`` and read back afterwards."""
    results = Path(results)
    path = results / "table3_speed.json"
    runs = _network_runs(results)
    if path.is_file() and not force:
        stored = json.loads(path.read_text())
        if set(runs) <= set(stored["networks"]):
            return stored
    models = {v: load_checkpoint(results / "checkpoints" / f"{r['run']}.pt")[0]
              for v, r in runs.items()}
    speed = measure_latencies({**models, "bicubic": build_model("bicubic")},
                              torch.rand(1, 3, 1, 36, 36), repeats, warmup)
    networks = {v: {"params": count_params(m), "gflops": gflops(m),
                    "speed_s": speed[v]["latency_s"], "fps": speed[v]["fps"]}
                for v, m in models.items()}
    networks["bicubic"] = {"params": 0, "gflops": 0.0, "speed_s": speed["bicubic"]["latency_s"],
                           "fps": speed["bicubic"]["fps"]}
    data = {"networks": networks, "load_average": os.getloadavg(), "input": "1x3x1x36x36",
            "repeats": repeats,
            "warmup": warmup, "timing": "interleaved", "threads": speed["bicubic"]["threads"],
            "provenance": run_provenance(None)}
    write_json(path, data)
    return data


def _interval(prefix: str, result: dict) -> dict:
    """``prefix`` (these persons) and ``prefix_newfaces`` columns: means and interval bounds."""
    faces = result["new_faces"]
    return {prefix: result["mean"], f"{prefix}_lo": result["ci"][0],
            f"{prefix}_hi": result["ci"][1], f"{prefix}_newfaces": faces["mean"],
            f"{prefix}_newfaces_lo": faces["ci"][0], f"{prefix}_newfaces_hi": faces["ci"][1]}


def _difference(prefix: str, verdict: str, result: dict) -> dict:
    """A paired difference's columns: both intervals and both verdicts."""
    return {**_interval(prefix, result), verdict: result["verdict"],
            f"{verdict}_these_persons": result["verdict_these_persons"]}


def _ho_minus(ho: pd.DataFrame, scores: pd.DataFrame | None) -> tuple[dict, dict]:
    """HO-FVSR minus a network (``None``: bicubic) in PSNR and SSIM: the table's columns
    (both intervals, verdicts) and the two :func:`stats.paired` results."""
    psnr, ssim = stats.paired(ho, scores), stats.paired(ho, scores, "ssim")
    return ({**_difference("ho_minus_db", "ho_verdict", psnr),
             **_difference("ho_minus_ssim", "ho_ssim_verdict", ssim)},
            {"psnr": psnr, "ssim": ssim})


def measure_table3(results: str | Path, profile: str) -> pd.DataFrame:
    """Table 3 with uncertainty: ``results/table3.csv`` (one row per network variant) and
    ``table3.json`` (the same with per-person and per-seed means and the test set's size).
    Labelled with the profile that trained the runs (``profile`` when they disagree): a
    re-render by another profile does not relabel them."""
    results = Path(results)
    trained_by = {r["provenance"]["profile"] for r in final_records(results)}
    profile = trained_by.pop() if len(trained_by) == 1 else profile
    runs = _main_runs(results)
    if HO not in runs:
        raise FileNotFoundError(f"no final-training record of {HO} in {results / 'final'}")
    speed = measure_speed(results)["networks"]
    scores = {v: read_scores(results, v) for v in runs}
    budgets = {v: budget(rec, scores[v]["seed"].unique()) for v, rec in runs.items()}
    rows, details = [], {}
    for variant, rec in runs.items():
        p, q = stats.summary(scores[variant], "psnr"), stats.summary(scores[variant], "ssim")
        gain = stats.paired(scores[variant])
        ref = reference(rec)
        row = {"model": rec["display"], "variant": variant, **budgets[variant],
               "seeds": p["n_seeds"], **speed.get(variant, {}), **_interval("psnr", p),
               **_interval("ssim", q), **_difference("gain_db", "gain_verdict", gain)}
        details[variant] = {"psnr": p, "ssim": q, "gain_over_bicubic": gain,
                            "epochs": rec["epochs"], "iters_per_epoch": rec["iters_per_epoch"],
                            "batch_size": rec["batch_size"], "budget": budgets[variant]}
        if variant != ref and budgets.get(ref) == budgets[variant]:
            columns, details[variant]["ho_minus"] = _ho_minus(scores[ref], scores[variant])
            row.update({"ho_reference": ref, **columns})
        row.update({f"psnr_{k}": v for k, v in p["per_person"].items()})
        rows.append(row)
    ho = scores[HO]
    bic = ho[ho["seed"] == ho["seed"].min()].assign(psnr=lambda d: d["bicubic_psnr"],
                                                     ssim=lambda d: d["bicubic_ssim"])
    p, q = stats.summary(bic, "psnr"), stats.summary(bic, "ssim")
    columns, minus = _ho_minus(ho, None)
    details["bicubic"] = {"psnr": p, "ssim": q, "ho_minus": minus}
    rows.append({"model": "Bicubic", "variant": "bicubic", "protocol": "", "seeds": 0,
                 **speed["bicubic"], **_interval("psnr", p), **_interval("ssim", q),
                 "ho_reference": HO, **columns,
                 **{f"psnr_{k}": v for k, v in p["per_person"].items()}})
    table = pd.DataFrame(rows)
    measured = json.loads(json.dumps({
        "rows": rows, "details": details, "test": {
            "persons": sorted(ho["person"].unique()), "sequences": int(ho["sequence"].nunique()),
            "windows": int(len(ho) / ho["seed"].nunique())},
        "confidence": stats.CONFIDENCE, "bootstrap": stats.N_BOOT}, default=str))
    stored = results / "table3.json"
    old = json.loads(stored.read_text()) if stored.is_file() else {}
    if {k: old.get(k) for k in measured} != measured:  # a re-render changes nothing
        with replacing(results / "table3.csv") as tmp:
            table.to_csv(tmp, index=False, float_format="%.10g")
        write_json(stored, {**measured, "provenance": run_provenance(profile)})
    return table


def render_figure7(results: str | Path, data: str | Path, n_crops: int = 3) -> Path:
    """Figure 7: the same test face crops through bicubic, every network (first seed, main
    protocol), and HR."""
    results = Path(results)
    windows = evenly_spaced(FaceWindows(data, "test"), n_crops)
    models = [("Bicubic", build_model("bicubic"))]
    for rec in _network_runs(results).values():
        models.append((rec["display"],
                       load_checkpoint(results / "checkpoints" / f"{rec['run']}.pt")[0]))
    fig, axes = plt.subplots(len(windows), len(models) + 1,
                             figsize=(1.9 * (len(models) + 1), 2.3 * len(windows)),
                             squeeze=False)
    shave = shave_border(4)
    for row, (lr, hr) in enumerate(windows):
        with torch.inference_mode():
            outputs = [(name, m.eval()(lr[None]).clamp(0, 1)[0, 0].numpy()) for name, m in models]
        for col, (name, img) in enumerate([*outputs, ("HR", hr[0].numpy())]):
            ax = axes[row, col]
            ax.imshow(img, cmap="gray", vmin=0, vmax=1)
            label = name if name == "HR" else f"{name}\n{psnr(img, hr, shave):.2f} dB"
            ax.set_title(label, fontsize=7)
            ax.axis("off")
    fig.tight_layout()
    path = results / "figures" / "figure7.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def read_table3(results: str | Path) -> tuple[pd.DataFrame, dict]:
    """``results/table3.csv`` and ``table3.json``."""
    results = Path(results)
    return pd.read_csv(results / "table3.csv"), json.loads((results / "table3.json").read_text())


def interval_text(row: pd.Series, prefix: str, digits: int = 3, sign: bool = True,
                  faces: bool = False) -> str:
    """``mean [lo, hi]`` of a table3 column (``faces``: its new-faces interval), "—" if none."""
    key = f"{prefix}_newfaces" if faces else prefix
    if key not in row or pd.isna(row[key]):
        return "—"
    return format_interval(row[key], row[f"{key}_lo"], row[f"{key}_hi"], digits, sign)


def format_interval(mean: float, lo: float, hi: float, digits: int = 3,
                    sign: bool = True) -> str:
    """``mean [lo, hi]`` ("no interval" when its bounds are NaN)."""
    f = f"{'+' if sign else ''}.{digits}f"
    bounds = "no interval" if pd.isna(lo) else f"{lo:{f}}, {hi:{f}}"
    return f"{mean:{f}} [{bounds}]"


def row_budget(row: pd.Series, info: dict) -> str:
    """:func:`budget_label` of a table3 row."""
    return budget_label(int(row["steps"]), int(row["batch_size"]), int(row["seeds"]),
                        len(info["test"]["persons"]), row["protocol"])


def table3_with_paper(results: str | Path) -> pd.DataFrame:
    """Our Table 3 (``results/table3.csv``, test persons, both 95% intervals) beside the
    paper's: one row per network, the paper's values in ``..., paper`` columns ('' where it
    has none)."""
    ours, _ = read_table3(results)
    ours = ours.set_index("model", drop=False)
    paper = PAPER.rename(index={"HO-FVSR": "HO-FVSR (64, 5, 64)"})
    rows = [r for _, r in ours.iterrows()]
    out = pd.DataFrame({
        "network": ours["model"], "seeds": ours["seeds"],
        "params (M)": (ours["params"] / 1e6).round(3),
        "params (M), paper": ours["model"].map(paper["params_M"]),
        "GFLOPs": ours["gflops"].round(3), "GFLOPs, paper": ours["model"].map(paper["gflops"]),
        "FPS": ours["fps"].round(1), "FPS, paper": ours["model"].map(paper["fps"]),
        "PSNR (dB) [95% CI, these persons]": [interval_text(r, "psnr", 2, False) for r in rows],
        "PSNR, mean of persons [95% CI, new faces]": [interval_text(r, "psnr", 2, False, True)
                                                      for r in rows],
        "PSNR, paper": ours["model"].map(paper["psnr"]),
        "SSIM [95% CI, these persons]": [interval_text(r, "ssim", 4, False) for r in rows],
        "SSIM [95% CI, new faces]": [interval_text(r, "ssim", 4, False, True) for r in rows],
        "SSIM, paper": ours["model"].map(paper["ssim"]),
    })
    return out.astype(object).fillna("").set_index("network")


def verdict_text(table: pd.DataFrame, row: pd.Series, info: dict,
                 words: dict[str, str] = VERDICTS) -> str:
    """A table3 row's verdict on HO-FVSR minus it, in ``words``, with the budget of the
    HO-FVSR run it was compared with (``table``: table3.csv) and, where it differs, the
    verdict on these persons alone."""
    ref = table.set_index("variant").loc[row["ho_reference"]]
    final, alone = row["ho_verdict"], row["ho_verdict_these_persons"]
    text = f"{words[final]}, at {row_budget(ref, info)}"
    if ref["seeds"] < 2:
        text += " (1 seed: the intervals hold no training variation)"
    return text + (f"; on these persons alone: {words[alone]}" if alone != final else "")


def differences(results: str | Path) -> pd.DataFrame:
    """HO-FVSR (64, 5, 64) minus each network on the same test windows, against the HO-FVSR
    run of the same protocol, budget and seeds (PSNR, dB, both 95% intervals), its verdict
    (new faces), the verdict on these persons alone, and the budget it holds at."""
    full, info = read_table3(results)
    names = dict(zip(full["variant"], full["model"], strict=True))
    by_variant = full.set_index("variant")
    t = full[full["ho_reference"].notna()]
    rows = [r for _, r in t.iterrows()]
    return pd.DataFrame({
        "network": t["model"], "against": t["ho_reference"].map(names),
        "PSNR difference (dB), these persons": [interval_text(r, "ho_minus_db") for r in rows],
        "new faces": [interval_text(r, "ho_minus_db", faces=True) for r in rows],
        "verdict (new faces)": t["ho_verdict"].map(VERDICTS),
        "on these persons alone": t["ho_verdict_these_persons"].map(VERDICTS),
        "at": [row_budget(by_variant.loc[r["ho_reference"]], info) for r in rows],
    }).set_index("network")


def evidence(results: str | Path) -> pd.DataFrame:
    """Every network's budget, test PSNR, gain over bicubic and HO-FVSR minus it (against the
    HO-FVSR run of its protocol, budget and seeds), each with both intervals, and the verdict,
    for reading ("—" where a value does not apply)."""
    t, info = read_table3(results)
    names = dict(zip(t["variant"], t["model"], strict=True))
    rows = [r for _, r in t.iterrows()]
    steps = [f"{int(r['steps']):,}" if pd.notna(r.get("steps")) else "—" for r in rows]
    return pd.DataFrame({
        "network": t["model"], "protocol": t["protocol"].fillna("—"), "steps": steps,
        "seeds": t["seeds"],
        "PSNR (dB), these persons": [interval_text(r, "psnr", sign=False) for r in rows],
        "PSNR (dB), new faces": [interval_text(r, "psnr", sign=False, faces=True) for r in rows],
        "gain over bicubic (dB), new faces": [interval_text(r, "gain_db", faces=True)
                                              for r in rows],
        "HO-FVSR minus it (dB), these persons": [interval_text(r, "ho_minus_db") for r in rows],
        "HO-FVSR minus it (dB), new faces": [interval_text(r, "ho_minus_db", faces=True)
                                             for r in rows],
        "against": t["ho_reference"].map(names).fillna("—"),
        "verdict": [VERDICTS[r["ho_verdict"]] if pd.notna(r.get("ho_verdict")) else "—"
                    for r in rows],
    }).set_index("network")


def per_seed(results: str | Path) -> pd.DataFrame:
    """Test PSNR of every final run, one column per seed ("—" where a network has no run)."""
    rows: dict[str, dict[str, float]] = {}
    for rec in final_records(results):
        rows.setdefault(rec["display"], {})[f"seed {rec['seed']}"] = f"{rec['psnr']:.3f}"
    return pd.DataFrame(rows).T.fillna("—").rename_axis("network")


def per_person(results: str | Path) -> pd.DataFrame:
    """Mean test PSNR per person of every network (all seeds)."""
    t, info = read_table3(results)
    cols = [f"psnr_{p}" for p in info["test"]["persons"]]
    return t.set_index("model")[cols].rename(columns=lambda c: c[len("psnr_"):]).round(2)


def discussion(results: str | Path) -> str:
    """Markdown statements, computed from ``results/table3.*``, on where our measurements
    agree with the paper's Table 3 and where they do not."""
    full, info = read_table3(results)
    t = full.set_index("variant", drop=False)
    prov, test = info["provenance"], info["test"]
    ho, tip, accv = (t.loc[k] for k in (HO, "tip", "accv"))
    ofr = count_params(OFRNet())
    lines = [
        f"*Measured with profile `{prov['profile']}`: {row_budget(ho, info)} "
        f"({ho['protocol']} protocol; {', '.join(test['persons'])}: {test['sequences']} "
        f"sequences, {test['windows']} windows, people never seen in training or validation). "
        "Two 95% intervals: *these persons* (a bootstrap over sequences within each person and "
        "over seeds: how the networks do on these people) and *new faces* (a t-interval over "
        "the persons' means and the seeds' means: what the test persons say about faces not "
        "among them). A verdict needs the new-faces interval to exclude zero.*",
        "",
        f"* **Size agrees exactly.** HO-FVSR has {int(ho['params']):,} parameters, "
        f"{ho['params'] / tip['params']:.0%} of TIP-2020's and {ho['params'] / accv['params']:.0%}"
        f" of ACCV-2018's (paper: 0.50 M, 1.05 M, 1.64 M); {ho['gflops']:.2f} against "
        f"{tip['gflops']:.2f} and {accv['gflops']:.2f} GFLOPs (paper: 2.02, 2.74, 2.55).",
        f"* **HO-FVSR against bicubic:** {interval_text(ho, 'gain_db', 2)} dB PSNR on these "
        f"persons, {interval_text(ho, 'gain_db', 2, faces=True)} for new faces "
        f"({ho['psnr']:.2f} dB against {t.loc['bicubic', 'psnr']:.2f} dB).",
    ]
    words = {"higher": "HO-FVSR is better", "lower": "HO-FVSR is worse",
             "undecided": "undecided: the interval holds zero"}
    for key, name in (("tip", "TIP-2020"), ("accv", "ACCV-2018")):
        r = t.loc[key]
        paper_gap = PAPER.loc["HO-FVSR", "psnr"] - PAPER.loc[name, "psnr"]
        lines.append(f"* **HO-FVSR minus {name}:** {interval_text(r, 'ho_minus_db')} dB on "
                     f"these persons, {interval_text(r, 'ho_minus_db', faces=True)} for new "
                     f"faces: {verdict_text(full, r, info, words)} (paper: {paper_gap:+.2f} dB).")
    lines.append(
        "* HO-FVSR and TIP-2020 share one pretrained, frozen flow net in the cached protocol, "
        f"so their gap is their SR nets' alone ({int(ho['params']) - ofr:,} against "
        f"{int(tip['params']) - ofr:,} parameters); the joint rows train each flow net with "
        "its own SR net.")
    speed = sorted((("HO-FVSR", ho), ("TIP-2020", tip), ("ACCV-2018", accv)),
                   key=lambda kv: -kv[1]["fps"])
    paper_speed = " > ".join(f"{n} ({PAPER.loc[n, 'fps']:.2f})"
                             for n in PAPER["fps"].sort_values(ascending=False).index)
    lines.append(
        f"* **Speed:** {' > '.join(f'{n} ({r.fps:.1f} FPS)' for n, r in speed)} here; paper "
        f"(GTX 1080Ti): {paper_speed}. HO-FVSR is "
        f"{ho['fps'] / tip['fps']:.2f}x TIP-2020 here (paper {_paper_ratio('TIP-2020')}) and "
        f"{ho['fps'] / accv['fps']:.2f}x ACCV-2018 (paper {_paper_ratio('ACCV-2018')}). "
        "FLOPs do not decide speed "
        "on a CPU: the depthwise and 1x1 convolutions of the TIP/HO family run far below the "
        "dense 3x3 convolutions of ACCV-2018 (see the benchmark in the face-video chapter).")
    lines += _gpu_speed(Path(results))
    return "\n".join(lines)


def _paper_ratio(baseline: str) -> str:
    """HO-FVSR's frames/s over a baseline's in the paper's Table 3, e.g. ``1.14x``."""
    return f"{PAPER.loc['HO-FVSR', 'fps'] / PAPER.loc[baseline, 'fps']:.2f}x"


def _gpu_speed(results: Path) -> list[str]:
    """The Table 3 networks' speed on a GPU, when ``results/bench/bench_cuda.json`` exists."""
    from .speed import bench_device, load_bench, network_speed_table

    path = results / "bench" / "bench_cuda.json"
    if not path.is_file():
        return []
    rows, provenance = load_bench(path)
    table = network_speed_table([r for r in rows if r.get("device") == "cuda"])
    if "36x36" not in table.index.unique("input"):
        return []
    table = table.xs("36x36", level="input")
    best = table["best"].iloc[0]
    fps = table[best]
    gain = fps["HO-FVSR"] / table.loc["HO-FVSR", "eager"]
    ranked = fps.sort_values(ascending=False)
    order = " > ".join(f"{name} ({value:.0f} FPS)" for name, value in ranked.items())
    same = list(ranked.index) == ["HO-FVSR", "TIP-2020", "ACCV-2018"]
    return [f"* **Speed on a GPU** ({bench_device(rows, provenance)}, "
            f"`{path.relative_to(results)}` in the results, variant {best}): {order}; "
            + ("the paper's order. " if same else "not the paper's order. ")
            + f"HO-FVSR is {fps['HO-FVSR'] / fps['TIP-2020']:.2f}x TIP-2020 (paper "
            f"{_paper_ratio('TIP-2020')}) and {fps['HO-FVSR'] / fps['ACCV-2018']:.2f}x "
            f"ACCV-2018 (paper {_paper_ratio('ACCV-2018')}). At batch 1 and 36x36 this GPU is "
            "bound by per-operation overhead rather than by FLOPs (the best variant runs "
            f"HO-FVSR {gain:.1f}x faster than eager), so the gaps shrink."]


def readme_markdown(results: str | Path) -> str:
    """The README's evidence block: what the committed run is, and one row per network with
    its budget, both intervals, HO-FVSR minus it and the verdict (from ``results/table3.*``)."""
    t, info = read_table3(results)
    test, prov = info["test"], info["provenance"]
    ho = t.set_index("variant").loc[HO]
    names = dict(zip(t["variant"], t["model"], strict=True))
    rows = [r for _, r in t.iterrows()]
    table = pd.DataFrame({
        "network": t["model"],
        "protocol, steps, seeds": [
            f"{r['protocol']}, {int(r['steps']):,}, {int(r['seeds'])}" if pd.notna(r["steps"])
            else "—" for r in rows],
        "PSNR (dB), these persons": [interval_text(r, "psnr", 2, False) for r in rows],
        "PSNR (dB), new faces": [interval_text(r, "psnr", 2, False, True) for r in rows],
        "SSIM, these persons": [interval_text(r, "ssim", 4, False) for r in rows],
        "HO-FVSR minus it (dB), these persons": [interval_text(r, "ho_minus_db", 2)
                                                 for r in rows],
        "new faces": [interval_text(r, "ho_minus_db", 2, faces=True) for r in rows],
        "against": t["ho_reference"].map(names).fillna("—"),
        "verdict": [VERDICTS[r["ho_verdict"]] if pd.notna(r["ho_verdict"]) else "—"
                    for r in rows],
    })
    intro = (f"The committed run (`results/table3.csv`, profile `{prov['profile']}`; HO-FVSR "
             f"and the networks beside it: {row_budget(ho, info)} never seen in training, "
             f"search or validation ({test['sequences']} sequences, {test['windows']} "
             "windows); each difference against the HO-FVSR run of the same protocol, budget "
             "and seeds; 95% intervals *on these persons* (a bootstrap over sequences within "
             "each person and over seeds) and *for new faces* (a t-interval over the persons' "
             "and the seeds' means), a verdict only where the new-faces interval excludes 0; "
             "**CPU-scale**, not the paper's budget):")
    return intro + "\n\n" + table.to_markdown(index=False) + "\n"
