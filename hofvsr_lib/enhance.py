"""Face video super-resolution, the paper's Figure 2: ``hofvsr enhance IN OUT``.

Per frame: MTCNN finds the faces (:class:`~hofvsr_lib.data.faces.FaceDetector`) and a tracker
follows them through time (:class:`~hofvsr_lib.data.faces.FaceTracker`); the whole frame is
bicubic x4 (:func:`hofvsr_lib.imaging.upscale`, the LR protocol's kernel); each tracked face
region is super-resolved by the video network from frames T-1, T, T+1 (so the output lags the
input by one frame; the first and last frames stand in for their missing neighbour) and spliced
into the bicubic frame with a feathered seam. The network works on luma Y; chroma stays
bicubic. Only a 3-frame window is held, so memory does not grow with the video.

Face crops are taken at the video's native resolution (a square around the tracked face with a
margin) and never resized. The network is a fully convolutional x4 upscaler, so its output is
exactly the 4x region to splice. Resizing a large face down to the 36x36 training size would
throw input pixels away and force a second, bicubic, upscale of the network's output: a face
blurrier than plain bicubic of the original. Resizing a small face up would feed the network
something that is not an LR image. The price is that the network's time grows with the face
area: a 36x36 crop is the paper's benchmark unit, a 300x300 crop costs about 70 of them.

``--checkpoint none`` gives the plain bicubic video (no detection, no network).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from itertools import islice
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from hofvsr_lib.data.faces import FaceDetector, FaceTracker, crop_square
from hofvsr_lib.data.video import VideoError, VideoReader
from hofvsr_lib.imaging import rgb_to_y, upscale, ycbcr_to_rgb
from hofvsr_lib.models import load_checkpoint

SCALE = 4
DEFAULT_CHECKPOINT = Path("results/checkpoints/hofvsr_64_5_64_seed0.pt")  # first seed
MARGIN = 0.2  # face box enlarged by this fraction of its side on every side
BRIDGE_MISSES = 2  # frames a tracked face may go undetected and still be super-resolved
FEATHER = 0.15  # width of the seam's linear ramp, as a fraction of the crop side
# output extension -> FourCC that OpenCV's bundled FFmpeg writes without extra codecs
FOURCC = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "XVID"}

BoxesFn = Callable[[np.ndarray], np.ndarray]
# RGB change per unit of luma at fixed chroma (BT.601 studio swing: 255/219 on each channel)
_RGB_PER_Y = (ycbcr_to_rgb(np.array([0.6, 0.5, 0.5])) - ycbcr_to_rgb(np.array([0.5, 0.5, 0.5]))
              ) / 0.1


@dataclass
class StageTimes:
    """Seconds spent in each pipeline stage, and what they covered."""

    frames: int = 0
    faces: int = 0  # face crops super-resolved (summed over frames)
    face_pixels: int = 0  # LR pixels of those crops
    decode: float = 0.0
    detect: float = 0.0
    network: float = 0.0
    splice: float = 0.0  # bicubic x4 of the frame + face blending
    encode: float = 0.0

    @property
    def total(self) -> float:
        return self.decode + self.detect + self.network + self.splice + self.encode

    def to_dict(self) -> dict:
        d = asdict(self)
        d["total"] = self.total
        d["fps"] = self.frames / self.total if self.total else 0.0
        return d


def feather_mask(h: int, w: int, feather: float = FEATHER) -> np.ndarray:
    """(h, w) blending weights: 1 inside, linear ramps down to ~0 over ``feather`` of the side."""
    ramp = max(1.0, feather * min(h, w))

    def axis(n: int) -> np.ndarray:
        i = np.arange(n, dtype=np.float32) + 0.5
        return np.clip(np.minimum(i, n - i) / ramp, 0.0, 1.0)

    return np.outer(axis(h), axis(w))


def bicubic_frame(frame: np.ndarray) -> np.ndarray:
    """An (H, W, 3) uint8 frame -> its (4H, 4W, 3) uint8 bicubic x4 (imaging's kernel)."""
    t = torch.from_numpy(frame).permute(2, 0, 1).float()
    out = upscale(t, SCALE).round_().clamp_(0, 255).to(torch.uint8)
    return out.permute(1, 2, 0).contiguous().numpy()


def luma(rgb: np.ndarray) -> np.ndarray:
    """(h, w, 3) RGB uint8 -> (h, w) float32 Y in [0, 1] (the training protocol's rgb2y)."""
    return rgb_to_y(rgb.astype(np.float32) / 255.0)


def splice_luma(hr: np.ndarray, y_sr: np.ndarray, x0: int, y0: int,
                feather: float = FEATHER) -> None:
    """Blend the super-resolved luma ``y_sr`` (h, w) into the RGB uint8 frame ``hr`` at
    (x0, y0), in place, through a feathered mask; chroma is kept from ``hr``.

    A luma step dY with Cb, Cr fixed is the same step ``_RGB_PER_Y * dY`` on R, G and B, so the
    blend is done in RGB without converting the patch back and forth."""
    h, w = y_sr.shape
    patch = hr[y0:y0 + h, x0:x0 + w]
    rgb = patch.astype(np.float32) / 255.0
    dy = feather_mask(h, w, feather) * (y_sr - rgb_to_y(rgb))
    patch[...] = np.clip(np.rint((rgb + dy[..., None] * _RGB_PER_Y) * 255.0), 0, 255)


def tracked_boxes(device: str | torch.device = "cpu", min_face: int = 20,
                  bridge: int = BRIDGE_MISSES) -> BoxesFn:
    """A per-frame function RGB frame -> (N, 4) smoothed square boxes of the tracked faces:
    MTCNN on every frame; a face the detector misses for up to ``bridge`` frames keeps its
    last box (no flicker), after that the region goes back to bicubic."""
    detector = FaceDetector(device=device, min_face=min_face)
    tracker = FaceTracker()

    def boxes_for(frame: np.ndarray) -> np.ndarray:
        tracker.update(detector.detect([frame])[0])
        return np.array([t.box for t in tracker.tracks if t.missed <= bridge]).reshape(-1, 4)

    return boxes_for


class FaceEnhancer:
    """The Figure 2 pipeline on a stream of RGB uint8 frames, with a one-frame delay.

    ``model``: a network of the SOF-VSR family ((B, 3, 1, h, w) Y -> (B, 1, 4h, 4w)), or None
    for bicubic only (moved to ``device`` in channels-last layout, in place). ``boxes_for(frame)``:
    the face boxes (x0, y0, x1, y1) of a frame, called once per frame in order. Per-stage
    seconds accumulate in :attr:`times`.
    """

    def __init__(self, model: nn.Module | None, boxes_for: BoxesFn | None,
                 device: str | torch.device = "cpu", margin: float = MARGIN,
                 feather: float = FEATHER):
        self.device = torch.device(device)
        if model is not None:  # NHWC: 1.3-2x faster on CPU (see hofvsr bench), same output
            model = model.to(self.device, memory_format=torch.channels_last).eval()
        self.model = model
        self.boxes_for = boxes_for
        self.margin = margin
        self.feather = feather
        self.times = StageTimes()

    @torch.inference_mode()
    def super_resolve(self, window: list[np.ndarray], crop: tuple[int, int, int]) -> np.ndarray:
        """The network's (4s, 4s) Y of the square ``crop`` (x0, y0, s) of the window's centre."""
        x0, y0, s = crop
        ys = np.stack([luma(f[y0:y0 + s, x0:x0 + s]) for f in window])
        x = torch.from_numpy(ys).view(1, 3, 1, s, s).to(self.device)
        return self.model(x).clamp_(0.0, 1.0)[0, 0].float().cpu().numpy()

    def enhance(self, window: list[np.ndarray], boxes: np.ndarray) -> np.ndarray:
        """The 4x RGB frame of the centre of a (T-1, T, T+1) window with face ``boxes``."""
        t0 = time.perf_counter()
        out = bicubic_frame(window[1])
        self.times.splice += time.perf_counter() - t0
        for box in boxes:
            crop = crop_square(box, self.margin, window[1].shape)
            if crop[2] < 2:
                continue
            t0 = time.perf_counter()
            y_sr = self.super_resolve(window, crop)
            t1 = time.perf_counter()
            splice_luma(out, y_sr, SCALE * crop[0], SCALE * crop[1], self.feather)
            self.times.network += t1 - t0
            self.times.splice += time.perf_counter() - t1
            self.times.faces += 1
            self.times.face_pixels += crop[2] ** 2
        return out

    def stream(self, frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """Yield one 4x frame per input frame, each once its successor has been read."""
        frames = iter(frames)
        window: deque[tuple[np.ndarray, np.ndarray]] = deque(maxlen=3)
        while True:
            t0 = time.perf_counter()
            frame = next(frames, None)
            self.times.decode += time.perf_counter() - t0
            if frame is None:
                break
            t0 = time.perf_counter()
            use_faces = self.model is not None and self.boxes_for is not None
            boxes = self.boxes_for(frame) if use_faces else np.zeros((0, 4))
            self.times.detect += time.perf_counter() - t0
            if not window:
                window.append((frame, boxes))  # frame 0 stands in for its missing T-1
            window.append((frame, boxes))
            if len(window) == 3:
                yield self._emit(window)
        if window:  # the last frame stands in for its missing T+1
            window.append(window[-1])
            yield self._emit(window)

    def _emit(self, window: deque) -> np.ndarray:
        self.times.frames += 1
        return self.enhance([f for f, _ in window], window[1][1])


def open_writer(path: Path, fps: float, size: tuple[int, int]) -> tuple[cv2.VideoWriter, Path]:
    """An OpenCV writer to a temporary file beside ``path`` (``size`` = (w, h)), and that file;
    a clear error naming ``path`` when its folder is missing or its extension has no codec."""
    if not path.parent.is_dir():
        raise ValueError(f"{path}: output folder {path.parent} does not exist")
    fourcc = FOURCC.get(path.suffix.lower())
    if fourcc is None:
        raise ValueError(f"{path}: unsupported output extension {path.suffix!r}; "
                         f"use one of {', '.join(sorted(FOURCC))}")
    tmp = path.with_name(f".{path.stem}.partial{path.suffix}")
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*fourcc), fps, size)
    if not writer.isOpened():
        tmp.unlink(missing_ok=True)
        raise ValueError(f"{path}: OpenCV cannot write a {fourcc} video there")
    return writer, tmp


def enhance_video(src: str | Path, dst: str | Path, model: nn.Module | None,
                  device: str | torch.device = "cpu", boxes_for: BoxesFn | None = None,
                  max_frames: int | None = None, progress: bool = True) -> StageTimes:
    """Super-resolve the faces of video ``src`` into ``dst`` (4x size, same frame rate and
    frame count, or the first ``max_frames``). ``boxes_for`` defaults to MTCNN + tracking.
    ``dst`` appears only when complete (written beside it, then renamed)."""
    src, dst = Path(src), Path(dst)
    reader = VideoReader(src)
    info = reader.info
    fps = info.fps if info.fps > 0 else 25.0
    if model is not None and boxes_for is None:
        boxes_for = tracked_boxes(device)
    writer, tmp = open_writer(dst, fps, (SCALE * info.width, SCALE * info.height))
    enhancer = FaceEnhancer(model, boxes_for, device)
    known = [n for n in (info.n_frames, max_frames) if n]
    frames = (f for _, f in islice(reader.frames(), max_frames))
    try:
        bar = tqdm(enhancer.stream(frames), total=min(known) if known else None, unit="frame",
                   disable=not progress, desc=src.name, file=sys.stderr)
        for out in bar:
            t0 = time.perf_counter()
            writer.write(cv2.cvtColor(out, cv2.COLOR_RGB2BGR))
            enhancer.times.encode += time.perf_counter() - t0
        writer.release()
        if enhancer.times.frames == 0:
            raise VideoError(src, "no frame could be decoded")
        os.replace(tmp, dst)
    finally:
        writer.release()
        tmp.unlink(missing_ok=True)
    return enhancer.times


def load_model(checkpoint: str | None, device: str | torch.device) -> nn.Module | None:
    """The network of ``checkpoint`` ("none": None = bicubic only; None: the default file)."""
    if checkpoint is not None and checkpoint.lower() == "none":
        return None
    path = Path(checkpoint) if checkpoint else DEFAULT_CHECKPOINT
    if checkpoint is None and not path.is_file():
        raise ValueError(
            f"no checkpoint given and the default {path} does not exist: train one with "
            "`hofvsr train` (see the README), pass --checkpoint FILE, or --checkpoint none "
            "for the plain bicubic video")
    model, _ = load_checkpoint(path, map_location=device)
    return model


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", type=Path, help="a video OpenCV can read")
    parser.add_argument("output", type=Path,
                        help=f"the 4x video to write ({', '.join(sorted(FOURCC))})")
    parser.add_argument("--checkpoint", default=None,
                        help=f"network checkpoint (default: {DEFAULT_CHECKPOINT}); "
                             "'none' writes the plain bicubic video")
    parser.add_argument("--device", default=default_device(), choices=("cpu", "cuda"),
                        help="where the networks run (default: cuda when available)")
    parser.add_argument("--max-frames", type=int, default=None,
                        help="only the first N frames (default: all)")
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads for PyTorch (default: PyTorch's choice)")


def apply_torch_args(args: argparse.Namespace) -> bool:
    """Apply ``--threads``; False (with a message) when ``--device cuda`` has no GPU."""
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("error: --device cuda but no CUDA device is available", file=sys.stderr)
        return False
    return True


def run(args: argparse.Namespace) -> int:
    if not apply_torch_args(args):
        return 2
    try:
        model = load_model(args.checkpoint, args.device)
        times = enhance_video(args.input, args.output, model, args.device,
                              max_frames=args.max_frames)
    except (VideoError, ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    t = times.to_dict()
    print(f"wrote {args.output}: {t['frames']} frames, {t['faces']} face crops, "
          f"{t['fps']:.1f} frames/s (decode {t['decode']:.1f}s, detect {t['detect']:.1f}s, "
          f"network {t['network']:.1f}s, splice {t['splice']:.1f}s, encode {t['encode']:.1f}s)")
    return 0
