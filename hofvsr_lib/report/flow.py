"""The book's "Does the flow net align?" section: the committed networks' flow nets measured.

:func:`measure_flow` (a reproduction step) takes every distinct flow net inside the committed
video checkpoints (``results/checkpoints``; seeds that share one flow net are measured once),
measures its HR warp error against zero motion and OpenCV's DIS flow on evenly spaced
validation and test windows of the dataset (:mod:`hofvsr_lib.training.flow_quality`), and
writes ``results/flow/flow_quality.json`` (with provenance), ``flow_quality.csv`` (one row per
flow net, split and person) and ``warp_example.png`` (a neighbour brought onto the centre by
each flow, with the error maps). The chapter renders those files and the flow nets' training
curves from the final runs' records.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from ..atomic import write_csv, write_json
from ..data.dataset import FaceWindows
from ..data.manifest import manifest_sha256
from ..devices import resolve_device
from ..models import DISPLAY_NAMES, build_model, load_checkpoint
from ..models.classical_flow import DISFlow
from ..models.common import flow_warp
from ..profiles import get_profile
from ..provenance import portable_path, run_provenance
from ..training.flow_quality import BORDER, flow_report
from ..training.loops import evenly_spaced

FOLDER = "flow"


def _flow_nets(checkpoints: Path) -> dict[str, dict]:
    """Distinct trained flow nets of the committed video checkpoints: weights hash ->
    {"model": a network holding it, "family" (its ``flow.kind``), "checkpoints": [names]}."""
    nets: dict[str, dict] = {}
    for path in sorted(checkpoints.glob("*.pt")):
        model, meta = load_checkpoint(path)
        if not hasattr(model, "ofr") or not list(model.ofr.parameters()):
            continue  # single-frame, or a parameter-free flow
        digest = hashlib.sha256(b"".join(
            v.numpy().tobytes() for v in model.ofr.state_dict().values())).hexdigest()[:12]
        entry = nets.setdefault(digest, {"model": model, "family": model.flow.kind,
                                         "checkpoints": []})
        entry["checkpoints"].append(path.name)
    return nets


def measure_flow(results_dir: str | Path, profile: str, data: str | Path | None = None) -> Path:
    """Measure the committed flow nets on ``data`` (default: the profile's dataset)."""
    from ..reproduce import default_dirs

    results = Path(results_dir)
    data = Path(data) if data is not None else default_dirs(profile)["data"]
    device = resolve_device()
    val_windows, test_windows = get_profile(profile).flow_check_windows
    windows = {"val": val_windows, "test": test_windows}
    out = results / FOLDER
    rows, nets = [], []
    found = _flow_nets(results / "checkpoints")
    for digest, net in found.items():
        report = flow_report(net["model"].ofr, str(data), windows, device)
        label = f"{DISPLAY_NAMES[net['family']]} flow net of " \
                f"{', '.join(c.removesuffix('.pt') for c in net['checkpoints'])}"
        nets.append({"flow_net": label, "weights": digest, "family": net["family"],
                     "checkpoints": net["checkpoints"], "splits": report})
        for split, r in report.items():
            rows += [{"flow_net": label, "split": split, **p} for p in r["per_person"]]
    write_csv(pd.DataFrame(rows), out / "flow_quality.csv")
    shown = sorted(found.values(), key=lambda n: n["family"] != "tip")  # HO-FVSR's first
    if shown:
        warp_example(shown[0]["model"].ofr, data, out / "warp_example.png",
                     f"{DISPLAY_NAMES[shown[0]['family']]} flow net")
    path = write_json(out / "flow_quality.json", {
        "data": portable_path(data), "manifest_sha256": manifest_sha256(data),
        "windows": windows, "border_px": BORDER, "flow_nets": nets,
        "provenance": run_provenance(profile, device=str(device))})
    return path


def warp_example(flow_net: torch.nn.Module, data: str | Path, path: Path,
                 label: str = "flow net", split: str = "test") -> Path:
    """One window of ``split``: the HR centre, the neighbour T-1 brought onto it by zero motion,
    DIS flow and the flow net, and each one's |error| map (Y, the judged area framed)."""
    windows = FaceWindows(data, split, all_hr=True)
    lr, hr = evenly_spaced(windows, 3)[1]
    lr, hr = lr[None], hr[None]
    flows = {"zero motion": torch.zeros(1, 2, *hr.shape[-2:]),
             "DIS flow (LR, x4)": DISFlow()(lr[:, 0], lr[:, 1])[2]}
    with torch.no_grad():
        flows[label] = flow_net.cpu().eval()(lr[:, 0], lr[:, 1])[2]
    centre = hr[0, 1, 0].numpy()
    fig, axes = plt.subplots(2, 4, figsize=(12, 6.4))
    axes[0, 0].imshow(centre, cmap="gray", vmin=0, vmax=1)
    axes[0, 0].set_title("centre frame T (HR)")
    axes[1, 0].imshow(hr[0, 0, 0].numpy(), cmap="gray", vmin=0, vmax=1)
    axes[1, 0].set_title("neighbour T-1 (HR)")
    for col, (name, flow) in enumerate(flows.items(), start=1):
        warped = flow_warp(hr[:, 0], flow)[0, 0].numpy()
        error = np.abs(centre - warped)[BORDER:-BORDER, BORDER:-BORDER]
        axes[0, col].imshow(warped, cmap="gray", vmin=0, vmax=1)
        axes[0, col].set_title(f"T-1 warped: {name}")
        axes[1, col].imshow(error, cmap="magma", vmin=0, vmax=0.08)
        axes[1, col].set_title(f"|error|, mean {error.mean():.4f}")
    for ax in axes.flat:
        ax.set_axis_off()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def flow_table(results_dir: str | Path) -> pd.DataFrame:
    """One row per flow net and split: warp error of zero motion, DIS and the net, the ratios
    to zero motion, and the mean |flow| in HR pixels (for reading)."""
    report = _read(results_dir)
    rows = [{"flow net": n["flow_net"], "split": split, "neighbour warps": int(o["n"]),
             "zero motion": o["zero"], "DIS": o["dis"], "flow net error": o["net"],
             "DIS / zero": o["dis/zero"], "net / zero": o["net/zero"],
             "|flow| DIS px": o["dis_px"], "|flow| net px": o["net_px"]}
            for n in report["flow_nets"] for split, v in n["splits"].items()
            for o in [v["overall"]]]
    return pd.DataFrame(rows).set_index(["flow net", "split"])


def per_person_table(results_dir: str | Path, split: str = "test") -> pd.DataFrame:
    """Ratio to zero motion per person of ``split``: DIS and each flow net."""
    df = pd.read_csv(Path(results_dir) / FOLDER / "flow_quality.csv")
    df = df[df["split"] == split]
    table = df.pivot_table(index="person", columns="flow_net", values="net/zero")
    table.insert(0, "DIS", df.groupby("person")["dis/zero"].first())
    return table


def _read(results_dir: str | Path) -> dict:
    return json.loads((Path(results_dir) / FOLDER / "flow_quality.json").read_text())


def flow_curves(records: list[dict], ax=None):
    """The flow nets' validation warp error per pretraining epoch, as a ratio to zero motion's
    (DIS flow's dashed, the kept epoch ringed), one line per distinct flow net of the final
    runs' records; the training flow loss for records from before the validation was kept."""
    ax = ax or plt.gca()
    seen, ratio = set(), False
    for r in records:
        history = r.get("ofr_history") or []
        key = json.dumps(history, sort_keys=True)
        if not history or key in seen:  # runs that share one flow net show it once
            continue
        seen.add(key)
        family = DISPLAY_NAMES[build_model(r["model"], **r["config"]).flow.kind]
        ratio = "warp_ratio" in history[0]
        epochs = [h["epoch"] for h in history]
        line, = ax.plot(epochs, [h["warp_ratio" if ratio else "train_loss"] for h in history],
                        marker="o", label=f"{family} flow net, seed {r['seed']}")
        if ratio:
            ax.plot(epochs, [h["dis_ratio"] for h in history], ls="--", color=line.get_color(),
                    lw=1)
            kept = [h for h in history if h.get("kept")]
            ax.plot([h["epoch"] for h in kept], [h["warp_ratio"] for h in kept], "o", ms=12,
                    mfc="none", color=line.get_color())
    ax.set_xlabel("pretraining epoch")
    if ratio:
        ax.axhline(1.0, color="grey", lw=0.8)
        ax.set_ylabel("validation warp error / zero motion's\n(dashed: DIS flow)")
    else:
        ax.set_ylabel("flow loss (training)")
    ax.legend(fontsize=8)
    return ax


ALIGN_TARGET = 0.6  # a flow net aligns when its warp error is at most this fraction of zero's


def verdict(results_dir: str | Path, split: str = "test") -> str:
    """A sentence per flow net: does it align on the ``split`` persons, against DIS?"""
    report = _read(results_dir)
    lines = []
    for net in report["flow_nets"]:
        part = net["splits"][split]
        o, people = part["overall"], part["per_person"]
        ratios = [p["net/zero"] for p in people]
        aligns = "aligns" if o["net/zero"] <= ALIGN_TARGET else "does **not** align"
        lines.append(
            f"- **{net['flow_net']}** {aligns}: on {len(people)} {split} persons "
            f"({int(o['n'])} neighbour warps) its warp error is {o['net/zero']:.2f}x zero "
            f"motion's (per person {min(ratios):.2f}-{max(ratios):.2f}x), DIS flow "
            f"{o['dis/zero']:.2f}x; mean |flow| {o['net_px']:.3f} HR px against DIS's "
            f"{o['dis_px']:.2f}.")
    if not lines:
        return "No committed video checkpoint holds a trained flow net."
    return (f"Target: at most {ALIGN_TARGET}x zero motion's warp error, near DIS flow's.\n\n"
            + "\n".join(lines))
