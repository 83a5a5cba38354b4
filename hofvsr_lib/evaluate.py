"""``hofvsr evaluate``: PSNR/SSIM of a checkpoint and of bicubic on a built dataset's eval split.

Protocol: ``hofvsr_lib.metrics`` (Y channel, 6 + scale border shaved, mean over frames);
inputs are the dataset's eval windows (T-1, T, T+1 at 36x36 LR, HR centre 144x144).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .data.dataset import FaceWindows
from .final_training import bicubic_scores
from .models import DISPLAY_NAMES, load_checkpoint
from .training import evaluate, evenly_spaced, resolve_device


def evaluate_checkpoint(checkpoint: str | Path, data: str | Path, split: str = "eval",
                        windows: int | None = None, device: str | None = None) -> dict:
    """-> {"model", "config", "psnr", "ssim", "bicubic_psnr", "bicubic_ssim", "windows", ...}."""
    device = resolve_device(device)
    model, meta = load_checkpoint(checkpoint, map_location=device)
    dataset = evenly_spaced(FaceWindows(data, split, augment=False, lr_patch=None), windows)
    scores = evaluate(model, dataset, device=device)
    bicubic = bicubic_scores(dataset)
    return {"model": meta["provenance"].get("display", DISPLAY_NAMES[meta["model"]]),
            "key": meta["model"], "config": meta["config"], "checkpoint": str(checkpoint),
            "data": str(data), "split": split, "windows": len(dataset),
            "psnr": scores["psnr"], "ssim": scores["ssim"],
            "bicubic_psnr": bicubic["psnr"], "bicubic_ssim": bicubic["ssim"],
            "device": str(device), "training": meta["provenance"]}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True,
                        help="a dataset directory built by `hofvsr dataset build`")
    parser.add_argument("--split", default="eval", choices=("eval", "train"))
    parser.add_argument("--windows", type=int, default=None,
                        help="evaluate on at most this many evenly spaced windows")
    parser.add_argument("--device", default=None)
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    result = evaluate_checkpoint(args.checkpoint, args.data, args.split, args.windows,
                                 args.device)
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        print(f"{result['model']}: PSNR {result['psnr']:.2f} dB, SSIM {result['ssim']:.4f} "
              f"(bicubic {result['bicubic_psnr']:.2f} dB, {result['bicubic_ssim']:.4f}) on "
              f"{result['windows']} {args.split} windows of {args.data}")
    return 0
