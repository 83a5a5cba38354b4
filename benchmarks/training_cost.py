"""What a profile's training costs on this machine: seconds per step of every stage, measured
in one run with the library's own training loop, and the wall time the profile would take.

    .venv/bin/python benchmarks/training_cost.py --data work/smoke/data --profile paper \
        [--device cuda] [--steps 20] [--out results/bench/training_cost_cuda.json]

Every stage runs its real function (``pretrain_ofr``, ``train_sr`` on draft cubes, ``train_joint``)
on real face windows at the profile's batch size and patch, for two epochs of ``--steps``
steps; the second epoch is timed (the first pays cuDNN's algorithm search). The data loader is
also timed alone, to show whether the GPU waits for it. The estimate multiplies step times by
the profile's step counts; evaluation passes (a few percent of a step budget) are left out.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import torch

from hofvsr_lib.atomic import write_json
from hofvsr_lib.complexity import synchronize
from hofvsr_lib.data.dataset import FaceWindows
from hofvsr_lib.devices import resolve_device
from hofvsr_lib.models import SRNet, build_model
from hofvsr_lib.paper import WINNER
from hofvsr_lib.profiles import TrainProfile, get_profile
from hofvsr_lib.provenance import run_provenance
from hofvsr_lib.spec import DIMENSIONS, NetSpec
from hofvsr_lib.training.final import final_networks
from hofvsr_lib.training.loops import (
    CubeDataset,
    batch_stream,
    cache_draft_cubes,
    loader_workers,
    pretrain_ofr,
    train_joint,
    train_sr,
)


def space_corners() -> dict[str, NetSpec]:
    """The smallest, the paper's and the largest network of the search space."""
    lo = NetSpec.of({k: min(v) for k, v in DIMENSIONS.items()})
    hi = NetSpec.of({k: max(v) for k, v in DIMENSIONS.items()})
    return {"smallest": lo, "paper": WINNER, "largest": hi}


def step_seconds(train_fn, budget: TrainProfile, steps: int, device: torch.device) -> float:
    """Seconds per step of ``train_fn(profile)`` from the second of two ``steps``-step epochs."""
    history = train_fn(replace(budget, epochs=2, iters_per_epoch=steps))
    synchronize(device)
    return history[-1]["train_seconds"] / steps


def loader_seconds(dataset, budget: TrainProfile, steps: int, device: torch.device) -> float:
    """Seconds per batch of the training loop's own batch stream (with the loading processes
    it would have on ``device``), without any model."""
    workers = loader_workers(device)
    batches = batch_stream(dataset, budget.batch_size, 0, workers)
    for _ in range(min(steps, workers) + 1):  # workers started, queue filled
        next(batches)
    start = time.perf_counter()
    for _ in range(steps):
        next(batches)
    return (time.perf_counter() - start) / steps


def measure(data: Path, profile_name: str, device: torch.device, steps: int) -> dict:
    """Step times of every stage of ``profile_name`` and the profile's estimated wall time."""
    profile = get_profile(profile_name)
    sp, final = profile.search, profile.final

    def windows(budget: TrainProfile) -> FaceWindows:
        return FaceWindows(data, "train", augment=True, lr_patch=budget.lr_patch, all_hr=True)

    rows = []

    def record(stage: str, seconds: float, total_steps: int, **extra) -> None:
        rows.append({"stage": stage, "step_s": seconds, "steps_in_profile": total_steps,
                     "hours_in_profile": seconds * total_steps / 3600, **extra})
        print(f"{stage:<34} {seconds * 1000:8.1f} ms/step  x {total_steps:>9,} steps "
              f"= {rows[-1]['hours_in_profile']:7.2f} h", flush=True)

    ofr_steps = sp.ofr_pretrain.epochs * sp.ofr_pretrain.iters_per_epoch
    record("data loader (final batch)", loader_seconds(windows(final), final, steps, device), 0,
           workers=loader_workers(device))

    ofr_net = build_model("hofvsr", **WINNER.config())
    record("OFR pretraining (search)", step_seconds(
        lambda b: pretrain_ofr(ofr_net, windows(b), b, device), sp.ofr_pretrain, steps, device),
        ofr_steps)

    trial_steps = sp.trial.epochs * sp.trial.iters_per_epoch
    cubes = cache_draft_cubes(ofr_net, FaceWindows(data, "train", lr_patch=None), device=device)
    cube_set = CubeDataset(cubes["cubes"], cubes["hr"], sp.trial.lr_patch, augment=True)
    for corner, spec in space_corners().items():
        net = SRNet(**asdict(spec.sr), bicubic_residual=sp.trial.bicubic_residual)
        record(f"trial, cached: SR {corner}", step_seconds(
            lambda b, net=net: train_sr(net, cube_set, b, device=device), sp.trial, steps,
            device), trial_steps, config=spec.params())
        net = build_model("hofvsr", **spec.config(), bicubic_residual=sp.trial.bicubic_residual)
        record(f"trial, joint: HO-FVSR {corner}", step_seconds(
            lambda b, net=net: train_joint(net, windows(b), b, device=device),
            sp.trial, steps, device), trial_steps, config=spec.params())

    final_steps = final.epochs * final.iters_per_epoch
    for key, (name, config) in final_networks().items():
        net = build_model(name, bicubic_residual=final.bicubic_residual, **config)
        record(f"final, joint: {key}", step_seconds(
            lambda b, net=net: train_joint(net, windows(b), b, device=device),
            final, steps, device), final_steps, config=config)

    def hours(prefix: str) -> list[float]:
        return [r["hours_in_profile"] for r in rows if r["stage"].startswith(prefix)]

    def mean_trial_hours(mode: str) -> float:
        corners = hours(f"trial, {mode}")
        return sum(corners) / len(corners)

    strategies = 3
    estimate = {
        "search_cached_h": strategies * sp.max_trials * mean_trial_hours("cached")
        + sum(hours("OFR pretraining")),
        "search_joint_h": strategies * sp.max_trials * mean_trial_hours("joint"),
        "final_h": sum(hours("final")),
        "note": "trials averaged over the smallest, the paper's and the largest network of "
                "the space; evaluation passes left out",
    }
    return {"profile": profile_name, "device": str(device), "steps_timed": steps,
            "stages": rows, "estimate": estimate}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True, help="a dataset from hofvsr dataset build")
    p.add_argument("--profile", default="paper", help="whose step counts to multiply by")
    p.add_argument("--device", default=None, help="default: cuda if available, else cpu")
    p.add_argument("--steps", type=int, default=20, help="timed steps per stage")
    p.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = p.parse_args(argv)
    if not (args.data / "manifest.csv").is_file():
        print(f"{args.data}: no manifest.csv; build a dataset first (hofvsr dataset build)",
              file=sys.stderr)
        return 2
    device = resolve_device(args.device)
    result = measure(args.data, args.profile, device, args.steps)
    est = result["estimate"]
    print(f"{args.profile} profile on {device}: search (cached) "
          f"{est['search_cached_h']:.1f} h, search (joint) {est['search_joint_h']:.1f} h, "
          f"final training {est['final_h']:.1f} h")
    if args.out:
        write_json(args.out, {"provenance": run_provenance(args.profile, device=str(device)),
                              **result})
    return 0 if all(math.isfinite(r["step_s"]) for r in result["stages"]) else 1


if __name__ == "__main__":
    sys.exit(main())
