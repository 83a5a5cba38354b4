"""Search records: ``<out>/<search>/trials.csv`` (one row per finished trial, rewritten
atomically as trials finish), ``provenance.json``, and the paper's Table 2 computed from them.

A record's columns follow its search's space (:func:`columns`): the paper's spaces' are the
committed records'; a whole-network search's have the flow's fields and, since its candidates
are timed, the score and the latency (:data:`TIMED_COLUMNS`) besides."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd

from ..atomic import replacing
from ..spec import DIMENSIONS, NetSpec
from ..vocabulary import PROPOSAL_SOURCES
from .space import SPACES, TIMED_SPACES

KEY = list(DIMENSIONS)  # a trial's network: the searched fields of its spec
DEFAULTS = NetSpec().params()  # what a record written before a field was searched holds
# a timed space's trials (``trial.run_trial``): the score (the metric's ``default``), the
# latency (``latency.latency_fields``: per-size dicts and the load average as JSON) and the
# seconds spent finding or building the flow's draft cubes
TIMED_COLUMNS = ["score", "latency_ratio", "latency_ms", "latency_p90_ms", "accv_ms",
                 "latency_load", "cubes_s"]


def columns(space: str = "choice") -> list[str]:
    """The columns of a search's records: its space's parameters in the network's place,
    and a timed space's columns after the network's cost."""
    timed = TIMED_COLUMNS if space in TIMED_SPACES else []
    return ["experiment_id", "trial_id", "session", "search", "strategy", "mode", "source",
            *SPACES[space], "params", "gflops", *timed, "epochs_done",
            "epoch_psnr", "epoch_ssim", "epoch_loss", "final_psnr", "final_ssim", "final_loss",
            "duration_s", "status", "seed", "started", "ended"]


COLUMNS = columns()
# what a trial's end means for the search's budget: these count against ``max_trials``; a trial
# cancelled because the launcher was stopped (USER_CANCELED, SYS_CANCELED) does not
COMPLETED = ("SUCCEEDED", "FAILED", "EARLY_STOPPED")


class TrialRecords:
    """The rows of one search's ``trials.csv`` (of a search of ``space``), keyed by
    (experiment_id, trial_id); a searched field added since the file was written reads as its
    default."""

    def __init__(self, path: str | Path, space: str = "choice"):
        self.path = Path(path)
        self.space = space
        self.columns = columns(space)
        self.rows: dict[tuple[str, str], dict] = {}
        if self.path.exists():
            with self.path.open(newline="") as f:
                reader = csv.DictReader(f)
                missing = set(self.columns) - set(SPACES[space]) - set(reader.fieldnames or [])
                if missing:
                    raise ValueError(f"{self.path}: not a trials record, lacks {sorted(missing)}")
                defaults = {k: v for k, v in NetSpec().flat().items() if k in SPACES[space]}
                for row in reader:
                    self.rows[(row["experiment_id"], row["trial_id"])] = {**defaults, **row}

    def __len__(self) -> int:
        return len(self.rows)

    def __contains__(self, key: tuple[str, str]) -> bool:
        return key in self.rows

    def add(self, row: dict) -> None:
        """Add (or replace) one row and rewrite the file atomically."""
        unknown = set(row) - set(self.columns)
        if unknown:
            raise ValueError(f"unknown trial record fields {sorted(unknown)}")
        self.rows[(str(row["experiment_id"]), str(row["trial_id"]))] = {
            k: row.get(k, "") for k in self.columns}
        with replacing(self.path) as tmp, tmp.open("w", newline="") as f:
            writer = csv.DictWriter(f, self.columns)
            writer.writeheader()
            writer.writerows(self.rows.values())

    def succeeded(self) -> list[dict]:
        return [r for r in self.rows.values() if r["status"] == "SUCCEEDED"]

    def completed(self) -> int:
        """Trials that count against the budget (see ``COMPLETED``)."""
        return sum(r["status"] in COMPLETED for r in self.rows.values())


def read_provenance(path: str | Path) -> dict:
    path = Path(path)
    return json.loads(path.read_text()) if path.exists() else {}


def read_table(path: str | Path) -> pd.DataFrame:
    """A CSV of trained networks (trials, the search studies' rows), a searched field added
    since it was written filled with its default."""
    df = pd.read_csv(path)
    return df.assign(**{k: v for k, v in DEFAULTS.items() if k not in df})


def load_trials(search_root: str | Path) -> pd.DataFrame:
    """All ``<search_root>/*/trials.csv`` rows in one frame (empty frame if none)."""
    frames = [read_table(p) for p in sorted(Path(search_root).glob("*/trials.csv"))]
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)


def format_duration(seconds: float) -> str:
    """Seconds -> the paper's ``31h31m`` style (``12m05s`` under an hour)."""
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


def table2(search_root: str | Path) -> pd.DataFrame:
    """Table 2 from the records, one row per search directory.

    ``trials`` counts the trials that count against the budget (``COMPLETED``), ``networks``
    the distinct configurations trained to the end, ``early_stopped`` those the assessor
    stopped, ``failed`` those that crashed, ``interrupted`` those cancelled by a stop of the
    launcher; ``sources`` where the configurations came from (``tuners``); ``epochs`` the
    epochs per network and ``epochs_trained`` all epochs trained (the compute); ``trial_time``
    the summed trial wall time and ``search_time`` the searches' wall time (NNI and caching
    overheads included, from ``provenance.json``); ``budget`` the trials done of the profile's
    number, with the reason when the duration cap ended the search first.
    """
    rows = []
    for csv_path in sorted(Path(search_root).glob("*/trials.csv")):
        df = read_table(csv_path)
        prov = read_provenance(csv_path.with_name("provenance.json"))
        sessions = prov.get("sessions", [])
        ok = df[df["status"] == "SUCCEEDED"]
        done = int(df["status"].isin(COMPLETED).sum())
        planned = prov.get("profile", {}).get("search", {}).get("max_trials", done)
        wall = sum(s.get("wall_s", 0.0) for s in sessions)
        trial_s = float(pd.to_numeric(df["duration_s"], errors="coerce").fillna(0).sum())
        rows.append({
            "search": csv_path.parent.name,
            "strategy": prov.get("strategy", ""),
            "mode": prov.get("mode", ""),
            "space": prov.get("space", "choice"),
            "assessor": (prov.get("assessor") or {}).get("name", "none"),
            "profile": prov.get("profile", {}).get("name", ""),
            "trials": done,
            "networks": len({NetSpec.of(r) for _, r in ok.iterrows()}),
            "early_stopped": int((df["status"] == "EARLY_STOPPED").sum()),
            "failed": int((df["status"] == "FAILED").sum()),
            "interrupted": int(df["status"].isin(("USER_CANCELED", "SYS_CANCELED")).sum()),
            "sources": _sources(df),
            "epochs": int(ok["epochs_done"].max()) if len(ok) else 0,
            "epochs_trained": int(df["epochs_done"].sum()),
            "trial_time": format_duration(trial_s),
            "trial_time_s": trial_s,
            "search_time": format_duration(wall),
            "search_time_s": wall,
            "budget": f"{done}/{planned}" + (" (running)" if prov.get("running") else
                                             "" if done >= planned or not sessions
                                             else " (duration cap)"),
            "best": _best(ok),
            "best_psnr": float(ok["final_psnr"].max()) if len(ok) else float("nan"),
        })
    return pd.DataFrame(rows)


def _sources(df: pd.DataFrame) -> str:
    """``4 startup, 9 model, 1 fallback``: where the trials' configurations came from."""
    counts = df["source"].fillna("").value_counts()
    return ", ".join(f"{counts[s]} {s}" for s in PROPOSAL_SOURCES if s in counts)


def _best(ok: pd.DataFrame) -> str:
    if not len(ok):
        return ""
    return NetSpec.of(ok.loc[ok["final_psnr"].idxmax()]).whole_label

