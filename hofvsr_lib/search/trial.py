"""One search trial: train the network of a spec (:class:`~hofvsr_lib.spec.NetSpec`, HO-FVSR
(c, n, u), in the whole space its flow too) for the profile's epochs, evaluate every epoch.

Modelled on NNI's mnist example: a plain training script with four ``nni`` calls
(``get_next_parameter``, ``report_intermediate_result`` per epoch, ``report_final_result``,
``get_trial_id``). Under NNI the configuration comes from the tuner; outside NNI give it on the
command line, e.g. for debugging::

    python -m hofvsr_lib.search.trial --data data/faces --profile smoke \
        --res-channels 64 --n-res-blocks 5 --up-channels 64

(one option per searched field of ``--space``: :data:`hofvsr_lib.spec.DIMENSIONS`, with
``--space whole`` :data:`~hofvsr_lib.spec.WHOLE_DIMENSIONS`, e.g. ``--flow dis``).

Modes: ``cached`` (default) trains only the SR net on the frozen flow's cached draft cubes,
those of the spec's flow (``training.cached``: a learned flow pretrained once per flow spec and
dataset; ``--cache`` trains on a given file instead); ``joint`` trains the whole network from
scratch with the SOF-VSR loss on the dataset. Every metric reported is a dict whose ``default``
is what the tuners maximise: the validation PSNR, or in the whole space (timed before it is
trained, :mod:`.latency`) the declared score of PSNR and latency (:func:`.space.score`), with
``psnr`` and the latency ratio beside it.
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
from ..profiles import LatencyProfile, TrainProfile, get_profile
from ..spec import WHOLE_DIMENSIONS, FlowSpec, NetSpec
from ..training.cached import cube_cache
from ..training.loops import (
    CubeDataset,
    EpochCallback,
    evenly_spaced,
    load_cube_cache,
    seed_everything,
    train_joint,
    train_sr,
)
from .latency import latency_fields, measured_latency
from .space import SPACES, TIMED_SPACES, objective_metrics, validate_config


def network_cost(spec: NetSpec) -> dict[str, float]:
    """Parameters and GFLOPs (MACs, 36x36x3 input) of the whole network."""
    model = build_model("hofvsr", **spec.config())
    return {"params": count_params(model), "gflops": gflops(model)}


def draft_cubes(flow: FlowSpec, data: str | Path, ofr_pretrain: TrainProfile,
                eval_windows: int | None, seed: int = 0,
                device: str | torch.device | None = None) -> tuple[Path, dict]:
    """The cached trials' input (:mod:`..training.cached`, shared with the final training):
    the frozen flow's draft cubes of the train split and of the ``eval_windows`` validation
    windows the trials score. Returns (cache file, its metadata)."""
    return cube_cache(flow, data, ofr_pretrain, seed, {"train": None, "val": eval_windows},
                      device=device)


def _train_on_cubes(spec: NetSpec, profile: TrainProfile, cache: str | Path,
                    device: torch.device, seed: int, on_epoch: EpochCallback) -> list[dict]:
    """Cached mode: the SR net alone, on the frozen flow's draft cubes."""
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
              device: str | None = None, report: bool = True, space: str = "choice",
              ofr_pretrain: TrainProfile | None = None, latency: LatencyProfile | None = None,
              latency_store: str | Path | None = None) -> dict:
    """Train and evaluate one configuration of ``space``; returns the final result dict (also
    reported to NNI when ``report``). Cached mode trains on ``cache``, else on the cubes of the
    spec's flow (:func:`draft_cubes`, from ``data`` and ``ofr_pretrain``). A timed space's
    candidate is first timed (``latency``, stored in ``latency_store``: :mod:`.latency`)."""
    params = validate_config(config, SPACES[space])
    spec = NetSpec.of(params)
    device = resolve_device(device)
    timing = {}
    if space in TIMED_SPACES:
        if latency is None or latency_store is None:
            raise ValueError(f"a trial of the {space} space needs --latency and --latency-store")
        timing = latency_fields(measured_latency(spec, latency_store, latency, device))

    def metric(psnr: float) -> dict:
        return objective_metrics(psnr, timing["latency_ratio"]) if timing else {"default": psnr}

    def on_epoch(epoch: int, record: dict) -> None:
        print(json.dumps({"epoch": epoch, **record}), flush=True)
        if report:
            nni.report_intermediate_result(
                {**metric(record["psnr"]), "ssim": record["ssim"], "loss": record["loss"],
                 "epoch": epoch})

    cubes_start = time.perf_counter()
    if mode == "cached" and cache is None:
        if data is None or ofr_pretrain is None:
            raise ValueError("cached mode needs --cache, or --data and --ofr-pretrain")
        cache, _ = draft_cubes(spec.flow, data, ofr_pretrain, profile.eval_windows, seed, device)
    cubes_s = time.perf_counter() - cubes_start
    seed_everything(seed)
    start = time.perf_counter()
    if mode == "cached":
        history = _train_on_cubes(spec, profile, cache, device, seed, on_epoch)
    elif mode == "joint":
        history = _train_whole(spec, profile, data, device, seed, on_epoch)
    else:
        raise ValueError(f"mode must be 'cached' or 'joint', got {mode!r}")
    last = history[-1]
    result = {
        **metric(last["psnr"]), "ssim": last["ssim"], "loss": last["loss"],
        **params, **network_cost(spec), "mode": mode, "seed": seed,
        "epochs_done": len(history),
        "epoch_psnr": [h["psnr"] for h in history], "epoch_ssim": [h["ssim"] for h in history],
        "epoch_loss": [h["loss"] for h in history],
        "duration_s": time.perf_counter() - start, "device": str(device), "cubes_s": cubes_s,
        **timing,
    }
    if report:
        nni.report_final_result(result)
    return result


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m hofvsr_lib.search.trial", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mode", choices=("cached", "joint"), default="cached")
    p.add_argument("--space", choices=tuple(SPACES), default="choice",
                   help="the configuration's space (whole: the flow too, timed first)")
    p.add_argument("--profile", default="cpu",
                   help="smoke, cpu or paper: the defaults of --train, --ofr-pretrain, --latency")
    p.add_argument("--train", help="JSON of TrainProfile fields, overrides --profile")
    p.add_argument("--ofr-pretrain", help="JSON of TrainProfile fields: the flow nets' "
                                          "pretraining (cached mode), overrides --profile")
    p.add_argument("--latency", help="JSON of LatencyProfile fields (whole space), overrides "
                                     "--profile")
    p.add_argument("--latency-store", help="the search's timings, a JSON file (whole space)")
    p.add_argument("--cache", help="a draft-cube cache to train on (cached mode; default: that "
                                   "of the spec's flow, under --data)")
    p.add_argument("--data", help="dataset directory")
    p.add_argument("--seed", type=int, default=0)
    add_device_arguments(p)
    for name, values in WHOLE_DIMENSIONS.items():
        p.add_argument(_flag(name), type=type(values[0]), help=f"{name} (outside NNI)")
    return p


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not apply_device_arguments(args):
        return 2
    names = list(SPACES[args.space])
    given = {name: getattr(args, name) for name in names}
    under_nni = nni.get_experiment_id() != "STANDALONE"
    if under_nni:
        config = nni.get_next_parameter()
    elif None in given.values():
        print(f"outside NNI give {', '.join(map(_flag, names))}", file=sys.stderr)
        return 2
    else:
        config = given
    profile = get_profile(args.profile)
    train = TrainProfile(**json.loads(args.train)) if args.train else profile.search.trial
    ofr = (TrainProfile(**json.loads(args.ofr_pretrain)) if args.ofr_pretrain
           else profile.search.ofr_pretrain)
    latency = (LatencyProfile(**json.loads(args.latency)) if args.latency
               else profile.whole.latency if profile.whole else None)
    result = run_trial(config, args.mode, train, args.seed, args.cache, args.data, args.device,
                       report=under_nni, space=args.space, ofr_pretrain=ofr, latency=latency,
                       latency_store=args.latency_store)
    print(json.dumps({"final": result}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
