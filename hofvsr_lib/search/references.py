"""The named networks on the whole-network search's front (issue 21): HO-FVSR (64, 5, 64),
TIP-2020, ACCV-2018, EDSR, FSRCNN and bicubic, each measured as a candidate is.

* Latency: timed as each candidate of the search is (:func:`.latency.measured_latency`, the
  profile's ``whole.latency`` settings, ACCV-2018 interleaved), in the references' own store.
* Validation PSNR at the search's trial budget: trained by the final training's code
  (:func:`~hofvsr_lib.training.final.train_run`, cached protocol: the flow net of the searches'
  pretraining budget, frozen) with ``search.trial`` as its budget, so that each is scored on
  the validation windows a trial is scored on after as many steps. Bicubic is not trained.

Files, under ``<results>/search/references/``: ``latency.json`` (the timings), ``final/`` and
``checkpoints/`` (the trainings' records, as the final runs'), and ``references.csv``, one row
per network with the columns of a trial's point (``final_psnr``, ``latency_ratio``) and
``references.json`` (how they were made). A network already trained or timed is not trained or
timed again, and a complete ``references.csv`` is kept as it is.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from ..atomic import write_csv, write_json
from ..complexity import count_params
from ..data.dataset import FaceWindows
from ..data.manifest import manifest_sha256
from ..devices import resolve_device
from ..models import build_model
from ..profiles import Profile, get_profile
from ..provenance import run_provenance
from ..spec import NetSpec
from ..training.final import FinalRun, display_name, final_networks, train_run
from ..training.loops import evenly_spaced, score_windows
from .latency import latency_fields, measured_latency

REFERENCES = "references"  # the folder under <results>/search/
COLUMNS = ["key", "network", "flow_kind", "final_psnr", "test_psnr", "latency_ratio",
           "latency_ms_36", "fps_36", "params", "train_steps"]


def reference_profile(profile: Profile) -> Profile:
    """``profile`` with the final training's budget set to the searches' trial budget and one
    seed's flow nets, pretrained as the whole-network search's are."""
    flow = profile.whole.flow_pretrain if profile.whole else None
    return replace(profile, final=profile.search.trial, final_flow=flow, final_seeds=1)


def _bicubic_psnr(data: Path, windows: int | None) -> float:
    """Bicubic's validation PSNR on the windows a trial is scored on."""
    val = evenly_spaced(FaceWindows(data, "val"), windows)
    return float(score_windows(build_model("bicubic"), val, device="cpu")["psnr"].mean())


def measure_references(results: str | Path, profile: str | Profile, data: str | Path,
                       device: str | None = None) -> pd.DataFrame:
    """Time and train (at the trial budget) every named network; returns ``references.csv``'s
    rows (also written, one network at a time)."""
    profile = get_profile(profile) if isinstance(profile, str) else profile
    if profile.whole is None:
        raise ValueError(f"profile {profile.name} has no whole-network search (Profile.whole)")
    data, out = Path(data), Path(results) / "search" / REFERENCES
    budget = reference_profile(profile)
    device = str(resolve_device(device))
    nets = {**final_networks(), "bicubic": ("bicubic", {})}
    done = read_references(results)
    if list(done["key"]) == list(nets):  # measured: kept as it is, its provenance too
        return done
    rows = []
    for key, (name, config) in tqdm(nets.items(), desc="reference networks"):
        target = NetSpec.of(config) if name == "hofvsr" else name
        timing = latency_fields(measured_latency(target, out / "latency.json",
                                                 profile.whole.latency, device))
        if name == "bicubic":
            val_psnr, test_psnr, steps = _bicubic_psnr(data, budget.final.eval_windows), None, 0
        else:
            run = FinalRun(key, name, config, "cached", profile.seed)
            record = train_run(run, data, budget, out, device)
            val_psnr, test_psnr = record["val_psnr"], record["psnr"]
            steps = record["epochs"] * record["iters_per_epoch"]
        model = build_model(name, **config)
        flow = getattr(model, "flow", None)  # a video network's flow (spec.FlowSpec)
        rows.append({"key": key, "network": display_name(key, name, config),
                     "flow_kind": flow.kind if flow else "none",
                     "final_psnr": val_psnr, "test_psnr": test_psnr,
                     "latency_ratio": timing["latency_ratio"],
                     "latency_ms_36": timing["latency_ms"].get("36"),
                     "fps_36": 1e3 / timing["latency_ms"]["36"] if "36" in timing["latency_ms"]
                     else None,
                     "params": count_params(model),
                     "train_steps": steps})
        write_csv(pd.DataFrame(rows, columns=COLUMNS), out / "references.csv")
    write_json(out / "references.json", {
        "networks": list(nets), "trial_budget": asdict(budget.final),
        "latency": asdict(profile.whole.latency),
        "provenance": run_provenance(budget, seed=profile.seed, device=device,
                                     manifest_sha256=manifest_sha256(data))})
    return pd.DataFrame(rows, columns=COLUMNS)


def read_references(results: str | Path) -> pd.DataFrame:
    """``references.csv`` (empty frame with its columns when not measured)."""
    path = Path(results) / "search" / REFERENCES / "references.csv"
    return pd.read_csv(path) if path.is_file() else pd.DataFrame(columns=COLUMNS)
