"""Face detection (facenet-pytorch's MTCNN) and multi-face tracking with stable square boxes.

Boxes are float ``(x0, y0, x1, y1)`` in pixels of the frame given to the detector.

* :class:`FaceDetector` runs MTCNN on batches of RGB uint8 frames. Big frames are shrunk
  (longest side at most ``max_side``, unless that would make a ``min_face`` face smaller than
  MTCNN's 20 px) before detection and the boxes mapped back, which bounds the cost whatever
  the resolution.
* :class:`FaceTracker` follows several faces through time, one :meth:`~FaceTracker.update`
  per frame, in constant memory: a detection continues a live track when it overlaps it (IoU)
  or, for fast motion, lies near its centre, and when that pairing is unambiguous: a track
  with two candidate detections, or a detection that two tracks could continue, ends those
  tracks (the identities are uncertain: cut rather than swap) and the detections start new
  ones. Unmatched detections start new tracks, and a track unseen for more than
  ``max_missed`` frames ends. Each track carries a square box around
  the face smoothed by an exponential moving average (centre and side separately), so a crop
  following it does not jitter. Offline users (the dataset builder) can smooth better with
  :func:`smooth_boxes`, a centred moving average that has no lag.
* :func:`crop_square` turns a face box into a square crop box with a margin, kept inside the
  frame, and :func:`crop_resize` cuts and resizes it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import cv2
import numpy as np
import torch

Detections = tuple[np.ndarray, np.ndarray]  # boxes (k, 4) float, probs (k,) float


class FaceDetector:
    """Batched MTCNN face detection on RGB uint8 frames (CPU or CUDA).

    ``min_face``: smallest face side (pixels of the input frames) worth detecting; smaller
    faces are still searched down to about 60 % of it (and 20 px in the shrunk frame) so
    that "too small" can be told apart from "no face". ``min_prob``: detections below this
    probability are dropped. ``cpu_threads``: torch threads while detecting on the CPU
    (None: leave as is). MTCNN runs thousands of tiny operations per frame; with one thread
    it takes ~25 ms per 360p frame, with two ~12 ms on an idle machine but up to 20x more
    when another process shares the cores, so one is the safe default.
    """

    def __init__(
        self,
        device: str | torch.device | None = None,
        min_face: int = 40,
        min_prob: float = 0.9,
        max_side: int = 640,
        batch_size: int = 16,
        cpu_threads: int | None = 1,
    ) -> None:
        with warnings.catch_warnings():  # its weight downloader imports tqdm.auto, which
            warnings.simplefilter("ignore")  # warns in a notebook without ipywidgets
            from facenet_pytorch import MTCNN  # heavy import, only when detecting

        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        self.min_face = min_face
        self.min_prob = min_prob
        self.max_side = max_side
        self.batch_size = batch_size
        self.cpu_threads = cpu_threads
        self._mtcnn_cls = MTCNN
        self._mtcnn: dict[int, object] = {}  # MTCNN per min_face_size (depends on the scale)

    def _net(self, min_size: int):
        if min_size not in self._mtcnn:
            self._mtcnn[min_size] = self._mtcnn_cls(
                keep_all=True, min_face_size=min_size, device=self.device, post_process=False
            )
        return self._mtcnn[min_size]

    def detect(self, frames: list[np.ndarray], min_face: int | None = None) -> list[Detections]:
        """Per frame: ``(boxes (k, 4), probs (k,))`` of the faces found, in frame pixels.

        ``min_face`` raises the smallest face searched for this call (a tracker that knows
        the face is big can skip the costly fine scales of MTCNN's image pyramid).
        """
        min_face = max(self.min_face, min_face or 0)
        out: list[Detections] = []
        threads = torch.get_num_threads()
        if self.device.type == "cpu" and self.cpu_threads:
            torch.set_num_threads(self.cpu_threads)
        try:
            for i in range(0, len(frames), self.batch_size):
                out.extend(self._detect_batch(frames[i : i + self.batch_size], min_face))
        finally:
            torch.set_num_threads(threads)
        return out

    def _detect_batch(self, frames: list[np.ndarray], min_face: int) -> list[Detections]:
        if not frames:
            return []
        shapes = {f.shape for f in frames}
        if len(shapes) > 1:  # MTCNN batches need equal sizes: split by shape
            res: list[Detections | None] = [None] * len(frames)
            for shape in shapes:
                idx = [i for i, f in enumerate(frames) if f.shape == shape]
                batch = self._detect_batch([frames[i] for i in idx], min_face)
                for i, d in zip(idx, batch, strict=True):
                    res[i] = d
            return res  # type: ignore[return-value]
        h, w = frames[0].shape[:2]
        # shrink to max_side, but never so far that a min_face face drops under MTCNN's 20 px
        s = min(1.0, max(self.max_side / max(h, w), 20 / min_face))
        if s < 1.0:
            size = (max(1, round(w * s)), max(1, round(h * s)))
            batch = np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames])
        else:
            batch = np.stack(frames)
        min_size = max(20, int(0.6 * min_face * s))  # MTCNN's default floor is 20
        with torch.inference_mode():
            boxes, probs = self._net(min_size).detect(batch)
        result: list[Detections] = []
        for b, p in zip(boxes, probs, strict=True):
            if b is None:
                result.append((np.zeros((0, 4)), np.zeros(0)))
                continue
            b = np.asarray(b, dtype=float).reshape(-1, 4) / s
            p = np.asarray(p, dtype=float).reshape(-1)
            keep = p >= self.min_prob
            result.append((b[keep], p[keep]))
        return result


def box_side(box: np.ndarray) -> np.ndarray:
    """Longest side of box(es) ``(..., 4)``."""
    box = np.asarray(box, dtype=float)
    return np.maximum(box[..., 2] - box[..., 0], box[..., 3] - box[..., 1])


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of boxes ``a (n, 4)`` and ``b (m, 4)`` -> ``(n, m)``."""
    a = np.asarray(a, dtype=float).reshape(-1, 1, 4)
    b = np.asarray(b, dtype=float).reshape(1, -1, 4)
    iw = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    ih = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = iw * ih
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    return inter / np.maximum(area_a + area_b - inter, 1e-9)


def square_of(box: np.ndarray) -> np.ndarray:
    """``(cx, cy, side)`` of the square centred on ``box`` with its longest side."""
    box = np.asarray(box, dtype=float)
    return np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2, box_side(box)])


@dataclass
class Track:
    """One face followed through time. ``box`` is the smoothed square, ``raw_box`` the last
    detection; ``missed`` counts the frames since the last detection (0: seen now)."""

    id: int
    box: np.ndarray
    raw_box: np.ndarray
    prob: float
    hits: int = 1
    age: int = 1
    missed: int = 0
    _state: np.ndarray = field(default_factory=lambda: np.zeros(3), repr=False)


class FaceTracker:
    """Streaming multi-face tracker: ``update(detections) -> faces seen in this frame``.

    ``iou_min``: smallest IoU for a detection to be a candidate continuation of a track;
    failing that, a detection whose centre is within ``centre_max`` x the track's side still
    is one (fast motion) provided the sizes differ by less than 1.5x. A track continues only
    with its single candidate, when no other track has that detection as a candidate; a track
    in any other pairing ends. ``alpha_centre`` / ``alpha_side``: weights of
    the new detection in the moving averages (1: no smoothing).
    """

    def __init__(
        self,
        iou_min: float = 0.3,
        centre_max: float = 0.5,
        max_missed: int = 5,
        alpha_centre: float = 0.6,
        alpha_side: float = 0.3,
    ) -> None:
        self.iou_min = iou_min
        self.centre_max = centre_max
        self.max_missed = max_missed
        self.alpha_centre = alpha_centre
        self.alpha_side = alpha_side
        self._tracks: list[Track] = []
        self._next_id = 0

    @property
    def tracks(self) -> list[Track]:
        """All live tracks, including those missed for up to ``max_missed`` frames."""
        return list(self._tracks)

    def reset(self) -> None:
        """Forget every track (e.g. at a cut in the frame sequence)."""
        self._tracks = []

    def update(self, detections: Detections) -> list[Track]:
        """Advance one frame; returns the tracks matched to a detection in this frame."""
        boxes, probs = detections
        boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
        probs = np.asarray(probs, dtype=float).reshape(-1)
        pairs, ambiguous = self._match(boxes)
        matched_t = {t for t, _ in pairs}
        matched_d = {d for _, d in pairs}
        for t, d in pairs:
            self._advance(self._tracks[t], boxes[d], float(probs[d]))
        for t, trk in enumerate(self._tracks):
            if t not in matched_t:
                trk.missed += 1
                trk.age += 1
        self._tracks = [t for k, t in enumerate(self._tracks)
                        if t.missed <= self.max_missed and k not in ambiguous]
        for d in range(len(boxes)):
            if d not in matched_d:
                self._tracks.append(self._new(boxes[d], float(probs[d])))
        return [t for t in self._tracks if t.missed == 0]

    def _match(self, boxes: np.ndarray) -> tuple[list[tuple[int, int]], set[int]]:
        """(track, detection) pairs that continue a track unambiguously, and the tracks whose
        candidates are ambiguous (to end)."""
        if not self._tracks or not len(boxes):
            return [], set()
        prev = np.stack([t.raw_box for t in self._tracks])
        sq_prev = np.stack([square_of(b) for b in prev])
        sq_new = np.stack([square_of(b) for b in boxes])
        dist = np.hypot(sq_prev[:, None, 0] - sq_new[None, :, 0],
                        sq_prev[:, None, 1] - sq_new[None, :, 1]) / sq_prev[:, None, 2]
        ratio = np.maximum(sq_prev[:, None, 2], sq_new[None, :, 2]) / np.maximum(
            np.minimum(sq_prev[:, None, 2], sq_new[None, :, 2]), 1e-9)
        candidate = (iou(prev, boxes) >= self.iou_min) | ((dist < self.centre_max)
                                                          & (ratio < 1.5))
        per_track, per_detection = candidate.sum(1), candidate.sum(0)
        unique = candidate & (per_track[:, None] == 1) & (per_detection[None, :] == 1)
        pairs = [(int(t), int(d)) for t, d in zip(*np.nonzero(unique), strict=True)]
        matched = {t for t, _ in pairs}
        ambiguous = {int(t) for t in np.nonzero(per_track)[0] if t not in matched}
        return pairs, ambiguous

    def _new(self, box: np.ndarray, prob: float) -> Track:
        state = square_of(box)
        trk = Track(self._next_id, _square_box(state), box.copy(), prob, _state=state)
        self._next_id += 1
        return trk

    def _advance(self, trk: Track, box: np.ndarray, prob: float) -> None:
        new = square_of(box)
        a = np.array([self.alpha_centre, self.alpha_centre, self.alpha_side])
        trk._state = a * new + (1 - a) * trk._state
        trk.box = _square_box(trk._state)
        trk.raw_box = box.copy()
        trk.prob = prob
        trk.hits += 1
        trk.age += 1
        trk.missed = 0


def _square_box(state: np.ndarray) -> np.ndarray:
    cx, cy, side = state
    return np.array([cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2])


def smooth_boxes(boxes: np.ndarray, centre_window: int = 5, side_window: int = 25) -> np.ndarray:
    """Offline, lag-free smoothing of one face's boxes ``(n, 4)`` over consecutive frames.

    Returns squares ``(n, 4)``: centres by a centred moving average over ``centre_window``
    frames, sides over ``side_window`` frames (the zoom should barely change), both with
    mirrored ends.
    """
    sq = np.stack([square_of(b) for b in np.asarray(boxes, dtype=float).reshape(-1, 4)])
    out = np.empty_like(sq)
    for col, win in ((0, centre_window), (1, centre_window), (2, side_window)):
        out[:, col] = _moving_average(sq[:, col], win)
    return np.stack([_square_box(s) for s in out])


def _moving_average(x: np.ndarray, window: int) -> np.ndarray:
    n = len(x)
    half = min(window // 2, n - 1)
    if half <= 0:
        return x.copy()
    padded = np.pad(x, half, mode="reflect")
    kernel = np.ones(2 * half + 1) / (2 * half + 1)
    return np.convolve(padded, kernel, mode="valid")


def crop_square(box: np.ndarray, margin: float, frame_shape: tuple[int, ...]
                ) -> tuple[int, int, int]:
    """Integer square crop ``(x0, y0, side)`` around ``box`` with ``margin`` x side added on
    each side, shifted (never padded) to stay inside a frame of ``frame_shape`` (H, W, ...);
    shrunk to the frame's short side when larger."""
    h, w = frame_shape[:2]
    cx, cy, side = square_of(box)
    side = int(round(min(side * (1 + 2 * margin), h, w)))
    x0 = int(round(min(max(cx - side / 2, 0), w - side)))
    y0 = int(round(min(max(cy - side / 2, 0), h - side)))
    return x0, y0, side


def crop_resize(frame: np.ndarray, crop: tuple[int, int, int], size: int) -> np.ndarray:
    """Cut the square ``crop`` = ``(x0, y0, side)`` from ``frame`` and resize it to ``size``
    (area averaging when shrinking, bicubic when enlarging)."""
    x0, y0, side = crop
    patch = frame[y0 : y0 + side, x0 : x0 + side]
    interp = cv2.INTER_AREA if side >= size else cv2.INTER_CUBIC
    return cv2.resize(patch, (size, size), interpolation=interp)
