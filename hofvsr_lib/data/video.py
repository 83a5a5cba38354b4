"""Video decoding with OpenCV, upright, with one clear error per kind of bad file.

:class:`VideoReader` opens a file, raising :class:`VideoError` (whose message names the file
and the reason) for a missing, empty, unreadable or still-image file; its
:meth:`~VideoReader.frames` generator yields ``(index, RGB uint8 frame)`` for the wanted
indices and decodes the others cheaply (``grab`` only). A stream that ends before the
point its header promised is noted in :attr:`VideoReader.truncated`.

Frames come out as a player shows them: a stream with a display matrix (a phone's portrait
video: landscape pixels turned by 90 or 270 degrees) is turned upright by OpenCV's FFmpeg
backend (``CAP_PROP_ORIENTATION_AUTO``, asked for explicitly), and :attr:`VideoReader.info`
gives the upright size, so the face detector sees upright faces.

FFmpeg's own console messages about corrupt streams are silenced (``OPENCV_FFMPEG_LOGLEVEL``,
set only when the user has not set it): the builder prints one line per file instead.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # before cv2 loads FFmpeg

from collections.abc import Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

VIDEO_EXTENSIONS = frozenset({".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg",
                              ".wmv", ".flv", ".3gp", ".ts"})
IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff",
                              ".webp", ".heic"})


class VideoError(ValueError):
    """A file that cannot be used as a video (a bad input value: one line from the ``hofvsr``
    command); ``str()`` names the file and the reason."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason


@dataclass(frozen=True)
class VideoInfo:
    """What the container says (``n_frames`` may be wrong or 0 for some formats)."""

    width: int
    height: int
    fps: float
    n_frames: int  # 0: unknown


class VideoReader:
    """An opened video file; iterate its frames with :meth:`frames`."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise VideoError(self.path, "no such file")
        if self.path.stat().st_size == 0:
            raise VideoError(self.path, "empty file (0 bytes)")
        if self.path.suffix.lower() in IMAGE_EXTENSIONS:
            raise VideoError(self.path, "a still image, not a video")
        cap = _capture(self.path)
        try:
            if not cap.isOpened():
                raise VideoError(self.path, "cannot be opened as a video (corrupt, truncated, "
                                            "or not a video format OpenCV/FFmpeg can read)")
            n = cap.get(cv2.CAP_PROP_FRAME_COUNT)
            self.info = VideoInfo(
                width=int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
                height=int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
                fps=float(cap.get(cv2.CAP_PROP_FPS) or 0.0),
                n_frames=int(n) if 0 < n < 1e9 else 0,
            )
            ok, _ = cap.read()
            if not ok:
                raise VideoError(self.path, "no frame can be decoded (corrupt or truncated file)")
            if not cap.grab():
                raise VideoError(self.path, "a still image (a single frame), not a video")
        finally:
            cap.release()
        self.decoded = 0  # frames seen by the last frames() call
        self.truncated = False

    def frames(self, indices: set[int] | None = None, to_end: bool = False
               ) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(index, frame)`` (RGB uint8, H x W x 3) for the frames in ``indices`` (all
        when None). Decoding stops after the last wanted frame, or at the end of the stream
        with ``to_end``; :attr:`truncated` then tells whether the stream ended before the
        point its header promised.
        """
        stop = None if indices is None or to_end else max(indices, default=-1) + 1
        cap = _capture(self.path)
        self.decoded = 0
        self.truncated = False
        try:
            i = 0
            while stop is None or i < stop:
                if indices is None or i in indices:
                    ok, frame = cap.read()
                    if ok and frame is not None:
                        self.decoded += 1
                        yield i, np.ascontiguousarray(frame[..., ::-1])
                else:
                    ok = cap.grab()
                    self.decoded += int(ok)
                if not ok:
                    break
                i += 1
        finally:
            cap.release()
        expected = self.info.n_frames if stop is None else min(stop, self.info.n_frames or stop)
        self.truncated = self.info.n_frames > 0 and self.decoded < 0.95 * expected - 1


def _capture(path: Path) -> cv2.VideoCapture:
    """An OpenCV capture of ``path`` that turns frames by the stream's display matrix."""
    cap = cv2.VideoCapture(str(path))
    cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    return cap


def frame_plan(n_frames: int, max_frames: int | None, chunk: int = 48, step: int = 1) -> list[int]:
    """Which frame indices to read: every ``step``-th frame, all of them when ``max_frames``
    is None, else ``max_frames`` of them as runs of ``chunk`` consecutive ones spread evenly
    over the video (variety of poses and lighting). ``n_frames`` 0 (unknown): the first ones.
    """
    step = max(1, step)
    if max_frames is None:
        return list(range(0, n_frames, step)) if n_frames else []
    if n_frames <= 0:
        return list(range(0, max_frames * step, step))
    available = list(range(0, n_frames, step))
    if len(available) <= max_frames:
        return available
    n_chunks = max(1, -(-max_frames // chunk))
    run = max_frames // n_chunks
    starts = np.linspace(0, len(available) - run, n_chunks).round().astype(int)
    picked: list[int] = []
    for k, s in enumerate(starts):
        length = run + (1 if k < max_frames - run * n_chunks else 0)
        picked.extend(available[s : s + length])
    return sorted(set(picked))
