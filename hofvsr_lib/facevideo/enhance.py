"""``hofvsr enhance IN OUT``: the faces of a real video super-resolved x4 (the paper's Figure 2).

Three threads overlap: one decodes and detects faces (MTCNN + tracking, every
``--detect-every`` frames), the main one runs the device pipeline
(:class:`~hofvsr_lib.facevideo.pipeline.FaceEnhancer`), one encodes H.264
(:class:`~hofvsr_lib.facevideo.io.H264Writer`). The output has the input's frame count,
frame rate and audio track, at 4x size, and appears under its name only once complete.
``--checkpoint none`` gives the plain bicubic video (no detection, no network).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TypeVar

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from hofvsr_lib.data.video import VideoError
from hofvsr_lib.devices import add_device_arguments, apply_device_arguments, resolve_device
from hofvsr_lib.facevideo.io import OUTPUT_EXTENSIONS, FrameDecoder, H264Writer, probe
from hofvsr_lib.facevideo.pipeline import SCALE, BoxesFn, FaceEnhancer, StageTimes, tracked_boxes
from hofvsr_lib.models import build_model, load_checkpoint
from hofvsr_lib.provenance import portable_path

DEFAULT_CHECKPOINT = Path("results/checkpoints/hofvsr_64_5_64_seed0.pt")  # first seed
# MTCNN on every 2nd frame: against every frame, the boxes' IoU is 0.986-0.990 on a still
# and a moving webcam clip (results/bench/bench.json, detection cadence), a shift of about
# 1% of the crop, well inside its 20% margin; the detector's time halves.
DETECT_EVERY = 2
QUEUE = 4  # frames decoded ahead of, and waiting for, the device pipeline
T = TypeVar("T")


@dataclass
class EnhanceResult:
    """What ``enhance_video`` did: stage times, faces shrunk to ``max_face``, why decoding
    stopped early (None: the whole input was read) and how many damaged audio packets of the
    input were left out."""

    times: StageTimes
    scaled: int
    broken: str | None
    audio_dropped: int = 0


def read_ahead(items: Iterable[T], depth: int = QUEUE) -> Iterator[T]:
    """Iterate ``items`` in a background thread, up to ``depth`` items ahead (errors are
    raised here, in order)."""
    end = object()
    it = iter(items)
    pool = ThreadPoolExecutor(1, thread_name_prefix="decode")
    try:
        pending = deque(pool.submit(next, it, end) for _ in range(depth))
        while (item := pending.popleft().result()) is not end:
            pending.append(pool.submit(next, it, end))
            yield item
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class WriteBehind:
    """Calls ``write(item)`` in a background thread, at most ``depth`` items behind."""

    def __init__(self, write, depth: int = QUEUE) -> None:
        self._write = write
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="encode")
        self._pending: deque[Future] = deque()
        self._depth = depth

    def put(self, item) -> None:
        self._pending.append(self._pool.submit(self._write, item))
        while len(self._pending) > self._depth:
            self._pending.popleft().result()

    def drain(self) -> None:
        while self._pending:
            self._pending.popleft().result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _frames_with_boxes(frames: Iterator[np.ndarray], boxes_for: BoxesFn | None,
                       times: StageTimes) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(frame, face boxes) pairs, decode and detection times added to ``times``; no boxes
    without a detector."""
    frames = iter(frames)
    while True:
        t0 = time.perf_counter()
        frame = next(frames, None)
        t1 = time.perf_counter()
        times.decode += t1 - t0
        if frame is None:
            return
        boxes = boxes_for(frame) if boxes_for is not None else np.zeros((0, 4))
        times.detect += time.perf_counter() - t1
        yield frame, boxes


def enhance_video(src: str | Path, dst: str | Path, model: nn.Module | None,
                  device: str | torch.device = "cpu", boxes_for: BoxesFn | None = None,
                  max_frames: int | None = None, max_face: int | None = None,
                  detect_every: int = DETECT_EVERY, half: bool = False, progress: bool = True,
                  **encoder) -> EnhanceResult:
    """Super-resolve the faces of video ``src`` into the H.264 video ``dst`` (4x size, the
    same frame rate, frame count and audio, or the first ``max_frames`` frames).
    ``boxes_for`` defaults to MTCNN + tracking on every ``detect_every``-th frame;
    ``encoder``: ``crf`` and ``preset`` of libx264."""
    src, dst = Path(src), Path(dst)
    info = probe(src)
    if model is not None and boxes_for is None:
        boxes_for = tracked_boxes(device, every=detect_every)
    enhancer = FaceEnhancer(model, device, max_face=max_face, half=half)
    times = enhancer.times
    decoder = FrameDecoder(src, expected=info.n_frames)
    frames = _frames_with_boxes(islice(decoder, max_frames),
                                boxes_for if model is not None else None, times)

    def encode(yuv: np.ndarray) -> None:
        t0 = time.perf_counter()
        writer.write(yuv)
        times.encode += time.perf_counter() - t0

    known = [n for n in (info.n_frames, max_frames) if n]
    start = time.perf_counter()
    with H264Writer(dst, SCALE * info.width, SCALE * info.height, info.fps, **encoder) as writer:
        behind = WriteBehind(encode)
        stream = enhancer.stream(read_ahead(frames))
        try:
            bar = tqdm(stream, unit="frame", total=min(known) if known else None,
                       disable=not progress, desc=src.name, file=sys.stderr)
            for yuv in bar:
                behind.put(yuv)
                if enhancer.scaled == 1 and max_face:
                    bar.set_postfix_str(f"faces over {max_face}px scaled for the network")
            behind.drain()
        finally:
            stream.close()  # stops the decode thread
            behind.close()
        if times.frames == 0:
            raise VideoError(src, decoder.broken or "no frame could be decoded")
        writer.finish(audio_from=src if info.audio else None)
    times.wall = time.perf_counter() - start
    return EnhanceResult(times, enhancer.scaled, decoder.broken, writer.audio_dropped)


def model_or_random(checkpoint: Path | None, device: str | torch.device,
                    why_random: str) -> tuple[nn.Module, str]:
    """The HO-FVSR of ``checkpoint`` and its path as shown in results, or, when the file is
    missing, a randomly initialised one (seed 0) labelled ``random weights (why_random)``."""
    if checkpoint is not None and checkpoint.is_file():
        model, _ = load_checkpoint(checkpoint, map_location=device)
        return model, portable_path(checkpoint)
    torch.manual_seed(0)
    return build_model("hofvsr"), f"random weights ({why_random})"


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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", type=Path, help="a video file (anything FFmpeg decodes)")
    parser.add_argument("output", type=Path,
                        help=f"the 4x H.264 video to write ({', '.join(OUTPUT_EXTENSIONS)})")
    parser.add_argument("--checkpoint", default=None,
                        help=f"network checkpoint (default: {DEFAULT_CHECKPOINT}); "
                             "'none' writes the plain bicubic video")
    add_device_arguments(parser)
    parser.add_argument("--max-frames", type=int, default=None,
                        help="only the first N frames (default: all)")
    parser.add_argument("--max-face", type=int, default=None, metavar="PX",
                        help="face crops larger than PX pixels are scaled down to PX for the "
                             "network and its output scaled back (faster, less detail; "
                             "default: never)")
    parser.add_argument("--detect-every", type=int, default=DETECT_EVERY, metavar="K",
                        help=f"run the face detector on every K-th frame, tracking in between "
                             f"(default {DETECT_EVERY})")
    parser.add_argument("--half", action="store_true",
                        help="fp16 autocast for the network (CUDA only)")
    parser.add_argument("--crf", type=int, default=18, help="x264 quality (default 18)")
    parser.add_argument("--preset", default="veryfast", help="x264 preset (default veryfast)")


def run(args: argparse.Namespace) -> int:
    if not apply_device_arguments(args):
        return 2
    for name in ("max_frames", "max_face", "detect_every"):
        value = getattr(args, name)
        if value is not None and value < 1:
            print(f"error: --{name.replace('_', '-')} must be at least 1", file=sys.stderr)
            return 2
    device = resolve_device(args.device)  # errors: one line each, from hofvsr_lib.cli.main
    model = load_model(args.checkpoint, device)
    result = enhance_video(args.input, args.output, model, device, max_frames=args.max_frames,
                           max_face=args.max_face, detect_every=args.detect_every,
                           half=args.half, crf=args.crf, preset=args.preset)
    t = result.times.to_dict()
    print(f"wrote {args.output}: {t['frames']} frames, {t['faces']} face crops, "
          f"{t['fps']:.1f} frames/s (decode {t['decode']:.1f}s, detect {t['detect']:.1f}s, "
          f"network {t['network']:.1f}s, splice {t['splice']:.1f}s, encode {t['encode']:.1f}s)")
    if model is not None and t["faces"] == 0:
        print("no face was found: the output is the plain bicubic video")
    if result.scaled:
        print(f"{result.scaled} face crops were larger than --max-face {args.max_face} px and "
              "were scaled down for the network")
    if result.audio_dropped:
        print(f"warning: {args.input}: {result.audio_dropped} damaged audio packets (not "
              f"decodable or out of order) left out of {args.output}", file=sys.stderr)
    if result.broken:
        print(f"warning: {args.input}: {result.broken}; {args.output} has those frames",
              file=sys.stderr)
        return 1
    return 0
