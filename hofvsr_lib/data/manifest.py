"""The dataset manifest (``DIR/manifest.csv``, one row per HR face crop) and the person split.

Columns: ``video`` (folder key ``<stem>-<sha12>``), ``source`` (the input file), ``sha256``,
``person``, ``split`` ("train" / "val" / "test"), ``sequence`` (``<video>/seqNNN``), ``position``
(0-based place in the sequence), ``frame`` (frame index in the source), ``png`` (path relative
to DIR), ``x0 y0 x1 y1`` (MTCNN box, source pixels), ``prob`` (MTCNN probability),
``crop_x0 crop_y0 crop_side`` (the square cut from the source, after smoothing and margin),
``face_px`` (the box's longest side), ``width height fps`` (of the source).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

COLUMNS = [
    "video", "source", "sha256", "person", "split", "sequence", "position", "frame", "png",
    "x0", "y0", "x1", "y1", "prob", "crop_x0", "crop_y0", "crop_side", "face_px",
    "width", "height", "fps",
]
MANIFEST = "manifest.csv"


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


def manifest_sha256(root: Path | str) -> str:
    """The sha256 of the dataset's manifest: what names a dataset in every record and key."""
    path = Path(root) / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: build the dataset first (hofvsr dataset build --out {root})"
        )
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_same_dataset(recorded: str | None, root: Path | str, where: Path | str) -> None:
    """Refuse to resume or reuse ``where`` (results of a dataset whose manifest sha256 is
    ``recorded``) on another dataset. A record from before manifests were recorded (None) is
    taken as it is: the dataset chapter lists it as "not recorded"; so is a rebuild of the
    recorded dataset on another machine measured equal to it (:mod:`.equivalence`: declared
    in the repository's results or in a results folder that holds ``where``)."""
    from .equivalence import EQUIVALENT, declared

    current = manifest_sha256(root)
    folders = [None, *(p for p in Path(where).parents if (p / EQUIVALENT).is_file())]
    if recorded is not None and recorded != current and not any(
            declared(recorded, current, folder) for folder in folders):
        raise ValueError(f"{where} was made on dataset {recorded[:8]}, not on {root} (manifest "
                         f"{current[:8]}): move it away, or use another output folder (the same "
                         f"clips rebuilt on another machine: hofvsr dataset equivalent)")


SPLITS = ("train", "val", "test")
"""train: fits the weights; val: the search and every choice made while training; test: the
reported numbers (Table 3, Figure 7, every quality claim). A person is on exactly one side."""


def assign_splits(
    persons: list[str], val_persons: list[str] | tuple[str, ...] | None = None,
    test_persons: list[str] | tuple[str, ...] | None = None, val_fraction: float = 0.2,
    test_fraction: float = 0.2,
) -> dict[str, str]:
    """Person -> "train" / "val" / "test"; every clip of a person lands on one side.

    Named ``val_persons`` / ``test_persons`` present in ``persons`` go there. A side left
    without anyone named gets about its fraction of the persons (at least one), picked by a
    hash of their names so the choice is stable whatever the order or the other persons. At
    least one person always trains: with two persons one trains and one is tested; a single
    person cannot be split without a leak and trains.
    """
    unique = sorted(set(persons))
    named = {p: "val" for p in unique if val_persons and p in val_persons}
    named.update({p: "test" for p in unique if test_persons and p in test_persons})
    if len(named) == len(unique):  # nothing would be left to train on
        named = {}
    ranked = [p for p in sorted(unique, key=lambda p: hashlib.sha1(p.encode()).hexdigest())
              if p not in named]
    for side, fraction, minimum in (("test", test_fraction, 2), ("val", val_fraction, 3)):
        if side not in named.values() and len(unique) >= minimum and len(ranked) > 1:
            n = min(len(ranked) - 1, max(1, round(fraction * len(unique))))
            named.update({p: side for p in ranked[:n]})
            ranked = ranked[n:]
    return {p: named.get(p, "train") for p in unique}


def cap_per_person(df: pd.DataFrame, cap: int | None) -> pd.DataFrame:
    """At most ``cap`` crops per person, taken evenly from the person's videos (the first
    frames of each sequence kept, in order), so that no person dominates a split."""
    if cap is None:
        return df
    df = df.sort_values(["person", "video", "sequence", "position"])
    rank = df.groupby(["person", "video"]).cumcount()
    order = df.assign(_rank=rank).sort_values(["person", "_rank", "video"], kind="stable")
    keep = order.groupby("person").cumcount() < cap
    return df.loc[order.index[keep.to_numpy()]].sort_values(
        ["video", "sequence", "position"]).reset_index(drop=True)


HIGH_RES_FACE_PX = 200
"""A person whose median face box is at least this many source pixels is *high-res* (its HR
crops are downscaled, full of detail); a smaller face is *webcam* grade (crops enlarged or
barely shrunk)."""


def summarise(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Per-video, per-person and per-split counts of a manifest (sequences, crops, windows,
    face sizes; a person's grade, see :data:`HIGH_RES_FACE_PX`)."""
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
    clip = df["video"].str.replace(r"-[0-9a-f]{12}$", "", regex=True)
    per_person = df.assign(clip=clip).groupby(["split", "person"]).agg(
        clips=("clip", lambda c: ", ".join(sorted(set(c)))),
        size=("size", lambda c: ", ".join(sorted(set(c)))),
        fps=("fps", "median"), sequences=("sequence", "nunique"), crops=("png", "size"),
        windows=("windows", "sum"), face_px=("face_px", "median"),
    ).reset_index()
    per_person["grade"] = per_person["face_px"].ge(HIGH_RES_FACE_PX).map(
        {True: "high-res", False: "webcam"})
    per_split = df.groupby("split").agg(
        persons=("person", "nunique"), videos=("video", "nunique"),
        sequences=("sequence", "nunique"), crops=("png", "size"), windows=("windows", "sum"),
        face_px=("face_px", "median"),
    ).reset_index()
    grades = per_person.groupby("split")["grade"].value_counts().unstack(fill_value=0)
    per_split = per_split.join(grades.reindex(columns=["webcam", "high-res"],
                                              fill_value=0), on="split")
    for t in (per_video, per_person, per_split):
        t["windows"] = t["windows"].round().astype(int)
    return per_video, per_person, per_split
