"""Videos -> face sequences of aligned HR crops + ``manifest.csv`` (the paper's dataset recipe).

For each video: decode with OpenCV, detect faces with MTCNN, follow every face with
:class:`~hofvsr_lib.data.faces.FaceTracker` (which ends a track where its association to the
next frame's faces is ambiguous), and keep one face per *seat*: the main face (the largest
one, held until its track ends). Cut a sequence wherever that face is lost, too small, leaves
its seat, or the read frames stop being consecutive; smooth each sequence's boxes without lag;
crop squares with a margin and resize them to ``hr_size`` (PNG, RGB). LR inputs are not
stored: the dataset makes them on the fly with :func:`hofvsr_lib.imaging.downscale`
(antialiased bicubic / ``scale``).

A video has one seat, the whole frame, and one person: its first-level subfolder under the
videos folder (``DIR/alice/*.mp4``), else the file's stem. A default clip filming several
people at fixed places declares a seat per person (:class:`~.sources.Seat`, a band of the
frame's width): position-based identity. A face's seat is the band holding its box's centre;
a track that has been one seat's face is never another seat's, so a person who moves into a
neighbour's band is dropped rather than relabelled. Train / val / test are split by person
(:func:`.manifest.assign_splits`), after at most ``max_per_person`` crops are kept per person
(:func:`.manifest.cap_per_person`).

Each video's result lives in ``OUT/faces/<stem>-<sha12>/`` (crops, ``frames.csv`` and
``video.json``), written in a temporary folder and renamed when complete: a re-run or an
interrupted build skips the videos already done with the same settings (keyed by content
hash), and the manifest is reassembled from them.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from tqdm import tqdm

from hofvsr_lib.atomic import write_csv, write_json
from hofvsr_lib.data.faces import (
    FaceDetector,
    FaceTracker,
    Track,
    box_side,
    crop_resize,
    crop_square,
    smooth_boxes,
)
from hofvsr_lib.data.manifest import (
    COLUMNS,
    MANIFEST,
    SPLITS,
    assign_splits,
    cap_per_person,
)
from hofvsr_lib.data.sources import (
    DEFAULT_SOURCES,
    DEFAULT_TEST_PERSONS,
    DEFAULT_VAL_PERSONS,
    SOURCES,
    Seat,
    fetch_video,
    sha256_file,
)
from hofvsr_lib.data.video import (
    IMAGE_EXTENSIONS,
    VIDEO_EXTENSIONS,
    VideoError,
    VideoReader,
    frame_plan,
)
from hofvsr_lib.profiles import DatasetProfile
from hofvsr_lib.provenance import portable_path

EARLIER = " (from an earlier run)"  # ends the reason of a skip found in an earlier run
FORMAT_VERSION = 3  # bump when the per-video output changes meaning


@dataclass(frozen=True)
class BuildConfig:
    """Every setting of a build. Those in :meth:`video_key` decide whether a video's cached
    result can be reused."""

    max_frames: int | None = 300  # frames read per video (None: all)
    frame_step: int = 1
    hr_size: int = 144
    scale: int = 4
    margin: float = 0.25  # added on each side of the face box, as a fraction of its side
    min_face: int = 40  # smallest usable face box side, in source pixels
    min_prob: float = 0.9  # detections below are ignored
    seq_min_prob: float = 0.99  # a sequence's median probability must reach this (real faces
    # score ~0.9999; drawn faces, such as Big Buck Bunny's, ~0.95)
    min_seq_len: int = 8  # shorter runs of a face are dropped
    chunk: int = 48  # frames are read in runs of this many consecutive ones
    max_side: int = 640  # frames are shrunk to this before detection
    max_per_person: int | None = None  # crops kept per person (None: all)
    val_persons: tuple[str, ...] | None = None
    test_persons: tuple[str, ...] | None = None
    val_fraction: float = 0.2
    test_fraction: float = 0.2

    @classmethod
    def from_profile(cls, profile: DatasetProfile, **overrides) -> BuildConfig:
        """The config of a profile's dataset part, with some fields overridden."""
        base = dict(max_frames=profile.max_frames_per_video, frame_step=profile.frame_step,
                    hr_size=profile.hr_size, scale=profile.scale,
                    max_per_person=profile.max_frames_per_person)
        base.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**base)

    def video_key(self) -> dict:
        """The settings that shape one video's crops."""
        d = asdict(self)
        for k in ("max_per_person", "val_persons", "test_persons", "val_fraction",
                  "test_fraction"):
            d.pop(k)
        d["format"] = FORMAT_VERSION
        return d


@dataclass(frozen=True)
class VideoInput:
    """A video to read and the person filmed in it; or, with ``seats``, the persons filmed
    at fixed places (``person`` then only names the clip)."""

    path: Path
    person: str
    seats: tuple[Seat, ...] = ()

    def seat_list(self) -> tuple[Seat, ...]:
        """The seats to follow a face in: the declared ones, else the whole frame."""
        return self.seats or (Seat(self.person, 0.0, 1.0),)


@dataclass
class BuildReport:
    """What a build produced; ``ok`` is False when nothing usable came out."""

    out: Path
    manifest: pd.DataFrame
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)  # videos taken from an earlier run
    frames_read: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return len(self.manifest) > 0


class _Skip(Exception):
    """A video with no usable face sequence (``n_read``: frames read to find that out)."""

    def __init__(self, reason: str, n_read: int = 0) -> None:
        super().__init__(reason)
        self.n_read = n_read


def find_videos(root: Path) -> tuple[list[VideoInput], list[tuple[str, str]]]:
    """Videos under ``root`` (a folder, searched recursively, or one file) with their person,
    and the other files met there with the reason they are not used."""
    root = Path(root)
    if not root.exists():
        raise FileNotFoundError(f"{root}: no such file or folder")
    files = [root] if root.is_file() else sorted(
        p for p in root.rglob("*") if p.is_file() and not any(
            part.startswith(".") for part in p.relative_to(root).parts))
    inputs: list[VideoInput] = []
    skipped: list[tuple[str, str]] = []
    for p in files:
        ext = p.suffix.lower()
        if ext in IMAGE_EXTENSIONS:
            skipped.append((portable_path(p), "a still image, not a video"))
        elif ext not in VIDEO_EXTENSIONS:
            skipped.append((portable_path(p), f"not a video file (extension {ext or 'none'!r})"))
        else:
            rel = p.relative_to(root).parts if root.is_dir() else (p.name,)
            inputs.append(VideoInput(p, rel[0] if len(rel) > 1 else p.stem))
    return inputs, skipped


def default_inputs(names: tuple[str, ...] | list[str] = DEFAULT_SOURCES
                   ) -> tuple[list[VideoInput], list[tuple[str, str]]]:
    """The default clips (fetched into the cache if needed) with their persons, and the clips
    refused with the reason (a sha256 that differs from the recorded one, a failed download)."""
    inputs: list[VideoInput] = []
    refused: list[tuple[str, str]] = []
    for n in names:
        try:
            inputs.append(VideoInput(fetch_video(n), SOURCES[n].person or n, SOURCES[n].seats))
        except RuntimeError as e:
            refused.append((n, str(e)))
    return inputs, refused


def build_dataset(
    videos: Path | str | list[VideoInput] | None,
    out: Path | str,
    config: BuildConfig | None = None,
    device: str | None = None,
    progress: bool = True,
    log=print,
    cpu_threads: int | None = 1,
) -> BuildReport:
    """Build (or resume) the dataset of ``videos`` into ``out``; see the module docstring.

    ``videos``: a folder or file, a list of :class:`VideoInput`, or None for the default
    clips (split by :data:`~.sources.DEFAULT_VAL_PERSONS` / ``DEFAULT_TEST_PERSONS``).
    ``cpu_threads``: see :class:`~.faces.FaceDetector`.
    """
    cfg = config or BuildConfig()
    if cfg.hr_size % cfg.scale:
        raise ValueError(f"hr_size {cfg.hr_size} is not a multiple of the scale {cfg.scale}")
    out = Path(out)
    t0 = time.time()
    skipped: list[tuple[str, str]] = []
    if videos is None:
        inputs, skipped = default_inputs()
        if cfg.val_persons is None and cfg.test_persons is None:
            cfg = BuildConfig(**{**asdict(cfg), "val_persons": DEFAULT_VAL_PERSONS,
                                 "test_persons": DEFAULT_TEST_PERSONS})
    elif isinstance(videos, list):
        inputs = videos
    else:
        inputs, skipped = find_videos(Path(videos))
    for path, reason in skipped:
        log(f"SKIP {path}: {reason}")
    (out / "faces").mkdir(parents=True, exist_ok=True)

    report = BuildReport(out=out, manifest=pd.DataFrame(columns=COLUMNS), skipped=skipped)

    @cache
    def detector() -> FaceDetector:  # loaded once, and only if a video needs detecting
        return FaceDetector(device=device, min_face=cfg.min_face, min_prob=cfg.min_prob,
                            max_side=cfg.max_side, cpu_threads=cpu_threads)

    seen: dict[str, Path] = {}
    per_video = [rows for inp in inputs
                 if (rows := _video_rows(inp, out, cfg, report, seen, detector, progress, log))
                 is not None]
    _write_manifest(report, inputs, per_video, cfg, time.time() - t0)
    _summary(report, log)
    return report


def _video_rows(inp: VideoInput, out: Path, cfg: BuildConfig, report: BuildReport,
                seen: dict[str, Path], detector, progress: bool, log) -> pd.DataFrame | None:
    """The crops of one input video, reused from an earlier run or made now (``detector()``
    gives the face detector); None, with the reason in ``report``, when it is skipped."""
    try:
        sha = _sha_or_skip(inp.path)
        if sha in seen:
            raise _Skip(f"same content as {seen[sha]}, used once")
        seen[sha] = inp.path
        folder = out / "faces" / f"{_safe(inp.path.stem)}-{sha[:12]}"
        key = _video_key(cfg, inp)
        done = _load_done(folder, key)
        if done is not None:
            rows, warning = done
            report.reused.append(str(inp.path))
            log(f"done {inp.path.name}: reused {len(rows)} crops from an earlier run")
        else:
            rows, n_read, warning = _process_video(inp, sha, folder, cfg, key, detector(),
                                                   progress)
            report.frames_read += n_read
            if warning:
                log(f"WARNING {portable_path(inp.path)}: {warning}")
            log(f"done {inp.path.name}: {rows['sequence'].nunique()} sequences, "
                f"{len(rows)} crops from {n_read} frames read")
        if warning:
            report.warnings.append((str(inp.path), warning))
    except (_Skip, VideoError) as e:
        reason = e.reason if isinstance(e, VideoError) else str(e)
        report.frames_read += getattr(e, "n_read", 0)
        report.skipped.append((portable_path(inp.path), reason))
        log(f"SKIP {portable_path(inp.path)}: {reason}")
        return None
    except Exception as e:  # one odd file must not stop the others
        reason = f"failed while processing: {type(e).__name__}: {e}"
        report.skipped.append((portable_path(inp.path), reason))
        log(f"SKIP {portable_path(inp.path)}: {reason}")
        return None
    persons = dict(enumerate(s.person for s in inp.seat_list()))
    return rows.assign(source=str(inp.path), person=rows["seat"].map(persons))


def _write_manifest(report: BuildReport, inputs: list[VideoInput],
                    per_video: list[pd.DataFrame], cfg: BuildConfig, seconds: float) -> None:
    """The manifest (persons split), ``skipped.csv`` and ``build.json`` of a build."""
    out = report.out
    manifest = pd.concat(per_video, ignore_index=True) if per_video else report.manifest
    if len(manifest):
        manifest = cap_per_person(manifest, cfg.max_per_person)
        splits = assign_splits(list(manifest["person"]), cfg.val_persons, cfg.test_persons,
                               cfg.val_fraction, cfg.test_fraction)
        manifest["split"] = manifest["person"].map(splits)
    manifest = manifest[COLUMNS]
    write_csv(manifest, out / MANIFEST)
    write_csv(pd.DataFrame(report.skipped, columns=["file", "reason"]), out / "skipped.csv")
    report.manifest = manifest
    report.seconds = seconds
    write_json(out / "build.json", {
        "config": asdict(cfg), "videos": [str(i.path) for i in inputs],
        "crops": len(manifest), "sequences": int(manifest["sequence"].nunique()),
        "skipped": report.skipped, "warnings": report.warnings, "reused": report.reused,
        "frames_read": report.frames_read, "seconds": round(report.seconds, 1),
    })


def _sha_or_skip(path: Path) -> str:
    if not path.is_file():
        raise VideoError(path, "no such file")
    return sha256_file(path)


def _safe(stem: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in stem)[:60] or "video"


def _video_key(cfg: BuildConfig, inp: VideoInput) -> dict:
    """What shapes one video's crops: the build's settings and the bands of its seats (not
    their persons, which are given to the rows when they are read)."""
    return {**cfg.video_key(), "seats": [[s.x_from, s.x_to] for s in inp.seat_list()]}


def _load_done(folder: Path, key: dict) -> tuple[pd.DataFrame, str] | None:
    """(rows, warning) of a video finished earlier with the same settings, else None."""
    meta = folder / "video.json"
    if not meta.is_file():
        return None
    info = json.loads(meta.read_text())
    if info.get("key") != key:
        return None
    if info.get("status") == "skipped":
        raise _Skip(info["reason"] + EARLIER)
    return _read_frames(folder), info.get("warning", "")


def _read_frames(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "frames.csv", dtype={"video": str, "sequence": str})


def _process_video(inp: VideoInput, sha: str, folder: Path, cfg: BuildConfig, key: dict,
                   detector: FaceDetector, progress: bool) -> tuple[pd.DataFrame, int, str]:
    """Detect, track, cut, crop one video into ``folder``; returns its rows, the number of
    frames read and a warning ('' if none). Raises _Skip / VideoError when unusable."""
    reader = VideoReader(inp.path)
    plan = frame_plan(reader.info.n_frames, cfg.max_frames, cfg.chunk, cfg.frame_step)
    wanted = set(plan) if plan else None  # None: every frame (length unknown)
    found = _detect_faces(reader, wanted, inp.seat_list(), cfg, detector, progress)
    n_read = found["n_read"]
    warning = ""
    if reader.truncated:
        warning = (f"truncated or damaged: the header promises {reader.info.n_frames} frames, "
                   f"the stream breaks off after {reader.decoded}; the frames before are used")
    runs = [(k, run) for k, seat_faces in enumerate(found["faces"])
            for run in _cut_sequences(seat_faces, found["order"], cfg)]
    sequences = [(k, run) for k, run in runs
                 if np.median([found["faces"][k][i][2] for i in run]) >= cfg.seq_min_prob]
    found["doubtful"] = bool(runs) and not sequences
    try:
        if not sequences:
            raise _Skip(_no_face_reason(found, n_read, cfg), n_read)
        rows = _write_crops(reader, sequences, found["faces"], found["shape"], sha, folder,
                            cfg, key, warning)
    except _Skip as e:
        _mark_skipped(folder, key, str(e))
        raise
    return rows, n_read, warning


def _detect_faces(reader: VideoReader, wanted: set[int] | None, seats: tuple[Seat, ...],
                  cfg: BuildConfig, detector: FaceDetector, progress: bool) -> dict:
    """Pass 1: per seat, per read frame, its main face's (track id, box, prob) if usable.
    Decodes to the end of the stream (cheap next to detection) so that a truncated file is
    noticed."""
    tracker = FaceTracker()
    faces: list[dict[int, tuple[int, np.ndarray, float]]] = [{} for _ in seats]
    order: list[int] = []
    stats = {"n_read": 0, "n_detected": 0, "max_face": 0.0, "shape": None}
    state: dict = {"main": [None] * len(seats), "owner": {}, "prev": None, "hint": None}
    total = len(wanted) if wanted is not None else (reader.info.n_frames or None)
    bar = tqdm(total=total, desc=reader.path.name[:30], unit="frame", disable=not progress,
               leave=False, mininterval=1.0, file=sys.stderr)

    def flush(batch: list[tuple[int, np.ndarray]]) -> None:
        dets = detector.detect([f for _, f in batch], min_face=state["hint"])
        sides = []
        for (idx, frame), (boxes, probs) in zip(batch, dets, strict=True):
            stats["shape"] = frame.shape
            if state["prev"] is not None and idx != state["prev"] + cfg.frame_step:
                tracker.reset()  # the read frames jump: a new chunk
                state["main"] = [None] * len(seats)
            state["prev"] = idx
            order.append(idx)
            if len(boxes):
                stats["n_detected"] += 1
                stats["max_face"] = max(stats["max_face"], float(box_side(boxes).max()))
            active = {t.id: t for t in tracker.update((boxes, probs))}
            alive = {t.id for t in tracker.tracks}
            for k, seat in enumerate(seats):
                trk = _seat_face(k, seat, active, alive, state, frame.shape[1])
                if trk is not None and box_side(trk.raw_box) >= cfg.min_face:
                    faces[k][idx] = (trk.id, trk.raw_box.copy(), trk.prob)
                    sides.append(float(box_side(trk.raw_box)))
        # every seat's face in every frame: search only faces over half the smallest one's
        # size in the next batch
        full = len(sides) == len(batch) * len(seats)
        state["hint"] = int(0.5 * min(sides)) if full else None
        stats["n_read"] += len(batch)
        bar.update(len(batch))
        bar.set_postfix(faces=sum(map(len, faces)), refresh=False)

    batch: list[tuple[int, np.ndarray]] = []
    for idx, frame in reader.frames(wanted, to_end=True):
        batch.append((idx, frame))
        if len(batch) == detector.batch_size:
            flush(batch)
            batch = []
    if batch:
        flush(batch)
    bar.close()
    return {**stats, "faces": faces, "order": order}


def _seat_face(k: int, seat: Seat, active: dict[int, Track], alive: set[int], state: dict,
               width: int) -> Track | None:
    """The face of seat ``k`` in this frame (a tracker's Track, or None): its main track
    while that lives and stays in the seat, else the largest face in the seat that no other
    seat has had (``state["owner"]``: track id -> seat)."""
    main = state["main"][k]
    if main in active and not seat.holds(active[main].raw_box, width):
        main = None  # it left its seat: identity by position no longer holds
    if main not in alive:
        free = [t for t in active.values() if seat.holds(t.raw_box, width)
                and state["owner"].get(t.id, k) == k]
        main = max(free, key=lambda t: box_side(t.raw_box)).id if free else None
        if main is not None:
            state["owner"][main] = k
    state["main"][k] = main
    return active.get(main)


def _cut_sequences(faces: dict, order: list[int], cfg: BuildConfig) -> list[list[int]]:
    """Runs of consecutive read frames showing the same main face, at least min_seq_len."""
    runs: list[list[int]] = []
    current: list[int] = []
    for idx in order:
        face = faces.get(idx)
        if (face is not None and current and idx == current[-1] + cfg.frame_step
                and faces[current[-1]][0] == face[0]):
            current.append(idx)
            continue
        if len(current) >= cfg.min_seq_len:
            runs.append(current)
        current = [idx] if face is not None else []
    if len(current) >= cfg.min_seq_len:
        runs.append(current)
    return runs


def _no_face_reason(found: dict, n_read: int, cfg: BuildConfig) -> str:
    if n_read == 0:
        return "no frame could be decoded"
    if found["n_detected"] == 0:
        return f"no face found in the {n_read} frames read"
    faces = [f for seat_faces in found["faces"] for f in seat_faces.values()]
    if not faces:
        return (f"faces too small: the largest is {found['max_face']:.0f} px, "
                f"under the minimum of {cfg.min_face} px (--min-face)")
    probs = [p for _, _, p in faces]
    if found["doubtful"] or np.median(probs) < cfg.seq_min_prob:
        return (f"no real face: face-like detections in {len(probs)} of {n_read} frames "
                f"read, but their median probability {np.median(probs):.3f} is under "
                f"{cfg.seq_min_prob} (a drawn face or false detections)")
    return (f"no usable face sequence: a face shows in {len(probs)} of {n_read} "
            f"frames read but never for {cfg.min_seq_len} consecutive frames")


def _write_crops(reader: VideoReader, sequences: list[tuple[int, list[int]]],
                 faces: list[dict], shape: tuple[int, ...], sha: str, folder: Path,
                 cfg: BuildConfig, key: dict, warning: str) -> pd.DataFrame:
    """Pass 2: re-decode the kept frames, cut the smoothed crops (``sequences``: (seat, run)
    pairs), write PNGs + frames.csv, all in ``<folder>.part`` renamed to ``folder`` at the
    end."""
    tmp = folder.with_name(folder.name + ".part")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    video = folder.name
    # frame index -> the crops to cut from it, one per seat seen there
    plan: dict[int, list[tuple[int, str, int, tuple[int, int, int], np.ndarray, float]]] = {}
    for s, (seat, run) in enumerate(sequences):
        seq = f"seq{s:03d}"
        (tmp / seq).mkdir()
        seat_faces = faces[seat]
        raw = np.stack([seat_faces[i][1] for i in run])
        for pos, (idx, box) in enumerate(zip(run, smooth_boxes(raw), strict=True)):
            plan.setdefault(idx, []).append(
                (seat, seq, pos, crop_square(box, cfg.margin, shape), seat_faces[idx][1],
                 seat_faces[idx][2]))
    rows = []
    for idx, frame in reader.frames(set(plan)):
        for seat, seq, pos, crop, box, prob in plan[idx]:
            if frame.shape != shape:
                crop = crop_square(box, cfg.margin, frame.shape)
            name = f"{seq}/{idx:06d}.png"
            _write_png(tmp / name, crop_resize(frame, crop, cfg.hr_size))
            rows.append({
                "video": video, "sha256": sha, "seat": seat, "sequence": f"{video}/{seq}",
                "position": pos, "frame": idx, "png": f"faces/{video}/{name}",
                "x0": box[0], "y0": box[1], "x1": box[2], "y1": box[3], "prob": prob,
                "crop_x0": crop[0], "crop_y0": crop[1], "crop_side": crop[2],
                "face_px": float(box_side(box)), "width": frame.shape[1],
                "height": frame.shape[0], "fps": reader.info.fps,
            })
    n_planned = sum(map(len, plan.values()))
    if len(rows) != n_planned:
        shutil.rmtree(tmp)
        raise VideoError(reader.path, f"a second decoding gave {len(rows)} of the "
                                      f"{n_planned} crops kept by the first")
    write_csv(pd.DataFrame(rows), tmp / "frames.csv")
    df = _read_frames(tmp)  # the stored values, as a re-run will read them
    write_json(tmp / "video.json", {"key": key, "status": "ok",
                                     "sequences": len(sequences), "crops": len(df),
                                     "warning": warning})
    if folder.exists():
        shutil.rmtree(folder)
    tmp.replace(folder)
    return df


def _mark_skipped(folder: Path, key: dict, reason: str) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    write_json(folder / "video.json", {"key": key, "status": "skipped", "reason": reason})


def _summary(report: BuildReport, log) -> None:
    m = report.manifest
    if len(m):
        parts = []
        for split in SPLITS:
            s = m[m["split"] == split]
            parts.append(f"{split}: {s['person'].nunique()} persons, "
                         f"{s['sequence'].nunique()} sequences, {len(s)} crops")
        fps = report.frames_read / max(report.seconds, 1e-9)
        work = (f"{report.frames_read} frames read in {report.seconds:.0f} s, {fps:.1f} "
                f"frames/s" if report.frames_read else "every video reused")
        log(f"Dataset {report.out / MANIFEST}: {m['video'].nunique()} videos; "
            + "; ".join(parts) + f" ({work})")
    else:
        log(f"Nothing usable came out: no face sequence in any of the inputs ({report.out})")
    if report.skipped:
        log(f"Skipped {len(report.skipped)} file(s):")
        for f, reason in report.skipped:
            log(f"  {f}: {reason}")
    for f, w in report.warnings:
        log(f"Warning {f}: {w}")


def _write_png(path: Path, rgb: np.ndarray) -> None:
    if not cv2.imwrite(str(path), np.ascontiguousarray(rgb[..., ::-1])):
        raise OSError(f"could not write {path}")
