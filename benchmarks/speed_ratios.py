"""Print the speed targets, every number measured in one run (or read from one bench file).

    .venv/bin/python benchmarks/speed_ratios.py [--threads 2] [--long] [--from BENCH_JSON]

Targets (issue 12 and the paper's Table 3; benchmarks, not tests):
* network, 36x36x1x3, batch 1, the best variant applied to all three: HO-FVSR / TIP-2020 and
  HO-FVSR / ACCV-2018 >= 1.14 (the paper's ratios are 1.14 and 1.48); on the CPU HO-FVSR
  >= 47.6 FPS (the paper's, on a GTX 1080Ti);
* enhance pipeline on the 640x360 bench clip: >= 25 frames/s on a GPU; on the CPU the time
  outside the network <= 15 % of the frame time.
Run it on an otherwise idle machine: the timing is interleaved, so load slows every model
alike and the ratios survive it better than the absolute FPS.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import replace
from pathlib import Path

import torch

from hofvsr_lib.facevideo.bench import DEFAULT_CHECKPOINT, default_devices, measure_all
from hofvsr_lib.paper import TABLE3
from hofvsr_lib.profiles import SPEED_LONG, SpeedProfile
from hofvsr_lib.report import speed

# HO-FVSR against either baseline, the target of issue 12: the paper's HO-FVSR / TIP-2020
RATIO = round(TABLE3.loc["HO-FVSR", "fps"] / TABLE3.loc["TIP-2020", "fps"], 2)  # 1.14
PIPELINE_FPS = 25.0  # the GPU target of issue 12
OUTSIDE_NETWORK = 0.15  # the CPU target of issue 12


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--long", action="store_true", help="hofvsr bench --long's budget")
    p.add_argument("--from", dest="source", type=Path, default=None,
                   help="read a stored `hofvsr bench --out` file instead of measuring")
    args = p.parse_args()
    if args.source:
        rows = json.loads(args.source.read_text())["results"]
    else:
        if args.threads:
            torch.set_num_threads(args.threads)
        budget = SPEED_LONG if args.long else replace(SpeedProfile(), sizes=(36,))
        rows = measure_all(default_devices(), budget, DEFAULT_CHECKPOINT)
        print(f"load average {os.getloadavg()[0]:.1f}, {torch.get_num_threads()} threads")
    paper_fps = TABLE3.loc["HO-FVSR", "fps"]
    for device in sorted({r["device"] for r in rows if "variants_fps" in r}):
        on = [r for r in rows if r.get("device") == device]
        table = speed.network_speed_table(on).xs("36x36", level="input")
        best = table["best"].iloc[0]
        print(f"\n{device}: frames/s at 36x36x1x3 per variant (best for all three: {best})")
        print(table.drop(columns="best").round(1).to_string())
        ratios = speed.network_speed_ratios(on).xs("36x36", level="input")
        print(ratios.round(2).to_string())
        for name, row in ratios.iterrows():
            print(f"  {name} under {best}: {row[best]:.2f} (target {RATIO}, paper "
                  f"{row['paper']:.2f}): {verdict(row[best] >= RATIO)}")
        if device == "cpu":
            ho = table.loc["HO-FVSR", best]
            print(f"  HO-FVSR {ho:.1f} FPS on the CPU (target {paper_fps}): "
                  f"{verdict(ho >= paper_fps)}")
        pipes = speed.pipeline_table(on)
        for name, r in pipes.iterrows():
            if name.startswith("HO-FVSR"):
                target = (f"target {PIPELINE_FPS:.0f}: {verdict(r['frames/s'] >= PIPELINE_FPS)}"
                          if device.startswith("cuda") else
                          f"outside the network {100 * r['outside network']:.0f}% (target <= "
                          f"{100 * OUTSIDE_NETWORK:.0f}%): "
                          f"{verdict(r['outside network'] <= OUTSIDE_NETWORK)}")
                print(f"  pipeline {name} on {r['video']} ({r['face crop (px)']} px crop): "
                      f"{r['frames/s']:.2f} frames/s; {target}")


if __name__ == "__main__":
    main()
