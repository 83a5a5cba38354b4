"""The dataset chapter's tables and figures, read from a built dataset (its manifest and
crops; no compute): counts per split, per person and per video, face and crop sizes, sample
windows; and the dataset summary kept in ``results/dataset/`` (``summary.csv``: one row per
person; ``summary.json``: the splits, the skipped clips with their reasons, the provenance)."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..atomic import write_csv, write_json
from ..data.builder import EARLIER, BuildReport
from ..data.dataset import FaceWindows
from ..data.equivalence import declared
from ..data.manifest import HIGH_RES_FACE_PX, SPLITS, manifest_sha256, summarise
from ..provenance import portable_path, run_provenance

SUMMARY = "summary.json"
PERSONS = "summary.csv"
_SIDES = {"face_px": "face (px)", "crop_px": "crop (px)"}


def dataset_tables(manifest: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per split, per video) counts for reading: persons, videos, sequences, crops and
    windows per split; each video's size, counts and median face and crop sides (px)."""
    per_video, _, per_split = summarise(manifest)
    per_video = per_video.astype({k: int for k in _SIDES}).rename(columns=_SIDES)
    # a video's id ends in a hash of its file, which the reader does not need
    per_video["video"] = per_video["video"].str.replace(r"-[0-9a-f]{12}$", "", regex=True)
    per_split = per_split.astype({"face_px": int}).rename(columns=_SIDES)
    return per_split.set_index("split"), per_video.set_index(["split", "person"])


def write_summary(report: BuildReport, out: str | Path, profile: str) -> Path:
    """``out/summary.csv`` (per person: split, clips, size, fps, sequences, crops, windows,
    median face, grade) and ``out/summary.json`` (per split, skipped clips, provenance: the
    manifest's sha256, profile, versions, machine, date) of a build; returns the JSON's path.

    Left as they are when they already describe this manifest and these skipped files, so a
    re-render changes nothing."""
    out = Path(out)
    manifest_sha = manifest_sha256(report.out)
    skipped = [{"file": f, "reason": r.removesuffix(EARLIER)} for f, r in report.skipped]
    path = out / SUMMARY
    if path.is_file():
        old = json.loads(path.read_text())
        if old["provenance"]["manifest_sha256"] == manifest_sha and \
                [s["file"] for s in old["skipped"]] == [s["file"] for s in skipped]:
            return path
    _, per_person, per_split = summarise(report.manifest)
    for table in (per_person, per_split):  # train, val, test in that order
        table["split"] = pd.Categorical(table["split"], SPLITS, ordered=True)
    per_person = per_person.sort_values(["split", "person"])
    per_split = per_split.sort_values("split").astype({"split": str})
    write_csv(per_person.round({"fps": 2, "face_px": 1}), out / PERSONS)
    write_json(path, {
        "provenance": run_provenance(profile, manifest_sha256=manifest_sha,
                                     dataset=portable_path(report.out)),
        "high_res_face_px": HIGH_RES_FACE_PX,
        "splits": per_split.round({"face_px": 1}).to_dict("records"),
        "skipped": skipped,
        "build": {"frames_read": report.frames_read, "seconds": round(report.seconds, 1),
                  "reused_videos": len(report.reused)},
    })
    return path


def summary_tables(out: str | Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(per split, per person, skipped) tables of the summary in ``out``, for reading (a
    person's clips and crops, in the CSV, left out: the per-video table names the clips, the
    windows say as much as the crops)."""
    out = Path(out)
    summary = json.loads((out / SUMMARY).read_text())
    per_split = pd.DataFrame(summary["splits"]).set_index("split")
    per_split = per_split.astype({"face_px": int}).rename(columns={"face_px": "face (px)"})
    per_person = pd.read_csv(out / PERSONS).set_index(["split", "person"]).drop(
        columns=["clips", "crops"])
    per_person = per_person.astype({"face_px": int}).round({"fps": 1}).rename(
        columns={"face_px": "face (px)"})
    skipped = skipped_table([(s["file"], s["reason"]) for s in summary["skipped"]])
    return per_split, per_person, skipped


def trained_on(results: str | Path, manifest_sha: str) -> pd.DataFrame:
    """Which dataset manifest each committed search (``results/search``) and final run
    (``results/final``) was made on, from its provenance (for older searches, their flow-net
    cache key), beside this dataset's: ``same as this dataset`` says whether they agree, the
    same manifest or one this dataset is a measured rebuild of (``data.equivalence``), which
    ``rebuilt`` names."""
    rows = []
    for file in sorted(Path(results).glob("search/*/provenance.json")):
        prov = json.loads(file.read_text())
        recorded = prov.get("manifest_sha256") or (prov.get("ofr_cache") or {}).get(
            "key", {}).get("manifest_sha256", "")
        rows.append({"result": f"search {file.parent.name}", "manifest": recorded})
    for file in sorted(Path(results).glob("final/*_seed*.json")):
        recorded = json.loads(file.read_text())["provenance"].get("manifest_sha256", "")
        rows.append({"result": f"final run {file.stem}", "manifest": recorded})
    table = pd.DataFrame(rows, columns=["result", "manifest"])
    table["rebuilt"] = [m != manifest_sha and declared(m, manifest_sha, Path(results))
                        for m in table["manifest"]]
    table["same as this dataset"] = (table["manifest"] == manifest_sha) | table["rebuilt"]
    table["manifest"] = table["manifest"].str[:12].replace("", "not recorded")
    return table.set_index("result")


def rebuild_table(measured: dict[str, dict]) -> pd.DataFrame:
    """:func:`~..data.equivalence.declare_rebuild`'s measurements, one row per dataset the
    results were made on: its test windows against this dataset's, bicubic's largest PSNR
    difference per window, and whether this dataset was declared a rebuild of it."""
    table = pd.DataFrame([{"made on dataset": sha[:12], "test windows": m["test_windows"],
                           "recorded windows": m["recorded_windows"],
                           "same windows": m["same_windows"],
                           "max |bicubic PSNR difference| (dB)": m["max_abs_db"],
                           "tolerance (dB)": m["tolerance_db"], "declared a rebuild": m["declared"]}
                          for sha, m in measured.items()])
    return table.set_index("made on dataset") if len(table) else table


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
