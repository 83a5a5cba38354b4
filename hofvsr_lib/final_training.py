"""Final training (the paper's Section 4.3 / Table 3): every network on the same data and budget.

Networks: HO-FVSR (64, 5, 64), the search's winner (when it differs), SOF-VSR TIP-2020 and
ACCV-2018, and the single-image FSRCNN and small EDSR.

Two protocols, chosen by the profile (``Profile.final_mode``):

* ``cached`` (smoke, cpu): two stages, identical for every video network. Stage 1 trains its
  optical-flow net alone with its own flow loss (``profile.search.ofr_pretrain``; the TIP OFR
  net is shared by HO-FVSR and TIP-2020, the ACCV one is its own). Stage 2 freezes it, caches
  the draft cubes of the train split and trains the SR net on them (``profile.final``).
  Single-image networks get stage 2's budget on the centre frames. This is what makes a CPU
  run affordable: the OFR net is ~92% of HO-FVSR's operations.
* ``joint`` (paper): SOF-VSR's own training, everything at once with the full loss.

Each network writes ``results/checkpoints/<key>.pt`` (weights + provenance) and
``results/final/<key>.json`` (per-epoch history, eval PSNR/SSIM, wall time); a finished network
is skipped on the next run, so an interrupted run resumes.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .data.dataset import FaceWindows
from .models import DISPLAY_NAMES, build_model, load_checkpoint, save_checkpoint
from .paper import WINNER
from .profiles import Profile, get_profile
from .provenance import run_provenance, write_json
from .training import (
    CubeDataset,
    cache_draft_cubes,
    evaluate,
    evenly_spaced,
    pretrain_ofr,
    resolve_device,
    seed_everything,
    train_joint,
    train_sr,
)

BASELINES = ("tip", "accv", "fsrcnn", "edsr")


def final_networks(winner: dict | None = None) -> dict[str, tuple[str, dict]]:
    """key -> (model name, config): the paper's (64, 5, 64), the winner if different, baselines."""
    nets = {"hofvsr_64_5_64": ("hofvsr", dict(WINNER))}
    if winner:
        config = {k: int(winner[k]) for k in WINNER}
        if config != WINNER:
            c, n, u = config.values()
            nets[f"hofvsr_{c}_{n}_{u}"] = ("hofvsr", config)
    nets.update({name: (name, {}) for name in BASELINES})
    return nets


def display_name(key: str, name: str, config: dict) -> str:
    """'HO-FVSR (64, 5, 64)', 'TIP-2020', ... for tables and figures."""
    if name == "hofvsr":
        return f"HO-FVSR ({config['res_channels']}, {config['n_res_blocks']}, " \
               f"{config['up_channels']})"
    return DISPLAY_NAMES[name]


def _pretrained_ofr(family: str, data: Path, profile: Profile, out: Path, device: torch.device,
                    seed: int) -> tuple[dict, list[dict], float]:
    """The OFR weights of ``family`` ("tip" or "accv") after stage 1, trained once and cached."""
    path = out / "final" / f"ofr_{family}.pt"
    if path.exists():
        model, meta = load_checkpoint(path)
        prov = meta["provenance"]
        return model.ofr.state_dict(), prov["history"], prov["seconds"]
    seed_everything(seed)
    model = build_model(family)
    start = time.perf_counter()
    budget = profile.search.ofr_pretrain
    windows = FaceWindows(data, "train", augment=True, lr_patch=budget.lr_patch, all_hr=True)
    history = pretrain_ofr(model, windows, budget, device, seed)
    seconds = time.perf_counter() - start
    save_checkpoint(path, model, stage="ofr_pretrain", history=history, seconds=seconds,
                    profile=profile.name, seed=seed)
    return model.ofr.state_dict(), history, seconds


def _train_cached(model: nn.Module, data: Path, profile: Profile, out: Path,
                  eval_windows, device: torch.device, seed: int) -> dict:
    """Stage 1 (shared, cached on disk) + stage 2 on the frozen net's draft cubes."""
    family = "accv" if model.name == "accv" else "tip"
    ofr_state, ofr_history, ofr_seconds = _pretrained_ofr(family, data, profile, out, device,
                                                          seed)
    model.ofr.load_state_dict(ofr_state)
    model.ofr.requires_grad_(False)
    start = time.perf_counter()
    cubes = cache_draft_cubes(model, FaceWindows(data, "train", augment=False, lr_patch=None),
                              device=device, desc=f"cubes for {model.name}")
    cache_seconds = time.perf_counter() - start
    train_set = CubeDataset(cubes["cubes"], cubes["hr"], lr_patch=profile.final.lr_patch,
                            augment=True)
    seed_everything(seed)
    history = train_sr(model.sr, train_set, profile.final, device=device, seed=seed,
                       callback=_eval_callback(model, eval_windows, device))
    model.ofr.requires_grad_(True)
    return {"ofr_history": ofr_history, "ofr_seconds": ofr_seconds,
            "cube_cache_seconds": cache_seconds, "history": history}


def _eval_callback(model: nn.Module, eval_windows, device: torch.device):
    """Evaluate the *whole* network (OFR + SR) on the eval windows after every epoch."""
    def callback(epoch: int, record: dict) -> None:
        record.update({f"eval_{k}": v for k, v in
                       evaluate(model, eval_windows, device=device).items()})
        print(f"  epoch {epoch}: eval PSNR {record['eval_psnr']:.2f} dB, "
              f"SSIM {record['eval_ssim']:.4f}", flush=True)
    return callback


def train_network(key: str, name: str, config: dict, data: str | Path, profile: str | Profile,
                  out: str | Path, device: str | None = None, seed: int = 0) -> dict:
    """Train one network per the profile's protocol; returns its record (resumes if done)."""
    profile = get_profile(profile) if isinstance(profile, str) else profile
    data, out = Path(data), Path(out)
    record_path = out / "final" / f"{key}.json"
    if record_path.exists():
        return json.loads(record_path.read_text())
    device = resolve_device(device)
    seed_everything(seed)
    model = build_model(name, bicubic_residual=profile.final.bicubic_residual, **config)
    eval_windows = evenly_spaced(FaceWindows(data, "eval", augment=False, lr_patch=None),
                                 profile.final.eval_windows)
    print(f"== {display_name(key, name, config)}: {profile.final_mode} protocol, "
          f"{profile.final.epochs} epochs x {profile.final.iters_per_epoch} steps", flush=True)
    start = time.perf_counter()
    if profile.final_mode == "cached" and hasattr(model, "ofr"):
        stages = _train_cached(model, data, profile, out, eval_windows, device, seed)
    else:
        windows = FaceWindows(data, "train", augment=True, lr_patch=profile.final.lr_patch,
                              all_hr=True)
        stages = {"history": train_joint(model, name, windows, profile.final, device=device,
                                         seed=seed,
                                         callback=_eval_callback(model, eval_windows, device))}
    seconds = time.perf_counter() - start
    final = stages["history"][-1]
    record = {
        "key": key, "model": name, "display": display_name(key, name, config),
        "config": model.config, "protocol": profile.final_mode,
        "epochs": profile.final.epochs, "iters_per_epoch": profile.final.iters_per_epoch,
        "batch_size": profile.final.batch_size, "lr_patch": profile.final.lr_patch,
        "eval_windows": len(eval_windows), "psnr": final["eval_psnr"],
        "ssim": final["eval_ssim"], "train_seconds": seconds, **stages,
        "provenance": run_provenance(profile.name, seed=seed, device=str(device)),
    }
    save_checkpoint(out / "checkpoints" / f"{key}.pt", model, **{
        k: record[k] for k in ("display", "protocol", "epochs", "iters_per_epoch", "psnr",
                               "ssim")}, profile=profile.name, seed=seed)
    write_json(record_path, record)
    return record


def train_all(data: str | Path, profile: str | Profile, out: str | Path,
              winner: dict | None = None, device: str | None = None,
              seed: int = 0) -> list[dict]:
    """Train every network of :func:`final_networks` in turn (each resumable)."""
    return [train_network(key, name, config, data, profile, out, device, seed)
            for key, (name, config) in final_networks(winner).items()]


def bicubic_scores(windows) -> dict[str, float]:
    """Loss, PSNR and SSIM of bicubic x4 on ``windows`` (the same protocol as the networks)."""
    return evaluate(_Bicubic(), windows, device="cpu")


class _Bicubic(nn.Module):
    """Bicubic x4 of the centre frame, as a 'network' for :func:`evaluate`."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x[:, 1], scale_factor=4, mode="bicubic", align_corners=False)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, required=True, help="dataset built by "
                        "`hofvsr dataset build`")
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--out", type=Path, default=Path("results"))
    parser.add_argument("--model", default="all", help="a key of the final networks "
                        f"(hofvsr_64_5_64, {', '.join(BASELINES)}) or 'all'")
    parser.add_argument("--device", default=None)
    parser.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    nets = final_networks()
    if args.model != "all" and args.model not in nets:
        raise SystemExit(f"unknown network {args.model!r}; choose from {sorted(nets)} or all")
    chosen = nets if args.model == "all" else {args.model: nets[args.model]}
    for key, (name, config) in chosen.items():
        record = train_network(key, name, config, args.data, args.profile, args.out,
                               args.device, args.seed)
        print(f"{record['display']}: PSNR {record['psnr']:.2f} dB, SSIM {record['ssim']:.4f}")
    return 0
