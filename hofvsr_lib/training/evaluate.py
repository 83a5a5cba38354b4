"""``hofvsr evaluate``: PSNR/SSIM of a checkpoint and of bicubic on a built dataset.

Protocol: ``hofvsr_lib.metrics`` (Y channel, 6 + scale border shaved, mean over windows);
inputs are the dataset's windows (T-1, T, T+1 at 36x36 LR, HR centre 144x144) of one split,
or of every person (``--split all``: a folder of new people). Beside the means it reports a
95% bootstrap interval over sequences (stratified by person), per-person means and the gain
over bicubic with its interval (:mod:`hofvsr_lib.stats`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .. import stats
from ..data.dataset import FaceWindows
from ..data.manifest import SPLITS
from ..devices import add_device_arguments, apply_device_arguments, resolve_device
from ..models import DISPLAY_NAMES, load_checkpoint
from .final import score_run
from .flow_quality import flow_report
from .loops import evenly_spaced


def evaluate_checkpoint(checkpoint: str | Path, data: str | Path, split: str = "test",
                        windows: int | None = None, device: str | None = None) -> dict:
    """-> {"model", "config", "psnr", "ssim", "bicubic_psnr", "bicubic_ssim", "windows",
    "mean", "ci", "per_person", "gain_over_bicubic", "flow", ...}; ``flow`` (video networks
    only) is the warp error of the network's own flows against zero motion and DIS flow
    (:func:`.flow_quality.flow_report`), overall and per person."""
    device = resolve_device(device)
    model, meta = load_checkpoint(checkpoint, map_location=device)
    dataset = evenly_spaced(FaceWindows(data, split), windows)
    scores = score_run(model, dataset, device, seed=0)
    psnr, ssim = stats.summary(scores, "psnr"), stats.summary(scores, "ssim")
    gain = stats.paired(scores)
    return {"model": meta["provenance"].get("display", DISPLAY_NAMES[meta["model"]]),
            "key": meta["model"], "config": meta["config"], "checkpoint": str(checkpoint),
            "data": str(data), "split": split, "windows": len(scores),
            "sequences": psnr["n_sequences"], "persons": psnr["n_persons"],
            "psnr": psnr["mean"], "ssim": ssim["mean"],
            "bicubic_psnr": float(scores["bicubic_psnr"].mean()),
            "bicubic_ssim": float(scores["bicubic_ssim"].mean()),
            "mean": {"psnr": psnr["mean"], "ssim": ssim["mean"]},
            "ci": {"psnr": psnr["ci"], "ssim": ssim["ci"], "level": stats.CONFIDENCE},
            "per_person": {p: {"psnr": v, "ssim": ssim["per_person"][p]}
                           for p, v in psnr["per_person"].items()},
            "gain_over_bicubic": {"psnr": gain["mean"], "ci": gain["ci"],
                                  "verdict": gain["verdict"]},
            "flow": flow_report(model.ofr, data, {split: windows}, device)[split]
            if hasattr(model, "ofr") else None,
            "device": str(device), "training": meta["provenance"]}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True,
                        help="a dataset directory built by `hofvsr dataset build`")
    parser.add_argument("--split", default="test", choices=(*SPLITS, "all"),
                        help="which persons: a split of the dataset, or all of them (default: "
                             "test)")
    parser.add_argument("--windows", type=int, default=None,
                        help="evaluate on at most this many evenly spaced windows")
    add_device_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    if not apply_device_arguments(args):
        return 2
    result = evaluate_checkpoint(args.checkpoint, args.data, args.split, args.windows,
                                 args.device)  # a bad file or dataset: one line from cli.main
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        lo, hi = result["ci"]["psnr"]
        print(f"{result['model']}: PSNR {result['psnr']:.2f} dB [95% CI {lo:.2f}, {hi:.2f}], "
              f"SSIM {result['ssim']:.4f} (bicubic {result['bicubic_psnr']:.2f} dB, "
              f"{result['bicubic_ssim']:.4f}) on {result['windows']} {args.split} windows of "
              f"{result['persons']} person(s) in {args.data}")
        for person, v in result["per_person"].items():
            print(f"  {person}: PSNR {v['psnr']:.2f} dB, SSIM {v['ssim']:.4f}")
        if result["flow"] is not None:
            flow = result["flow"]["overall"]
            print(f"  flow net: HR warp error {flow['net/zero']:.2f}x that of zero motion "
                  f"(OpenCV DIS on the LR frames: {flow['dis/zero']:.2f}x)")
    return 0
