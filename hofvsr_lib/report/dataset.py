"""The dataset chapter's tables and figures, read from a built dataset (its manifest and
crops; no compute): counts per split and per video, face and crop sizes, sample windows."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..data.dataset import FaceWindows
from ..data.manifest import SPLITS, summarise


def dataset_tables(manifest: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per split, per video) counts for reading: persons, videos, sequences, crops and
    windows per split; each video's size, counts and median face and crop sides (px)."""
    per_video, per_split = summarise(manifest)
    sides = {"face_px": "face (px)", "crop_px": "crop (px)"}
    per_video = per_video.astype({k: int for k in sides}).rename(columns=sides)
    # a video's id ends in a hash of its file, which the reader does not need
    per_video["video"] = per_video["video"].str.replace(r"-[0-9a-f]{12}$", "", regex=True)
    return per_split.set_index("split"), per_video.set_index(["split", "person"])


def skipped_table(skipped: list[tuple[str, str]]) -> pd.DataFrame:
    """The files a build skipped, with the reason for each."""
    return pd.DataFrame(skipped, columns=["skipped file", "reason"]).set_index("skipped file")


def face_sizes(manifest: pd.DataFrame, hr_size: int) -> plt.Figure:
    """Histograms per split of the detected face side and of the square crop cut around it
    (source pixels), the HR size marked."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
    bins = {c: np.histogram_bin_edges(manifest[c], 30) for c in ("face_px", "crop_side")}
    for split, group in manifest.groupby("split"):
        axes[0].hist(group["face_px"], bins=bins["face_px"], alpha=0.6, label=split)
        axes[1].hist(group["crop_side"], bins=bins["crop_side"], alpha=0.6, label=split)
    axes[0].set(xlabel="face box side (source px)", ylabel="crops", title="(a) detected face")
    axes[1].axvline(hr_size, color="k", ls="--", label=f"HR size {hr_size}")
    axes[1].set(xlabel="crop side (source px)", title="(b) crop before resizing")
    for ax in axes:
        ax.legend()
    fig.tight_layout()
    return fig


def _middle_windows(windows: FaceWindows, n: int) -> list[int]:
    """The middle window of each sequence, ``n`` of them spread over the sequences."""
    by_sequence: dict[str, list[int]] = {}
    for i, w in enumerate(windows.windows):
        by_sequence.setdefault(w.sequence, []).append(i)
    picks = [idx[len(idx) // 2] for idx in by_sequence.values()]
    return picks[:: max(1, len(picks) // n)][:n]


def sample_windows(data: str | Path, per_split: dict[str, int] | None = None) -> plt.Figure:
    """Sample windows of every split present: the HR centre crop (colour) beside the three
    LR frames the network sees (T-1, T, T+1, luma)."""
    per_split = per_split or {"train": 5, "val": 3, "test": 3}
    rows = []
    for split in SPLITS:
        try:
            windows = FaceWindows(data, split)
        except ValueError:  # e.g. a dataset of one person has no validation or test split
            continue
        rows += [(split, windows, i) for i in _middle_windows(windows, per_split.get(split, 3))]
    fig, axes = plt.subplots(len(rows), 4, figsize=(9, 2.4 * len(rows)), squeeze=False)
    for r, (split, windows, i) in enumerate(rows):
        lr, _ = windows[i]
        axes[r, 0].imshow(windows.rgb_centre(i))
        axes[r, 0].set_title(f"{split}: {windows.windows[i].person}", fontsize=8)
        for k, name in enumerate(["LR T-1", "LR T", "LR T+1"]):
            axes[r, k + 1].imshow(lr[k, 0].numpy(), cmap="gray", vmin=0, vmax=1,
                                  interpolation="nearest")
            axes[r, k + 1].set_title(name, fontsize=8)
    for ax in axes.ravel():
        ax.axis("off")
    fig.tight_layout()
    return fig
