"""Training steps on the CPU with the weights in PyTorch's default layout against channels-last
(what ``devices.place`` does on a CPU), timed interleaved in one run, with the loss each layout
reaches after the same steps from the same weights and batch.

    .venv/bin/python benchmarks/bench_layout.py [--threads 2] [--repeats 6]

The final runs' networks at batch 16 on 32x32 LR patches: the SR nets alone on draft cubes (the
cached protocol's stage 2), the single-frame networks, and HO-FVSR and ACCV-2018 whole (the
joint protocol, SOF-VSR's loss). Random inputs: a step's cost does not depend on the pixels.
Run it on an otherwise idle machine; the load average is printed beside the ratios.
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from hofvsr_lib.models import build_model
from hofvsr_lib.models.losses import sofvsr_loss
from hofvsr_lib.paper import WINNER

BATCH, PATCH, SCALE = 16, 32, 4


def _frames() -> tuple[torch.Tensor, torch.Tensor]:
    """LR frames (B, 3, 1, p, p) and their HR frames (B, 3, 1, 4p, 4p)."""
    return (torch.rand(BATCH, 3, 1, PATCH, PATCH),
            torch.rand(BATCH, 3, 1, SCALE * PATCH, SCALE * PATCH))


def _step(model: nn.Module, joint: bool, channels_last: bool,
          inputs: tuple[torch.Tensor, torch.Tensor]) -> Callable[[], float]:
    """One Adam step of a copy of ``model``, in the given weight layout."""
    model = copy.deepcopy(model)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), 1e-3)
    x, hr = inputs

    def step() -> float:
        if joint:
            sr, flows = model(x)
            loss, _ = sofvsr_loss(model, sr, hr[:, 1], flows, x, hr)
        else:
            sr = model(x)  # a single-frame network returns (sr, flows) as the others do
            loss = F.mse_loss(sr[0] if isinstance(sr, tuple) else sr,
                              hr if hr.dim() == 4 else hr[:, 1])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def cases() -> dict[str, tuple[nn.Module, bool, tuple[torch.Tensor, torch.Tensor]]]:
    """name -> (network, joint, inputs)."""
    frames = _frames()
    out = {}
    for key, config in (("hofvsr", WINNER.config()), ("tip", {}), ("accv", {})):
        model = build_model(key, bicubic_residual=True, **config)
        head = next(m for m in model.sr.modules() if isinstance(m, nn.Conv2d))
        cube = torch.rand(BATCH, head.in_channels, PATCH, PATCH)
        out[f"{model.name} SR net on cubes"] = (model.sr, False, (cube, frames[1][:, 1]))
    for key in ("edsr", "fsrcnn"):
        out[build_model(key).name] = (build_model(key, bicubic_residual=True), False, frames)
    for key, config in (("hofvsr", WINNER.config()), ("accv", {})):
        model = build_model(key, bicubic_residual=True, **config)
        out[f"{model.name} joint"] = (model, True, frames)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=6)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"{args.threads} threads, batch {BATCH}, {PATCH}x{PATCH} LR patches, median of "
          f"{args.repeats} steps each, interleaved; load average {os.getloadavg()}")
    for name, (model, joint, inputs) in cases().items():
        steps = {layout: _step(model, joint, layout == "channels-last", inputs)
                 for layout in ("default", "channels-last")}
        for step in steps.values():  # warm-up
            step()
        times, losses = {k: [] for k in steps}, {}
        for _ in range(args.repeats):
            for layout, step in steps.items():
                start = time.perf_counter()
                losses[layout] = step()
                times[layout].append(time.perf_counter() - start)
        default, fast = (statistics.median(times[k]) * 1e3 for k in steps)
        print(f"{name:34s} default {default:6.0f} ms  channels-last {fast:6.0f} ms  "
              f"x{default / fast:.2f}  loss {losses['default']:.6f} / "
              f"{losses['channels-last']:.6f}", flush=True)
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
