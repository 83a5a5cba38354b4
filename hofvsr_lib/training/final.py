"""Final training (the paper's Section 4.3 / Table 3): every network on the same data and budget.

Networks: HO-FVSR (64, 5, 64), the search's winner (when it differs), SOF-VSR TIP-2020 and
ACCV-2018, and the single-image FSRCNN and small EDSR.

Two protocols, chosen by the profile (``Profile.final_mode``):

* ``cached`` (smoke, cpu): the protocol of :mod:`.cached`, identical for every video network
  and shared with the search (same flow net, same cache). Stage 1 trains its optical-flow net
  alone (``profile.final_flow``, else the searches' ``search.ofr_pretrain``: its own flow
  loss, until its validation warp error stops falling; the TIP OFR net is shared by HO-FVSR
  and TIP-2020 of a seed, the ACCV one is its own). Stage 2 freezes it, caches the draft cubes
  of the train and validation splits and trains the SR net on them (``profile.final``).
  Single-image networks get stage 2's budget on the centre frames. This is what makes a CPU
  run affordable: the OFR net is ~92% of HO-FVSR's operations.
* ``joint`` (paper): SOF-VSR's own training, everything at once with the full loss.
* ``finetune``: the joint training started from a cached run's weights (the whole-network
  search's picks with a learned flow net, ``WholeSearchProfile.finetune``): what training the
  flow net and the SR net together adds to the cached protocol.

A profile can add runs (:func:`final_runs`): more seeds (``final_seeds``; each seed trains its
own stage-1 flow net, so a seed varies the whole cached protocol), the three video networks
trained jointly beside the cached protocol (``joint``), HO-FVSR fed the centre frame alone
(``centre_only_ablation``), HO-FVSR's SR net fed draft cubes aligned by OpenCV's DIS flow
instead of its flow net (``dis_flow_ablation``: what a classical flow buys), and the last seed's
three video networks trained on to a longer budget (``long_final``: variant ``<network>_long``,
which goes on from the state its final run hands over at its end). Each run is
evaluated on the validation persons after every epoch (the learning curves) and, once trained,
scored window by window on the test persons.

Files, per run ``<variant>_seed<k>`` (variant: ``hofvsr_64_5_64``, ``tip_joint``,
``hofvsr_64_5_64_centre_only`` ...): ``results/checkpoints/<run>.pt`` (weights + provenance),
``results/final/<run>.json`` (per-epoch history with validation PSNR/SSIM, wall time, and for a
video network the warp error of its flow net against zero motion and DIS flow per split and
person, :mod:`.flow_quality`), and the
test scores of every seed of a variant in ``results/final/<variant>_scores.csv`` (seed,
person, sequence, window, frame, psnr, ssim, bicubic_psnr, bicubic_ssim); the flow nets the
cached runs were given, ``results/flownets/`` (:data:`.cached.STORE`: on another machine, or
after the dataset's cache is gone, a seed's later runs get the same flow net). A finished run is
skipped on the next call (a record of another dataset or budget is refused, naming the file);
a run interrupted during training resumes after its last finished epoch, from
``results/final/<run>.progress.pt``.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd
import torch
from torch import nn
from torch.utils.data import Subset

from ..atomic import write_csv, write_json
from ..data.dataset import FaceWindows, window_rows
from ..data.manifest import check_same_dataset, manifest_sha256
from ..devices import add_device_arguments, apply_device_arguments, resolve_device
from ..models import DISPLAY_NAMES, build_model, load_checkpoint, save_checkpoint
from ..paper import WINNER
from ..profiles import PROFILES, Profile, TrainProfile, get_profile
from ..provenance import run_provenance
from ..spec import FlowSpec, NetSpec
from .cached import STORE, cube_cache, pretrained_flow_net
from .flow_quality import flow_report
from .loops import (
    CubeDataset,
    evenly_spaced,
    load_cube_cache,
    lr_milestones,
    score_windows,
    seed_everything,
    train_joint,
    train_sr,
)

BASELINES = ("tip", "accv", "fsrcnn", "edsr")
VIDEO_NETWORKS = ("hofvsr_64_5_64", "tip", "accv")  # also trained jointly when asked
PAPER_NETWORKS = ("hofvsr_64_5_64", *BASELINES)  # trained with every seed
SCORE_COLUMNS = ["seed", "person", "sequence", "window", "frame", "psnr", "ssim",
                 "bicubic_psnr", "bicubic_ssim"]


def final_networks(winner: dict | None = None) -> dict[str, tuple[str, dict]]:
    """key -> (model name, config): the paper's (64, 5, 64), the winner if different, baselines."""
    nets = {"hofvsr_64_5_64": ("hofvsr", WINNER.config())}
    searched = NetSpec.of(winner) if winner else WINNER
    if searched != WINNER:
        nets[searched.slug] = ("hofvsr", searched.config())
    nets.update({name: (name, {}) for name in BASELINES})
    return nets


def display_name(key: str, name: str, config: dict) -> str:
    """'HO-FVSR (64, 5, 64)', 'TIP-2020', ... for tables and figures."""
    return NetSpec.of(config).display if name == "hofvsr" else DISPLAY_NAMES[name]


@dataclass(frozen=True)
class FinalRun:
    """One training of one network: protocol, seed, whether it sees only the centre, whether
    it is a pick of the whole-network search (:func:`~..report.front.picks`), and whether it
    is trained on to the profile's longer budget (``long_final``)."""

    key: str  # network key of :func:`final_networks`, or a pick's slug
    name: str  # model name (``build_model``)
    config: dict = field(hash=False)
    protocol: str  # "cached", "joint" or "finetune"
    seed: int
    centre_only: bool = False
    pick: bool = False
    long: bool = False

    @property
    def variant(self) -> str:
        """The row of Table 3 this run is a seed of: the network's name in files (its flow's
        too: HO-FVSR's SR net on DIS flow is ``hofvsr_64_5_64_dis``) and the protocol's."""
        base = NetSpec.of(self.config).slug if self.name == "hofvsr" else self.key
        suffix = "_centre_only" if self.centre_only else ""
        protocol = {"joint": "_joint", "finetune": "_finetuned"}.get(self.protocol, "")
        return f"{base}{suffix}{protocol}" + ("_long" if self.long else "")

    @property
    def run_id(self) -> str:
        return f"{self.variant}_seed{self.seed}"

    @property
    def display(self) -> str:
        base = display_name(self.key, self.name, self.config)
        extras = [x for x, on in (("centre frame only", self.centre_only),
                                  ("joint", self.protocol == "joint"),
                                  ("fine-tuned jointly", self.protocol == "finetune"),
                                  ("long budget", self.long)) if on]
        return base + (f", {', '.join(extras)}" if extras else "")


def final_runs(profile: Profile, winner: dict | None = None,
               picks: list[dict] | None = None) -> list[FinalRun]:
    """Every run the profile asks for, in the order they are trained, what decides the paper's
    comparison first (a run that is stopped loses least): the three video networks seed by
    seed (in the last seed each followed at once by its run on to ``long_final``, which goes on
    from the state it hands over: a resume file, to be carried to a new machine); then the
    single-frame baselines seed by seed; then seed by seed the ablations and the joint runs
    (the first ``joint_seeds`` seeds); then a searched winner
    (first seed only: it is the most expensive network and not one of the paper's), and last
    the whole-network search's ``picks`` (networks' flat fields, ``NetSpec.of``) with every
    seed, each one with a learned flow net followed by its joint fine-tuning when the profile
    asks for it (``whole.finetune``); a pick that is one of the runs before it (HO-FVSR on DIS
    flow is the ablation) is not trained twice."""
    nets = final_networks(winner)
    seeds = [profile.seed + k for k in range(profile.final_seeds)]
    ho = nets["hofvsr_64_5_64"]

    longer = profile.long_final is not None and profile.final_mode == "cached"
    if longer and lr_milestones(profile.long_final) != lr_milestones(profile.final):
        raise ValueError(f"profile {profile.name}: a longer run goes on from a final run's "
                         "state, so both need the same learning-rate drops (absolute "
                         "lr_milestones)")

    def extra_runs(seed: int) -> list[FinalRun]:
        runs = []
        if profile.centre_only_ablation:
            runs.append(FinalRun("hofvsr_64_5_64", *ho, profile.final_mode, seed, True))
        if profile.dis_flow_ablation:  # variant hofvsr_64_5_64_dis
            runs.append(FinalRun("hofvsr_64_5_64", "hofvsr",
                                 replace(WINNER, flow=FlowSpec("dis")).config(),
                                 profile.final_mode, seed))
        if profile.joint is not None and profile.final_mode != "joint" and \
                seed in seeds[:profile.joint_seeds]:
            runs += [FinalRun(k, *nets[k], "joint", seed) for k in VIDEO_NETWORKS]
        return runs

    runs = []
    for seed in seeds:
        for k in VIDEO_NETWORKS:
            runs.append(FinalRun(k, *nets[k], profile.final_mode, seed))
            if longer and seed == seeds[-1]:  # right after it
                runs.append(FinalRun(k, *nets[k], "cached", seed, long=True))
    runs += [FinalRun(k, *nets[k], profile.final_mode, seed) for seed in seeds
             for k in PAPER_NETWORKS if k not in VIDEO_NETWORKS]
    for seed in seeds:
        runs += extra_runs(seed)
    runs += [FinalRun(k, *nets[k], profile.final_mode, seeds[0]) for k in nets
             if k not in PAPER_NETWORKS]
    variants = {r.variant for r in runs}
    specs = [s for s in (NetSpec.of(p) for p in picks or []) if s.slug not in variants]
    finetune = profile.whole is not None and profile.whole.finetune is not None
    for seed in seeds:
        for s in specs:
            run = FinalRun(s.slug, "hofvsr", s.config(), profile.final_mode, seed, pick=True)
            runs.append(run)
            if finetune and s.flow.learned and run.protocol == "cached":
                runs.append(replace(run, protocol="finetune"))
    return runs


def _train_cached(run: FinalRun, model: nn.Module, data: Path, profile: Profile,
                  budget: TrainProfile, device: torch.device, progress: Path,
                  handover: Path | None, store: Path) -> dict:
    """Stage 1 (the model's flow net, shared through the dataset's cache, kept in ``store``)
    + stage 2 on its draft cubes for ``budget``, validated every epoch."""
    flow_budget = profile.final_flow or profile.search.ofr_pretrain
    ofr, _ = pretrained_flow_net(model.flow, data, flow_budget, run.seed, device, store)
    model.ofr.load_state_dict(ofr.ofr.state_dict())
    model.ofr.requires_grad_(False)
    path, meta = cube_cache(model.flow, data, flow_budget, run.seed,
                            {"train": budget.train_windows, "val": budget.eval_windows},
                            run.centre_only, device)
    splits, _ = load_cube_cache(path)
    train_set = CubeDataset(splits["train"]["cubes"], splits["train"]["hr"],
                            lr_patch=budget.lr_patch, augment=True)
    val_set = CubeDataset(splits["val"]["cubes"], splits["val"]["hr"])
    seed_everything(run.seed)
    history = train_sr(model.sr, train_set, budget, val_set, device=device, seed=run.seed,
                       callback=_report, progress=progress, handover=handover)
    model.ofr.requires_grad_(True)
    return {"ofr_history": meta["ofr_history"], "ofr_seconds": meta["ofr_pretrain_s"],
            "cube_cache_seconds": meta["cache_s"], "history": history}


def _start_from(model: nn.Module, checkpoint: Path) -> None:
    """Load a fine-tuning's starting weights: the cached run it goes on from."""
    if not checkpoint.is_file():
        raise FileNotFoundError(
            f"{checkpoint}: the cached run this fine-tuning starts from has no checkpoint here "
            f"(checkpoints of seeds after the first are not committed); remove its record "
            f"({checkpoint.stem}.json under final/) to train it again")
    start, _ = load_checkpoint(checkpoint)
    model.load_state_dict(start.state_dict())


def _report(epoch: int, record: dict) -> None:
    print(f"  epoch {epoch}: validation PSNR {record['psnr']:.2f} dB, "
          f"SSIM {record['ssim']:.4f}", flush=True)


def score_run(model: nn.Module, windows: FaceWindows | Subset, device: torch.device,
              seed: int) -> pd.DataFrame:
    """Per-window test scores of ``model`` beside bicubic's (the columns of SCORE_COLUMNS)."""
    table = pd.DataFrame(window_rows(windows))
    net = score_windows(model, windows, device=device)
    bicubic = score_windows(build_model("bicubic"), windows, device="cpu")
    return table.assign(seed=seed, psnr=net["psnr"], ssim=net["ssim"],
                        bicubic_psnr=bicubic["psnr"], bicubic_ssim=bicubic["ssim"]
                        )[SCORE_COLUMNS]


def read_scores(out: str | Path, variant: str) -> pd.DataFrame:
    """The test scores of every seed of ``variant`` (empty when none yet)."""
    path = Path(out) / "final" / f"{variant}_scores.csv"
    return pd.read_csv(path) if path.is_file() else pd.DataFrame(columns=SCORE_COLUMNS)


def _add_scores(out: Path, variant: str, scores: pd.DataFrame) -> None:
    seed = int(scores["seed"].iloc[0])
    old = read_scores(out, variant)
    merged = pd.concat([old[old["seed"] != seed], scores]) if len(old) else scores
    (out / "final").mkdir(parents=True, exist_ok=True)
    write_csv(merged.sort_values(["seed", "window"]),
                     out / "final" / f"{variant}_scores.csv")


def run_budget(run: FinalRun, profile: Profile) -> TrainProfile:
    """The budget a run trains for: the profile's final one, or its long, fine-tuning or joint
    one."""
    if run.long:
        return profile.long_final
    if run.protocol == "finetune":
        return profile.whole.finetune
    if run.protocol == "joint" and profile.final_mode != "joint":
        return profile.joint
    return profile.final


def train_run(run: FinalRun, data: str | Path, profile: str | Profile, out: str | Path,
              device: str | None = None) -> dict:
    """Train, validate and test one run; returns its record (read back if already done)."""
    profile = get_profile(profile) if isinstance(profile, str) else profile
    data, out = Path(data), Path(out)
    record_path = out / "final" / f"{run.run_id}.json"
    budget = run_budget(run, profile)
    if record_path.exists() and run.seed in set(read_scores(out, run.variant)["seed"]):
        record = json.loads(record_path.read_text())
        check_same_dataset(record["provenance"].get("manifest_sha256"), data, record_path)
        made, asked = (record["epochs"], record["iters_per_epoch"]), (budget.epochs,
                                                                      budget.iters_per_epoch)
        if made == asked:
            return record
        if record["provenance"].get("profile") != profile.extends:
            raise ValueError(f"{record_path} was trained for {made[0]} x {made[1]} steps, "
                             f"profile {profile.name} trains {asked[0]} x {asked[1]}: use "
                             f"another output folder")
        print(f"{record_path.name}: the {profile.extends} run's {made[0]} x {made[1]} steps, "
              f"superseded by {profile.name}'s {asked[0]} x {asked[1]}", flush=True)
    device = resolve_device(device)
    progress = out / "final" / f"{run.run_id}.progress.pt"  # resumed after an interruption
    longer = replace(run, long=True)  # trained on from this run's last state, if asked for
    handover = (out / "final" / f"{longer.run_id}.progress.pt"
                if not run.long and longer in final_runs(profile) else None)
    seed_everything(run.seed)
    model = build_model(run.name, bicubic_residual=budget.bicubic_residual, **run.config)
    print(f"== {run.display}, seed {run.seed}: {run.protocol} protocol, {budget.epochs} "
          f"epochs x {budget.iters_per_epoch} steps", flush=True)
    start = time.perf_counter()
    if run.protocol == "cached" and hasattr(model, "ofr"):
        stages = _train_cached(run, model, data, profile, budget, device, progress, handover,
                               out / STORE)
    else:
        if run.protocol == "finetune":  # from the cached run's weights
            _start_from(model, out / "checkpoints" / f"{replace(run, protocol='cached').run_id}.pt")
        windows = FaceWindows(data, "train", augment=True, lr_patch=budget.lr_patch,
                              all_hr=True, centre_only=run.centre_only)
        val = evenly_spaced(FaceWindows(data, "val", centre_only=run.centre_only),
                            budget.eval_windows)
        stages = {"history": train_joint(model, windows, budget, val, device, run.seed,
                                         _report, progress)}
    seconds = time.perf_counter() - start
    test = evenly_spaced(FaceWindows(data, "test", centre_only=run.centre_only),
                         profile.test_windows)
    scores = score_run(model, test, device, run.seed)
    flow = getattr(model, "flow", None)
    if flow and not flow.single_frame and not run.centre_only:  # does its flow align?
        val_windows, test_windows = profile.flow_check_windows
        stages["flow"] = flow_report(model.ofr, data, {"val": val_windows, "test": test_windows},
                                     device)
    final = stages["history"][-1]
    record = {
        "run": run.run_id, "variant": run.variant, "key": run.key, "model": run.name,
        "display": run.display, "config": model.config, "protocol": run.protocol,
        "seed": run.seed, "centre_only": run.centre_only, "pick": run.pick, "long": run.long,
        "epochs": budget.epochs,
        "iters_per_epoch": budget.iters_per_epoch, "batch_size": budget.batch_size,
        "lr_patch": budget.lr_patch, "lr_drops": lr_milestones(budget),
        "lr_schedule": "compressed" if budget.lr_milestones is None else "absolute",
        "val_psnr": final["psnr"], "val_ssim": final["ssim"],
        "test_windows": len(scores), "psnr": float(scores["psnr"].mean()),
        "ssim": float(scores["ssim"].mean()),
        # this process's wall time (a resumed run's covers only what it trained), and the
        # epochs' own wall times summed over every process that trained them
        "train_seconds": seconds,
        "epoch_seconds": sum(h["seconds"] for h in stages["history"]), **stages,
        "provenance": run_provenance(profile, seed=run.seed, device=str(device),
                                     manifest_sha256=manifest_sha256(data)),
    }
    save_checkpoint(out / "checkpoints" / f"{run.run_id}.pt", model, **{
        k: record[k] for k in ("display", "protocol", "epochs", "iters_per_epoch", "psnr",
                               "ssim")}, profile=profile.name, seed=run.seed)
    _add_scores(out, run.variant, scores)
    write_json(record_path, record)
    print(f"   test PSNR {record['psnr']:.2f} dB (bicubic {scores['bicubic_psnr'].mean():.2f})"
          f", {seconds:.0f} s", flush=True)
    return record


def train_all(data: str | Path, profile: str | Profile, out: str | Path,
              winner: dict | None = None, device: str | None = None) -> list[dict]:
    """Train every run of :func:`final_runs` in turn (each resumable)."""
    profile = get_profile(profile) if isinstance(profile, str) else profile
    return [train_run(run, data, profile, out, device) for run in final_runs(profile, winner)]


def final_records(out: str | Path) -> list[dict]:
    """Every finished run's record in ``results/final/`` (OFR checkpoints excluded)."""
    return [json.loads(p.read_text()) for p in sorted(Path(out, "final").glob("*_seed*.json"))]


def run_status(profile: Profile, out: str | Path, picks: list[dict] | None = None
               ) -> pd.DataFrame:
    """Where each run of :func:`final_runs` stands in ``out``: done (its test PSNR, the hours
    its epochs took), stopped after an epoch (its progress file), or to do; the hours left
    estimated from the epochs of the same network's finished runs (another seed; NaN when
    none has finished)."""
    out = Path(out)
    done = {r["run"]: r for r in final_records(out)}
    epoch_s: dict[str, list[float]] = {}
    for r in done.values():
        epoch_s.setdefault(r["variant"], []).append(
            sum(h["seconds"] for h in r["history"]) / len(r["history"]))
    rows = []
    for run in final_runs(profile, picks=picks):
        budget, record = run_budget(run, profile), done.get(run.run_id)
        progress = out / "final" / f"{run.run_id}.progress.pt"
        if record is not None:
            epochs, state = budget.epochs, "done"
        elif progress.is_file():
            epochs = len(torch.load(progress, map_location="cpu", weights_only=False)["history"])
            state = f"after epoch {epochs} of {budget.epochs}"
        elif run.long:  # it will go on from the state its final run hands over
            epochs, state = profile.final.epochs, f"to do, from epoch {profile.final.epochs}"
        else:
            epochs, state = 0, "to do"
        per_epoch = epoch_s.get(run.variant.removesuffix("_long"))
        rows.append({
            "run": run.run_id, "network": run.display,
            "steps": budget.epochs * budget.iters_per_epoch, "state": state,
            "test PSNR": record["psnr"] if record else float("nan"),
            "epoch hours": sum(h["seconds"] for h in record["history"]) / 3600 if record
            else float("nan"),
            "epoch hours left (est.)": (budget.epochs - epochs) * sum(per_epoch) / len(per_epoch)
            / 3600 if per_epoch else float("nan")})
    return pd.DataFrame(rows).set_index("run")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, help="dataset built by `hofvsr dataset build` "
                        "(required unless --status)")
    parser.add_argument("--status", action="store_true", help="print where each run stands "
                        "in --out (done, stopped after an epoch, to do) and the hours left")
    parser.add_argument("--profile", default="cpu", choices=sorted(PROFILES))
    parser.add_argument("--out", type=Path, default=Path("results"))
    parser.add_argument("--model", default="all", help="a key of the final networks "
                        f"(hofvsr_64_5_64, {', '.join(BASELINES)}) or 'all'")
    add_device_arguments(parser)


def run(args: argparse.Namespace) -> int:
    profile = get_profile(args.profile)
    if args.status:
        from ..report.front import read_picks

        status = run_status(profile, args.out, read_picks(args.out))
        with pd.option_context("display.width", 200, "display.max_rows", None,
                               "display.max_colwidth", 48):
            print(status.round(2).fillna("").to_string())
        left = status.loc[status["state"] != "done", "epoch hours left (est.)"]
        print(f"\n{len(status) - len(left)} of {len(status)} runs done, "
              f"{status['epoch hours'].sum():.1f} h of training epochs; about {left.sum():.1f} h "
              f"of epochs left in the other {len(left)} ({left.isna().sum()} without an estimate;"
              " flow nets and draft cubes not counted; the estimates are the finished runs' "
              "epoch times, on whichever machine they ran)")
        return 0
    if args.data is None:
        raise SystemExit("hofvsr train: --data is required (unless --status)")
    if not apply_device_arguments(args):
        return 2
    runs = final_runs(profile)
    if args.model != "all" and args.model not in {r.key for r in runs}:
        raise SystemExit(f"unknown network {args.model!r}; choose from "
                         f"{sorted({r.key for r in runs})} or all")
    for r in runs:
        if args.model in ("all", r.key):
            record = train_run(r, args.data, profile, args.out, args.device)
            print(f"{record['display']} seed {record['seed']}: test PSNR "
                  f"{record['psnr']:.2f} dB, SSIM {record['ssim']:.4f}")
    return 0
