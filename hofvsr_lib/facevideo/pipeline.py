"""The paper's Figure 2 on a stream of frames, on the network's device.

Per frame, one transfer in and one out: the RGB frame goes to the device and is converted
there to YCbCr (:func:`hofvsr_lib.imaging.rgb_to_ycbcr`, BT.601 studio swing, the training
protocol). Luma Y is bicubic x4 (:func:`hofvsr_lib.imaging.upscale`); each tracked face is a
square crop of the Y of frames T-1, T, T+1 that the video network super-resolves, blended
into the x4 luma with a feathered seam. Chroma is bicubic x2 only, which is exactly the
resolution of 4:2:0 chroma at 4x size. The packed YUV 4:2:0 frame is what the H.264 encoder
takes, so no colour conversion is left for the CPU. Output lags input by one frame (the
first and last frames stand in for their missing neighbour); only a 3-frame window is held.

Face crops are taken at the video's native resolution, never resized (a fully convolutional
x4 network's output is exactly the 4x region to splice; shrinking a face would throw pixels
away and need a second, bicubic, upscale). The crop side is rounded up to a multiple of
:data:`BUCKET` (more context, never less) so the network sees a few sizes only and cuDNN's
autotuner plans each once. ``max_face`` is the exception users may ask for: a crop larger
than it is shrunk to it for the network and the result is scaled back (counted in
:attr:`FaceEnhancer.scaled`), trading detail for time on slow devices.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from hofvsr_lib.data.faces import FaceDetector, FaceTracker, crop_square
from hofvsr_lib.imaging import resize_bicubic, rgb_to_ycbcr, upscale, ycbcr_to_rgb

SCALE = 4
MARGIN = 0.2  # face box enlarged by this fraction of its side on every side
BRIDGE_MISSES = 2  # frames a tracked face may go undetected and still be super-resolved
FEATHER = 0.15  # width of the seam's linear ramp, as a fraction of the crop side
BUCKET = 16  # crop sides are rounded up to a multiple of this

BoxesFn = Callable[[np.ndarray], np.ndarray]


@dataclass
class StageTimes:
    """Seconds spent in each pipeline stage (decode, detect and encode run in threads beside
    the others), the wall-clock time, and what they covered."""

    frames: int = 0
    faces: int = 0  # face crops super-resolved (summed over frames)
    face_pixels: int = 0  # LR pixels of those crops
    decode: float = 0.0
    detect: float = 0.0
    upload: float = 0.0  # host -> device and colour conversion
    network: float = 0.0
    splice: float = 0.0  # bicubic x4 / x2 of the frame and face blending
    download: float = 0.0  # packing to YUV 4:2:0 bytes and device -> host
    encode: float = 0.0
    wall: float = 0.0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["fps"] = self.frames / self.wall if self.wall else 0.0
        return d


def feather_mask(h: int, w: int, feather: float = FEATHER,
                 device: str | torch.device = "cpu") -> torch.Tensor:
    """(h, w) blending weights: 1 inside, linear ramps down to ~0 over ``feather`` of the side."""
    ramp = max(1.0, feather * min(h, w))

    def axis(n: int) -> torch.Tensor:
        i = torch.arange(n, dtype=torch.float32, device=device) + 0.5
        return (torch.minimum(i, n - i) / ramp).clamp_(0.0, 1.0)

    return torch.outer(axis(h), axis(w))


def bucketed_crop(box: np.ndarray, frame_shape: tuple[int, ...], margin: float = MARGIN,
                  bucket: int = BUCKET) -> tuple[int, int, int]:
    """:func:`~hofvsr_lib.data.faces.crop_square` with its side rounded up to a multiple of
    ``bucket`` (as far as the frame allows), grown around the same centre."""
    x0, y0, s = crop_square(box, margin, frame_shape)
    h, w = frame_shape[:2]
    side = min(bucket * math.ceil(s / bucket), h, w)
    x0 = min(max(x0 - (side - s) // 2, 0), w - side)
    y0 = min(max(y0 - (side - s) // 2, 0), h - side)
    return x0, y0, side


def tracked_boxes(device: str | torch.device = "cpu", min_face: int = 20,
                  bridge: int = BRIDGE_MISSES, every: int = 1) -> BoxesFn:
    """A per-frame function RGB frame -> (N, 4) smoothed square boxes of the tracked faces.
    MTCNN runs on every ``every``-th frame (the tracker's boxes stand in between); a face
    the detector misses for up to ``bridge`` detections keeps its last box (no flicker), after
    that the region goes back to bicubic."""
    detector = FaceDetector(device=device, min_face=min_face)
    tracker = FaceTracker()
    seen = 0

    def boxes_for(frame: np.ndarray) -> np.ndarray:
        nonlocal seen
        if seen % every == 0:
            tracker.update(detector.detect([frame])[0])
        seen += 1
        return np.array([t.box for t in tracker.tracks if t.missed <= bridge]).reshape(-1, 4)

    return boxes_for


def pack_yuv420(y: torch.Tensor, cbcr: torch.Tensor) -> torch.Tensor:
    """Y (H, W) and CbCr (2, H/2, W/2) in [0, 1] -> uint8 (1.5 H, W): the planes one after the
    other, as FFmpeg's yuv420p (H a multiple of 4, W of 2)."""
    h, w = y.shape
    planes = torch.cat((y.reshape(-1), cbcr.reshape(-1))).mul_(255.0).round_().clamp_(0, 255)
    return planes.to(torch.uint8).view(h * 3 // 2, w)


class FaceEnhancer:
    """The Figure 2 pipeline on a stream of (RGB uint8 frame, face boxes) pairs, one frame
    late. ``model``: a network of the SOF-VSR family ((B, 3, 1, h, w) Y -> (B, 1, 4h, 4w)), or
    None for bicubic only; moved to ``device`` in channels-last layout, in place. ``half``:
    fp16 autocast for the network (CUDA only). Per-stage seconds accumulate in :attr:`times`.
    """

    def __init__(self, model: nn.Module | None, device: str | torch.device = "cpu",
                 margin: float = MARGIN, feather: float = FEATHER,
                 max_face: int | None = None, half: bool = False, bucket: int = BUCKET):
        self.device = torch.device(device)
        if half and self.device.type != "cuda":
            raise ValueError("half precision (fp16 autocast) is for CUDA devices only")
        if model is not None:  # NHWC: faster on CPU (see hofvsr bench), same output
            model = model.to(self.device, memory_format=torch.channels_last).eval()
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # one plan per bucketed crop size
        self.model = model
        self.margin, self.feather, self.max_face, self.bucket = margin, feather, max_face, bucket
        self.half = half
        self.scaled = 0  # face crops shrunk to max_face for the network
        self.times = StageTimes()
        self._masks: dict[int, torch.Tensor] = {}

    def _sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def upload(self, frame: np.ndarray) -> torch.Tensor:
        """RGB uint8 (H, W, 3) -> YCbCr (3, H, W) float in [0, 1] on the device."""
        rgb = torch.from_numpy(frame).to(self.device, non_blocking=True).float().div_(255.0)
        return rgb_to_ycbcr(rgb).permute(2, 0, 1)

    @torch.inference_mode()
    def super_resolve(self, ys: list[torch.Tensor], crop: tuple[int, int, int]) -> torch.Tensor:
        """The network's (4s, 4s) Y of the square ``crop`` (x0, y0, s) of the window's centre."""
        x0, y0, s = crop
        x = torch.stack([y[y0:y0 + s, x0:x0 + s] for y in ys]).view(1, 3, 1, s, s)
        scaled = self.max_face is not None and s > self.max_face
        if scaled:
            x = resize_bicubic(x, (self.max_face, self.max_face))
            self.scaled += 1
        amp = torch.autocast("cuda", dtype=torch.float16) if self.half else nullcontext()
        with amp:
            out = self.model(x)[0, 0].float()
        if scaled:
            out = resize_bicubic(out, (SCALE * s, SCALE * s))
        return out.clamp_(0.0, 1.0)

    def _mask(self, side: int) -> torch.Tensor:
        if side not in self._masks:
            self._masks[side] = feather_mask(side, side, self.feather, self.device)
        return self._masks[side]

    @torch.inference_mode()
    def enhance(self, window: list[torch.Tensor], boxes: np.ndarray) -> torch.Tensor:
        """The packed 4x YUV 4:2:0 frame (uint8, on the device) of the centre of a (T-1, T,
        T+1) window of YCbCr frames, with the centre's face ``boxes``."""
        t0 = time.perf_counter()
        centre = window[1]
        y4 = upscale(centre[0], SCALE)
        cbcr2 = upscale(centre[1:], SCALE // 2)
        self._sync()
        self.times.splice += time.perf_counter() - t0
        if self.model is None:
            boxes = np.zeros((0, 4))
        ys = [f[0] for f in window]
        for box in boxes:
            crop = bucketed_crop(box, centre.shape[1:], self.margin, self.bucket)
            if crop[2] < 2:
                continue
            t0 = time.perf_counter()
            y_sr = self.super_resolve(ys, crop)
            self._sync()
            t1 = time.perf_counter()
            x0, y0, s = (SCALE * v for v in crop)
            region = y4[y0:y0 + s, x0:x0 + s]
            region += self._mask(s) * (y_sr - region)
            self._sync()
            self.times.network += t1 - t0
            self.times.splice += time.perf_counter() - t1
            self.times.faces += 1
            self.times.face_pixels += crop[2] ** 2
        return pack_yuv420(y4, cbcr2)

    def stream(self, items: Iterable[tuple[np.ndarray, np.ndarray]]) -> Iterator[np.ndarray]:
        """Yield one packed 4x YUV 4:2:0 frame (uint8 numpy) per (frame, boxes) pair, each once
        its successor has arrived."""
        window: deque[tuple[torch.Tensor, np.ndarray]] = deque(maxlen=3)
        for frame, boxes in items:
            t0 = time.perf_counter()
            ycc = self.upload(frame)
            self.times.upload += time.perf_counter() - t0
            if not window:
                window.append((ycc, boxes))  # frame 0 stands in for its missing T-1
            window.append((ycc, boxes))
            if len(window) == 3:
                yield self._emit(window)
        if window:  # the last frame stands in for its missing T+1
            window.append(window[-1])
            yield self._emit(window)

    def _emit(self, window: deque) -> np.ndarray:
        out = self.enhance([f for f, _ in window], window[1][1])
        t0 = time.perf_counter()
        host = out.cpu().numpy()
        self.times.download += time.perf_counter() - t0
        self.times.frames += 1
        return host


def bicubic_yuv420(frame: np.ndarray) -> np.ndarray:
    """The plain bicubic x4 of an RGB uint8 frame as packed YUV 4:2:0 (what the pipeline
    writes where it finds no face)."""
    enhancer = FaceEnhancer(None)
    return enhancer.enhance([enhancer.upload(frame)] * 3, np.zeros((0, 4))).numpy()


def yuv420_to_rgb(yuv: np.ndarray) -> np.ndarray:
    """A packed YUV 4:2:0 uint8 frame (1.5 H, W) -> RGB uint8 (H, W, 3) (chroma repeated
    2x2; for looking at frames, e.g. in the book)."""
    h, w = yuv.shape[0] * 2 // 3, yuv.shape[1]
    y = yuv[:h].astype(np.float32)
    c = yuv[h:].reshape(2, h // 2, w // 2).astype(np.float32)
    c = c.repeat(2, axis=1).repeat(2, axis=2)
    ycc = np.stack([y, c[0], c[1]], axis=-1) / 255.0
    return np.rint(ycbcr_to_rgb(ycc) * 255.0).astype(np.uint8)
