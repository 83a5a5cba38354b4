"""Search records: ``<out>/<strategy>/trials.csv`` (one row per finished trial, rewritten
atomically as trials finish), ``provenance.json``, and the paper's Table 2 computed from them."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pandas as pd

COLUMNS = [
    "experiment_id", "trial_id", "session", "strategy", "mode", "res_channels", "n_res_blocks",
    "up_channels", "params", "gflops", "epochs_done", "epoch_psnr", "epoch_ssim", "epoch_loss",
    "final_psnr", "final_ssim", "final_loss", "duration_s", "status", "seed", "started", "ended",
]
FINISHED = ("SUCCEEDED", "FAILED", "USER_CANCELED", "SYS_CANCELED", "EARLY_STOPPED")


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


class TrialRecords:
    """The rows of one strategy's ``trials.csv``, keyed by (experiment_id, trial_id)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.rows: dict[tuple[str, str], dict] = {}
        if self.path.exists():
            with self.path.open(newline="") as f:
                reader = csv.DictReader(f)
                missing = set(COLUMNS) - set(reader.fieldnames or [])
                if missing:
                    raise ValueError(f"{self.path}: not a trials record, lacks {sorted(missing)}")
                for row in reader:
                    self.rows[(row["experiment_id"], row["trial_id"])] = row

    def __len__(self) -> int:
        return len(self.rows)

    def __contains__(self, key: tuple[str, str]) -> bool:
        return key in self.rows

    def add(self, row: dict) -> None:
        """Add (or replace) one row and rewrite the file atomically."""
        unknown = set(row) - set(COLUMNS)
        if unknown:
            raise ValueError(f"unknown trial record fields {sorted(unknown)}")
        self.rows[(str(row["experiment_id"]), str(row["trial_id"]))] = {
            k: row.get(k, "") for k in COLUMNS}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        with tmp.open("w", newline="") as f:
            writer = csv.DictWriter(f, COLUMNS)
            writer.writeheader()
            writer.writerows(self.rows.values())
        os.replace(tmp, self.path)

    def succeeded(self) -> list[dict]:
        return [r for r in self.rows.values() if r["status"] == "SUCCEEDED"]


def read_provenance(path: str | Path) -> dict:
    path = Path(path)
    return json.loads(path.read_text()) if path.exists() else {}


def load_trials(search_root: str | Path) -> pd.DataFrame:
    """All ``<search_root>/*/trials.csv`` rows in one frame (empty frame if none)."""
    frames = [pd.read_csv(p) for p in sorted(Path(search_root).glob("*/trials.csv"))]
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)


def format_duration(seconds: float) -> str:
    """Seconds -> the paper's ``31h31m`` style (``12m05s`` under an hour)."""
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


def table2(search_root: str | Path) -> pd.DataFrame:
    """Table 2 from the records: per strategy directory, networks tried, epochs, time.

    ``networks`` counts distinct configurations trained to the end, ``failed`` the trials that
    did not finish, ``epochs`` the epochs per network, ``trial_time`` the summed trial wall time
    and ``search_time`` the searches' wall time (NNI and caching overheads included, from
    ``provenance.json``).
    """
    rows = []
    for csv_path in sorted(Path(search_root).glob("*/trials.csv")):
        df = pd.read_csv(csv_path)
        prov = read_provenance(csv_path.with_name("provenance.json"))
        ok = df[df["status"] == "SUCCEEDED"]
        wall = sum(s.get("wall_s", 0.0) for s in prov.get("sessions", []))
        rows.append({
            "strategy": csv_path.parent.name,
            "mode": prov.get("mode", ""),
            "profile": prov.get("profile", {}).get("name", ""),
            "networks": int(len(ok[["res_channels", "n_res_blocks", "up_channels"]]
                                .drop_duplicates())),
            "failed": int(len(df) - len(ok)),
            "epochs": int(ok["epochs_done"].max()) if len(ok) else 0,
            "trial_time": format_duration(float(df["duration_s"].fillna(0).sum())),
            "search_time": format_duration(wall),
            "best": _best(ok),
            "best_psnr": float(ok["final_psnr"].max()) if len(ok) else float("nan"),
        })
    return pd.DataFrame(rows)


def _best(ok: pd.DataFrame) -> str:
    if not len(ok):
        return ""
    r = ok.loc[ok["final_psnr"].idxmax()]
    return f"({r.res_channels}, {r.n_res_blocks}, {r.up_channels})"


def rank_agreement(a: pd.DataFrame, b: pd.DataFrame) -> dict:
    """Spearman and Kendall correlation of ``final_psnr`` over the configurations two searches
    both trained (e.g. cached vs joint mode)."""
    from scipy.stats import kendalltau, spearmanr

    key = ["res_channels", "n_res_blocks", "up_channels"]
    ok = [d[d["status"] == "SUCCEEDED"].groupby(key)["final_psnr"].mean() for d in (a, b)]
    both = pd.concat(ok, axis=1, join="inner")
    if len(both) < 2:
        return {"common": len(both), "spearman": float("nan"), "kendall": float("nan")}
    return {"common": len(both), "spearman": float(spearmanr(both.iloc[:, 0], both.iloc[:, 1])[0]),
            "kendall": float(kendalltau(both.iloc[:, 0], both.iloc[:, 1])[0])}
