"""Model complexity: parameters, GFLOPs (ptflops) and latency; ``hofvsr info``.

GFLOPs convention: what the paper reports are *multiply-accumulates* as counted by
ptflops-style counters (ptflops 0.7.5, ``backend="pytorch"``): one per conv MAC plus one per
LeakyReLU output element; grid sampling and PixelShuffle count nothing. At a 36x36x1x3 input
this gives 2.547 / 2.737 / 2.020 G for ACCV-2018 / TIP-2020 / HO-FVSR against the paper's
2.55 / 2.74 / 2.02 (conv MACs alone: 2.544 / 2.718 / 2.004 G). Not 2 x MACs.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from .models import DISPLAY_NAMES, build_model

TABLE3_MODELS = ("accv", "tip", "hofvsr")  # the paper's column order


def count_params(model: nn.Module) -> int:
    """Number of parameters (frozen ones included)."""
    return sum(p.numel() for p in model.parameters())


def gflops(model: nn.Module, h: int = 36, w: int = 36, frames: int = 3) -> float:
    """GMACs of one forward pass at (1, frames, 1, h, w) through ptflops (module docstring)."""
    from ptflops import get_model_complexity_info

    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    with contextlib.redirect_stdout(io.StringIO()):  # ptflops prints warnings on stdout
        macs, _ = get_model_complexity_info(
            model, (frames, 1, h, w),
            input_constructor=lambda shape: {"x": torch.rand(1, *shape, device=device)},
            as_strings=False, print_per_layer_stat=False, backend="pytorch", verbose=False,
        )
    model.train(was_training)
    return float(macs) / 1e9


def synchronize(device: torch.device) -> None:
    """Wait for the work queued on ``device`` (CUDA runs asynchronously)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_interleaved(fns: dict[str, Callable[[torch.Tensor], Any]], x: torch.Tensor,
                     repeats: int, warmup: int) -> dict[str, list[float]]:
    """Seconds per call of each function, one call of each per round (``warmup`` rounds
    untimed), so that a machine busy with other work slows all of them alike."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    with torch.inference_mode():
        for r in range(warmup + repeats):
            for k, fn in fns.items():
                synchronize(x.device)
                start = time.perf_counter()
                fn(x)
                synchronize(x.device)
                if r >= warmup:
                    times[k].append(time.perf_counter() - start)
    return times


def measure_latencies(models: dict[str, nn.Module], x: torch.Tensor, repeats: int = 50,
                      warmup: int = 10) -> dict[str, dict]:
    """Per model (eval mode, ``torch.inference_mode``, timed interleaved): the median seconds
    per forward pass, FPS (= batch / median), the spread, and the device and thread count."""
    times = time_interleaved({k: m.eval() for k, m in models.items()}, x, repeats, warmup)
    out = {}
    for key, t in times.items():
        median = statistics.median(t)
        out[key] = {"latency_s": median, "fps": x.shape[0] / median, "min_s": min(t),
                    "max_s": max(t), "repeats": repeats, "warmup": warmup,
                    "device": str(x.device), "threads": torch.get_num_threads()}
    return out


def table3_complexity(h: int = 36, w: int = 36) -> list[dict]:
    """Params and GFLOPs of the three Table 3 networks at (1, 3, 1, h, w)."""
    rows = []
    for name in TABLE3_MODELS:
        model = build_model(name)
        rows.append({"model": DISPLAY_NAMES[name], "key": name, "config": model.config,
                     "params": count_params(model),
                     "ofr_params": count_params(model.ofr), "sr_params": count_params(model.sr),
                     "gflops": round(gflops(model, h, w), 4), "input": f"{h}x{w}x1x3"})
    return rows


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print a JSON list")
    parser.add_argument("--size", type=int, nargs=2, default=(36, 36), metavar=("H", "W"),
                        help="LR input size (default: 36 36, the paper's)")


def run(args: argparse.Namespace) -> int:
    if min(args.size) < 1:
        raise ValueError(f"--size {' '.join(map(str, args.size))}: H and W must be at least 1")
    rows = table3_complexity(*args.size)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'model':<10} {'params':>10} {'OFR':>9} {'SR':>9} {'GFLOPs':>7}   "
          f"(input {rows[0]['input']}, {platform.machine()})")
    for r in rows:
        print(f"{r['model']:<10} {r['params']:>10,} {r['ofr_params']:>9,} {r['sr_params']:>9,} "
              f"{r['gflops']:>7.3f}")
    return 0
