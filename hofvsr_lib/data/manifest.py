"""The dataset manifest (``DIR/manifest.csv``, one row per HR face crop) and the person split.

Columns: ``video`` (folder key ``<stem>-<sha12>``), ``source`` (the input file), ``sha256``,
``person``, ``split`` ("train" / "eval"), ``sequence`` (``<video>/seqNNN``), ``position``
(0-based place in the sequence), ``frame`` (frame index in the source), ``png`` (path relative
to DIR), ``x0 y0 x1 y1`` (MTCNN box, source pixels), ``prob`` (MTCNN probability),
``crop_x0 crop_y0 crop_side`` (the square cut from the source, after smoothing and margin),
``face_px`` (the box's longest side), ``width height fps`` (of the source).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pandas as pd

COLUMNS = [
    "video", "source", "sha256", "person", "split", "sequence", "position", "frame", "png",
    "x0", "y0", "x1", "y1", "prob", "crop_x0", "crop_y0", "crop_side", "face_px",
    "width", "height", "fps",
]
MANIFEST = "manifest.csv"


def write_csv_atomic(df: pd.DataFrame, path: Path) -> None:
    """Write ``df`` to ``path`` through a temporary file and ``os.replace``."""
    tmp = path.with_name(path.name + ".tmp")
    df.to_csv(tmp, index=False, float_format="%.6g")
    os.replace(tmp, path)


def read_manifest(root: Path | str) -> pd.DataFrame:
    """The manifest of the dataset in ``root``; a clear error when there is none."""
    path = Path(root) / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: build the dataset first (hofvsr dataset build --out {root})"
        )
    df = pd.read_csv(path, dtype={"video": str, "person": str, "split": str, "sequence": str})
    missing = set(COLUMNS) - set(df.columns)
    if missing:
        raise ValueError(f"{path}: not a dataset manifest (missing columns {sorted(missing)})")
    return df


def assign_splits(
    persons: list[str], eval_persons: list[str] | tuple[str, ...] | None = None,
    eval_fraction: float = 0.2,
) -> dict[str, str]:
    """Person -> "train" / "eval"; every clip of a person lands on one side.

    ``eval_persons`` present in ``persons`` go to eval. Without any, about ``eval_fraction``
    of the persons (at least one when there are two or more) go to eval, picked by a hash of
    their name so the choice is stable whatever the order or the other persons (also when
    ``eval_persons`` would leave nobody for training). A single person cannot be split
    without a leak: it all goes to train.
    """
    unique = sorted(set(persons))
    chosen = [p for p in unique if eval_persons and p in eval_persons]
    if len(chosen) == len(unique):  # nothing would be left to train on
        chosen = []
    if not chosen and len(unique) >= 2:
        n_eval = max(1, round(eval_fraction * len(unique)))
        ranked = sorted(unique, key=lambda p: hashlib.sha1(p.encode()).hexdigest())
        chosen = ranked[:n_eval]
    return {p: ("eval" if p in chosen else "train") for p in unique}


def summarise(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-video and per-split counts of a manifest (sequences, crops, windows, face sizes)."""
    df = df.assign(size=df["width"].astype(int).astype(str) + "x"
                   + df["height"].astype(int).astype(str))
    windows = df.groupby("sequence")["png"].size().sub(2).clip(lower=0)
    df = df.assign(windows=df["sequence"].map(windows) / df["sequence"].map(
        df.groupby("sequence").size()))  # a sequence's windows spread over its rows
    keys = ["split", "person", "video"]
    per_video = df.groupby(keys).agg(
        size=("size", "first"), sequences=("sequence", "nunique"), crops=("png", "size"),
        windows=("windows", "sum"), face_px=("face_px", "median"),
        crop_px=("crop_side", "median"),
    ).reset_index()
    per_split = df.groupby("split").agg(
        persons=("person", "nunique"), videos=("video", "nunique"),
        sequences=("sequence", "nunique"), crops=("png", "size"), windows=("windows", "sum"),
    ).reset_index()
    for t in (per_video, per_split):
        t["windows"] = t["windows"].round().astype(int)
    return per_video, per_split
