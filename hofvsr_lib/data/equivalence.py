"""A rebuilt dataset measured against the one committed results were made on.

The dataset build is deterministic on one machine, but not bit for bit across machines: face
detection takes other floating-point paths on another CPU, so a rebuild from the same clips
can differ in the last digits of the detector's boxes in its manifest (and, possibly, in the
last bits of some pixels). Its manifest sha256 then differs, and every record made on the first
build refuses it (:func:`~.manifest.check_same_dataset`).

:func:`declare_equivalent` measures the rebuild against the committed per-window test scores:
the same test windows (count, persons, sequences, frames), and bicubic's PSNR on each within
:data:`TOLERANCE_DB` of the PSNR recorded when the results were made. When both hold, it adds
the pair (recorded sha, rebuilt sha) with the measurement to ``<results>/dataset/
equivalent.json``; :func:`declared` is what the check reads. :func:`declare_rebuild` does so
against every dataset a results folder's final runs were made on (runs made on two machines'
builds need a pair each: a pair is a measurement, not a chain). A crop cut elsewhere moves
bicubic's PSNR by tenths of a dB; the committed scores hold 4 decimals, so up to 5e-5 dB is
their rounding.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from ..atomic import write_json
from .manifest import manifest_sha256

TOLERANCE_DB = 1e-3  # bicubic PSNR per test window, rebuilt against recorded
EQUIVALENT = Path("dataset") / "equivalent.json"  # under a results folder
COMMITTED = Path(__file__).resolve().parents[2] / "results"  # the repository's results
WINDOW_KEY = ["person", "sequence", "frame"]


def declared(recorded: str, current: str, results: Path | None = None) -> bool:
    """Whether ``results`` (default: the repository's) declares the datasets of manifests
    ``recorded`` and ``current`` measured rebuilds of each other. Either way round: the
    measurement (the same test windows, bicubic PSNR equal within the tolerance) is
    symmetric, so results made on a rebuild also hold on the dataset it rebuilt."""
    path = (results or COMMITTED) / EQUIVALENT
    entries = json.loads(path.read_text())["entries"] if path.is_file() else []
    return any({e["recorded"], e["rebuilt"]} == {recorded, current} for e in entries)


def compare_rebuild(data: str | Path, scores: pd.DataFrame) -> dict:
    """Bicubic's per-window test PSNR on the dataset in ``data`` against ``scores`` (one seed's
    rows of a final run's test scores, ``training.final.SCORE_COLUMNS``)."""
    from ..models import build_model
    from ..training.loops import score_windows
    from .dataset import FaceWindows, window_rows

    windows = FaceWindows(data, "test")
    rows = pd.DataFrame(window_rows(windows))
    rows["bicubic_now"] = score_windows(build_model("bicubic"), windows, device="cpu")["psnr"]
    recorded = scores.sort_values("window").reset_index(drop=True)
    same_windows = len(rows) == len(recorded) and (
        rows[WINDOW_KEY].astype(str).to_numpy() == recorded[WINDOW_KEY].astype(str).to_numpy()
    ).all()
    diff = np.abs(rows["bicubic_now"].to_numpy() - recorded["bicubic_psnr"].to_numpy()) \
        if same_windows else np.array([np.inf])
    return {"test_windows": len(rows), "recorded_windows": len(recorded),
            "same_windows": bool(same_windows), "max_abs_db": float(diff.max()),
            "mean_abs_db": float(diff.mean()), "tolerance_db": TOLERANCE_DB}


def declare_equivalent(data: str | Path, results: str | Path, scores_csv: str | Path,
                       seed: int = 0, strict: bool = True) -> dict:
    """Measure the dataset in ``data`` against ``scores_csv`` (a committed final run's test
    scores, made on the dataset its record names) and, when it is a rebuild of it, add the
    pair to ``<results>/dataset/equivalent.json``. Returns the measurement (``declared``: whether
    it is a rebuild); when it is not, raises if ``strict``."""
    from ..provenance import machine_info

    scores_csv = Path(scores_csv)
    record = json.loads(scores_csv.with_name(
        scores_csv.name.replace("_scores.csv", f"_seed{seed}.json")).read_text())
    recorded, current = record["provenance"]["manifest_sha256"], manifest_sha256(data)
    scores = pd.read_csv(scores_csv)
    measured = compare_rebuild(data, scores[scores["seed"] == seed])
    measured["declared"] = measured["same_windows"] and measured["max_abs_db"] <= TOLERANCE_DB
    if not measured["declared"]:
        if strict:
            raise ValueError(f"{data} is not a rebuild of dataset {recorded[:8]}: {measured}")
        return measured
    path = Path(results) / EQUIVALENT
    entries = json.loads(path.read_text())["entries"] if path.is_file() else []
    if not declared(recorded, current, Path(results)):
        entries.append({"recorded": recorded, "rebuilt": current, "measured_with": str(
            scores_csv.relative_to(Path(results))) if scores_csv.is_relative_to(Path(results))
            else scores_csv.name, **measured, "machine": machine_info(),
            "measured": datetime.now(UTC).isoformat(timespec="seconds")})
        write_json(path, {"about": "datasets rebuilt from the same clips on another machine, "
                                   "measured equal to those results were made on "
                                   "(hofvsr_lib/data/equivalence.py)", "entries": entries})
    return measured


def declare_rebuild(data: str | Path, results: str | Path,
                    strict: bool = True) -> dict[str, dict]:
    """Measure the dataset in ``data`` against every other dataset the final runs in
    ``results`` were made on (the test scores of the first run made on each) and declare it
    a rebuild of each (:func:`declare_equivalent`; pairs declared already are not measured
    again). Returns recorded sha -> measurement; at one it is not a rebuild of, raises, naming
    the dataset, if ``strict`` (the dataset notebook is not: it shows the measurement)."""
    current, results = manifest_sha256(data), Path(results)
    made_on: dict[str, tuple[Path, int]] = {}
    for path in sorted((results / "final").glob("*_seed*.json")):
        sha = json.loads(path.read_text()).get("provenance", {}).get("manifest_sha256")
        variant, seed = path.stem.rsplit("_seed", 1)
        scores = path.with_name(f"{variant}_scores.csv")
        if sha and sha != current and scores.is_file() and not declared(sha, current, results):
            made_on.setdefault(sha, (scores, int(seed)))
    return {sha: declare_equivalent(data, results, scores, seed, strict)
            for sha, (scores, seed) in made_on.items()}
