"""One search trial: train the network of a spec (:class:`~hofvsr_lib.spec.NetSpec`, HO-FVSR
(c, n, u)) for the profile's epochs, evaluate every epoch.

Modelled on NNI's mnist example: a plain training script with four ``nni`` calls
(``get_next_parameter``, ``report_intermediate_result`` per epoch, ``report_final_result``,
``get_trial_id``). Under NNI the configuration comes from the tuner; outside NNI give it on the
command line, e.g. for debugging::

    python -m hofvsr_lib.search.trial --cache data/faces/cached/cubes-tip-seed0-<key>.pt \
        --profile smoke --res-channels 64 --n-res-blocks 5 --up-channels 64

(one option per searched field, :data:`hofvsr_lib.spec.DIMENSIONS`).

Modes: ``cached`` (default) trains only the SR net on the frozen OFR net's cached draft cubes;
``joint`` trains the whole network from scratch with the SOF-VSR loss on the dataset.
Every metric reported is a dict whose ``default`` is the validation PSNR (what the tuners maximise).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import nni
import torch

from ..complexity import count_params, gflops
from ..data.dataset import FaceWindows
from ..devices import add_device_arguments, apply_device_arguments, resolve_device
from ..models import SRNet, build_model
from ..profiles import TrainProfile, get_profile
from ..spec import DIMENSIONS, NetSpec
from ..training.loops import (
    CubeDataset,
    EpochCallback,
    evenly_spaced,
    load_cube_cache,
    seed_everything,
    train_joint,
    train_sr,
)
from .space import validate_config


def network_cost(spec: NetSpec) -> dict[str, float]:
    """Parameters and GFLOPs (MACs, 36x36x3 input) of the whole network."""
    model = build_model("hofvsr", **spec.config())
    return {"params": count_params(model), "gflops": gflops(model)}


def _train_on_cubes(spec: NetSpec, profile: TrainProfile, cache: str | Path | None,
                    device: torch.device, seed: int, on_epoch: EpochCallback) -> list[dict]:
    """Cached mode: the SR net alone, on the frozen flow net's draft cubes."""
    if cache is None:
        raise ValueError("cached mode needs --cache (the launcher's draft-cube cache)")
    splits, _ = load_cube_cache(cache)
    train_set = CubeDataset(splits["train"]["cubes"], splits["train"]["hr"],
                            lr_patch=profile.lr_patch, augment=True)
    eval_set = evenly_spaced(CubeDataset(splits["val"]["cubes"], splits["val"]["hr"]),
                             profile.eval_windows)
    net = SRNet(**asdict(spec.sr), in_channels=train_set.cubes.shape[1],
                bicubic_residual=profile.bicubic_residual)
    return train_sr(net, train_set, profile, eval_set, device, seed, on_epoch)


def _train_whole(spec: NetSpec, profile: TrainProfile, data: str | Path | None,
                 device: torch.device, seed: int, on_epoch: EpochCallback) -> list[dict]:
    """Joint mode: the whole network from scratch with the SOF-VSR loss."""
    if data is None:
        raise ValueError("joint mode needs --data (the dataset directory)")
    train_set = FaceWindows(data, "train", augment=True, lr_patch=profile.lr_patch,
                            all_hr=True)
    eval_set = evenly_spaced(FaceWindows(data, "val", augment=False, lr_patch=None),
                             profile.eval_windows)
    net = build_model("hofvsr", **spec.config(), bicubic_residual=profile.bicubic_residual)
    return train_joint(net, train_set, profile, eval_set, device, seed, on_epoch)


def run_trial(config: dict, mode: str, profile: TrainProfile, seed: int = 0,
              cache: str | Path | None = None, data: str | Path | None = None,
              device: str | None = None, report: bool = True) -> dict:
    """Train and evaluate one configuration; returns the final result dict (also reported to
    NNI when ``report``)."""
    spec = NetSpec.of(validate_config(config))
    device = resolve_device(device)
    seed_everything(seed)
    start = time.perf_counter()

    def on_epoch(epoch: int, record: dict) -> None:
        print(json.dumps({"epoch": epoch, **record}), flush=True)
        if report:
            nni.report_intermediate_result(
                {"default": record["psnr"], "ssim": record["ssim"], "loss": record["loss"],
                 "epoch": epoch})

    if mode == "cached":
        history = _train_on_cubes(spec, profile, cache, device, seed, on_epoch)
    elif mode == "joint":
        history = _train_whole(spec, profile, data, device, seed, on_epoch)
    else:
        raise ValueError(f"mode must be 'cached' or 'joint', got {mode!r}")
    last = history[-1]
    result = {
        "default": last["psnr"], "ssim": last["ssim"], "loss": last["loss"],
        **spec.params(), **network_cost(spec), "mode": mode, "seed": seed,
        "epochs_done": len(history),
        "epoch_psnr": [h["psnr"] for h in history], "epoch_ssim": [h["ssim"] for h in history],
        "epoch_loss": [h["loss"] for h in history],
        "duration_s": time.perf_counter() - start, "device": str(device),
    }
    if report:
        nni.report_final_result(result)
    return result


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m hofvsr_lib.search.trial", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mode", choices=("cached", "joint"), default="cached")
    p.add_argument("--profile", default="cpu", help="smoke, cpu or paper (its search.trial)")
    p.add_argument("--train", help="JSON of TrainProfile fields, overrides --profile")
    p.add_argument("--cache", help="draft-cube cache written by the launcher (cached mode)")
    p.add_argument("--data", help="dataset directory (joint mode)")
    p.add_argument("--seed", type=int, default=0)
    add_device_arguments(p)
    for name in DIMENSIONS:
        p.add_argument(_flag(name), type=int, help=f"{name} (outside NNI)")
    return p


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not apply_device_arguments(args):
        return 2
    given = {name: getattr(args, name) for name in DIMENSIONS}
    under_nni = nni.get_experiment_id() != "STANDALONE"
    if under_nni:
        config = nni.get_next_parameter()
    elif None in given.values():
        print(f"outside NNI give {', '.join(map(_flag, DIMENSIONS))}", file=sys.stderr)
        return 2
    else:
        config = given
    profile = (TrainProfile(**json.loads(args.train)) if args.train
               else get_profile(args.profile).search.trial)
    result = run_trial(config, args.mode, profile, args.seed, args.cache, args.data,
                       args.device, report=under_nni)
    print(json.dumps({"final": result}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
