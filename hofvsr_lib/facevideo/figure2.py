"""The paper's Figure 2 as committed results: before / after frames of real videos.

For each clip, a few frames are shrunk x4 with the LR protocol
(:func:`hofvsr_lib.imaging.downscale`), so that the original frame is the ground truth, and
go through the enhance pipeline (:class:`~hofvsr_lib.facevideo.pipeline.FaceEnhancer`, MTCNN
boxes on the LR frames). The middle frame's face region is saved as PNGs (LR input, bicubic
x4, HO-FVSR, original) with the PSNR on Y of the two against the original, in
``<out>/figure2.json``. The clips default to a person the networks never saw in training
(``single_face``) and one of the dataset's test persons (``vlog``).
"""

from __future__ import annotations

from itertools import islice
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn

from hofvsr_lib.atomic import write_json
from hofvsr_lib.data.sources import fetch_video
from hofvsr_lib.facevideo.io import FrameDecoder
from hofvsr_lib.facevideo.pipeline import (
    SCALE,
    FaceEnhancer,
    bicubic_yuv420,
    tracked_boxes,
    yuv420_to_rgb,
)
from hofvsr_lib.imaging import downscale, rgb_to_y
from hofvsr_lib.metrics import psnr
from hofvsr_lib.provenance import run_provenance

VIDEOS = ("single_face", "vlog")
TEST_VIDEOS = ("vlog", "jwp_intro", "table")  # clips of the dataset's three test persons
PANELS = ("lr", "bicubic", "hofvsr", "original")


def shrink(frame: np.ndarray) -> np.ndarray:
    """An RGB uint8 frame cropped to a multiple of 4 and shrunk x4 (the LR protocol)."""
    h, w = (s - s % SCALE for s in frame.shape[:2])
    t = torch.from_numpy(frame[:h, :w]).permute(2, 0, 1).float()
    return downscale(t, SCALE).round_().clamp_(0, 255).byte().permute(1, 2, 0).numpy()


def face_panels(video: str, model: nn.Module, device: str | torch.device = "cpu",
                frames: int = 3, half: bool = False) -> dict:
    """The middle of the first ``frames`` frames of ``video``: RGB crops of the face region
    (LR, bicubic, network, original) and the PSNRs (Y, against the original); ``half``: the
    network under fp16 autocast (CUDA)."""
    originals = list(islice(FrameDecoder(fetch_video(video)), frames))
    lows = [shrink(f) for f in originals]
    boxes_for = tracked_boxes(device)
    boxes = [boxes_for(f) for f in lows]
    outs = list(FaceEnhancer(model, device, half=half).stream(zip(lows, boxes, strict=True)))
    t = len(lows) // 2
    if not len(boxes[t]):
        raise ValueError(f"{video}: no face found in frame {t} after shrinking x4")
    x0, y0, x1, y1 = boxes[t][0]
    pad = 0.3 * (x1 - x0)
    lx0, ly0 = int(max(0, x0 - pad)), int(max(0, y0 - pad))
    lx1, ly1 = int(min(lows[t].shape[1], x1 + pad)), int(min(lows[t].shape[0], y1 + pad))
    hr = (slice(SCALE * ly0, SCALE * ly1), slice(SCALE * lx0, SCALE * lx1))
    crops = {"lr": lows[t][ly0:ly1, lx0:lx1],
             "bicubic": yuv420_to_rgb(bicubic_yuv420(lows[t]))[hr],
             "hofvsr": yuv420_to_rgb(outs[t])[hr], "original": originals[t][hr]}
    truth = rgb_to_y(crops["original"] / 255.0)
    scores = {k: psnr(rgb_to_y(crops[k] / 255.0), truth) for k in ("bicubic", "hofvsr")}
    return {"video": video, "frame": t, "lr_size": list(lows[t].shape[1::-1]),
            "face_box_lr": [round(float(v), 1) for v in boxes[t][0]], "crops": crops,
            "psnr_y": scores}


def write_figure2(out: str | Path, model: nn.Module, weights: str,
                  device: str | torch.device = "cpu", videos: tuple[str, ...] = VIDEOS,
                  frames: int = 3, profile: str | None = None) -> Path:
    """PNG crops per clip and panel under ``out`` and ``out/figure2.json`` (PSNRs and
    provenance); returns the JSON's path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for video in videos:
        panels = face_panels(video, model, device, frames)
        for name, crop in panels.pop("crops").items():
            cv2.imwrite(str(out / f"{video}_{name}.png"), crop[..., ::-1])
        rows.append(panels)
    return write_json(out / "figure2.json", {
        "provenance": run_provenance(profile, weights=weights, device=str(device),
                                     frames=frames),
        "results": rows})


def precision_check(model: nn.Module, device: str | torch.device,
                    videos: tuple[str, ...] = TEST_VIDEOS, frames: int = 9) -> list[dict]:
    """PSNR (Y, face region, against the original) of the network in fp32 and under fp16
    autocast on the same shrunk frames of each clip (CUDA): what mixed precision costs."""
    rows = []
    for video in videos:
        full = face_panels(video, model, device, frames)["psnr_y"]["hofvsr"]
        half = face_panels(video, model, device, frames, half=True)["psnr_y"]["hofvsr"]
        rows.append({"video": video, "psnr_fp32": full, "psnr_fp16": half,
                     "fp16_minus_fp32_db": half - full})
    return rows


def measure_figure2(results_dir: str | Path, profile: str) -> Path:
    """The reproduction's Figure 2 step: :func:`write_figure2` with the first seed's HO-FVSR
    of ``results_dir`` (random weights, said so, when it has none) into
    ``<results_dir>/figure2/``."""
    from hofvsr_lib.devices import resolve_device
    from hofvsr_lib.facevideo.enhance import DEFAULT_CHECKPOINT, model_or_random

    device = resolve_device()
    checkpoint = Path(results_dir) / "checkpoints" / DEFAULT_CHECKPOINT.name
    model, weights = model_or_random(checkpoint, device, "no checkpoint: not sharper")
    return write_figure2(Path(results_dir) / "figure2", model, weights, device,
                         profile=profile)
