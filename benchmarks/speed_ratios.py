"""Print the speed ratios the paper claims, all measured in this one run (no stored numbers).

    .venv/bin/python benchmarks/speed_ratios.py [--threads 2] [--repeats 100] [--pipeline-frames 48]

Targets (the paper's Table 3 and Figure 2; benchmarks, not tests): HO-FVSR >= 1.14x TIP-2020
and >= 47.6 FPS on 36x36x1x3 input; the whole enhance pipeline >= 25 FPS at 640x360.
Run it on an otherwise idle machine: the timing is interleaved, so load slows every model
alike and the ratios survive it better than the absolute FPS.
"""

from __future__ import annotations

import argparse
import os

import torch

from hofvsr_lib.bench import VARIANTS, bench_networks, bench_pipeline
from hofvsr_lib.enhance import DEFAULT_CHECKPOINT


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--repeats", type=int, default=100)
    p.add_argument("--pipeline-frames", type=int, default=48)
    p.add_argument("--variants", nargs="+", default=list(VARIANTS))
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    rows = {r["key"]: r for r in bench_networks(device, tuple(args.variants), args.repeats, 10,
                                                profile=False)}
    print(f"device {device}, {torch.get_num_threads()} threads, load {os.getloadavg()[0]:.1f}")
    for variant in args.variants:
        fps = {k: rows[k]["variants_fps"][variant] for k in ("hofvsr", "tip", "accv")}
        print(f"{variant:<14} HO-FVSR {fps['hofvsr']:6.1f} FPS  TIP {fps['tip']:6.1f}  "
              f"ACCV {fps['accv']:6.1f}  HO/TIP {fps['hofvsr'] / fps['tip']:.2f}x (paper 1.14)"
              f"  HO/ACCV {fps['hofvsr'] / fps['accv']:.2f}x (paper 1.48)")
    best = rows["hofvsr"]["optimisation"]
    ho, tip = rows["hofvsr"]["fps"], rows["tip"]["fps"]
    print(f"common best variant: {best}; HO-FVSR {ho:.1f} FPS (target 47.6): "
          f"{'met' if ho >= 47.6 else 'missed'}; HO/TIP {ho / tip:.2f}x (target 1.14): "
          f"{'met' if ho / tip >= 1.14 else 'missed'}")
    for k in ("hofvsr", "tip", "accv"):
        r = rows[k]
        print(f"  {r['model']:<10} draft cube (OFR + warps) {r['draft_cube_ms']:6.1f} ms, "
              f"SR net {r['sr_ms']:6.1f} ms (eager)")
    if args.pipeline_frames:
        for r in bench_pipeline(device, args.pipeline_frames, DEFAULT_CHECKPOINT):
            stages = ", ".join(f"{s} {r[s + '_ms']:.1f}" for s in
                               ("decode", "detect", "network", "splice", "encode"))
            print(f"{r['model']:<18} {r['video']}: {r['fps']:.2f} FPS (target 25); "
                  f"ms/frame: {stages}; mean face crop {r['mean_face_crop']:.0f} px")


if __name__ == "__main__":
    main()
