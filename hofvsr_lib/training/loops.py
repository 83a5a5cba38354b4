"""Training and evaluation loops shared by the search trials and the final training.

Three ways to train the SOF-VSR family (HO-FVSR, TIP-2020, ACCV-2018):

* :func:`train_joint`: everything at once with the full SOF-VSR loss (SR MSE + OFR flow loss),
  as SOF-VSR trains; batches are ``(lr (B,3,1,p,p), hr (B,3,1,4p,4p))`` (all three HR frames).
* :func:`pretrain_ofr`: the optical-flow net alone with its own flow loss, until its validation
  warp error stops falling; then :func:`cache_draft_cubes` runs the frozen net once over a split
  and keeps the draft cubes.
* :func:`train_sr`: the SR net alone (MSE) on cached cubes (:class:`CubeDataset`), which is what
  every search trial does in the default "cached" mode: the OFR net is ~92% of HO-FVSR's work.

Draft-cube augmentation. A cube is ``[centre, N(T-1) at s*s phases, N(T+1) at s*s phases]``; the
phase ``(i, j)`` (row-major) of neighbour ``k`` at LR pixel ``(y, x)`` holds the neighbour warped
by the HR flow at ``(s*y + i, s*x + j)`` divided by ``s`` (``models.common.phase_warps``). Flipping
the input horizontally maps HR column ``s*x + j`` to ``s*(w-1-x) + (s-1-j)``: the LR column is
mirrored *and* the phase ``j`` becomes ``s-1-j`` (the flow's x component changes sign, which the
warped values absorb). Likewise a vertical flip reverses ``i`` and a transpose swaps ``i`` and
``j``. :func:`augment_cube` applies exactly that, so an augmented cached cube equals the cube the
same OFR net would compute from the augmented frames if the flow net is flip-equivariant
(``tests/test_training.py`` checks this against ``HOFVSR.draft_cube``).
"""

from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset, RandomSampler, Subset
from tqdm import tqdm

from ..atomic import replacing
from ..devices import place, resolve_device
from ..metrics import psnr, shave_border, ssim
from ..models.losses import sofvsr_loss
from ..profiles import TrainProfile

EpochCallback = Callable[[int, dict], None]
"""Called after every epoch with (epoch starting at 1, the epoch's record)."""

LR_MILESTONES = (0.4, 0.8)  # TIP-2020: lr x0.1 at 80k and 160k of 200k iterations


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) random generators."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def evenly_spaced(dataset: Dataset, count: int | None) -> Dataset:
    """At most ``count`` items spread evenly over ``dataset`` (all of it when ``count`` is None)."""
    n = len(dataset)
    if count is None or count >= n:
        return dataset
    return Subset(dataset, sorted({int(i) for i in np.linspace(0, n - 1, count).round()}))


def loader_workers(device: torch.device) -> int:
    """Data-loading processes beside the training: none on a CPU (they would take its cores),
    up to 8 beside a GPU, which otherwise waits for the loader (measured on an H200: a batch
    of 32 face windows took 185 ms to load against 9-31 ms for an SR training step)."""
    if device.type == "cpu":
        return 0
    return max(0, min(8, (os.cpu_count() or 1) - 1))


def batch_stream(dataset: Dataset, batch_size: int, seed: int, workers: int = 0) -> Iterator:
    """An endless stream of random batches (sampling with replacement, reproducible, also
    with ``workers`` loading processes: each is seeded from the same generator)."""
    if len(dataset) == 0:
        raise ValueError("cannot train on an empty dataset")
    generator = torch.Generator().manual_seed(seed)
    sampler = RandomSampler(dataset, replacement=True, num_samples=batch_size * 1000,
                            generator=generator)
    loader = DataLoader(dataset, batch_size=batch_size, sampler=sampler, drop_last=True,
                        num_workers=workers, persistent_workers=workers > 0,
                        pin_memory=workers > 0 and torch.cuda.is_available(),
                        generator=generator if workers else None)
    while True:
        yield from loader


def _to(batch, device: torch.device):
    return [t.to(device, non_blocking=True).float() for t in batch]


# --------------------------------------------------------------------------- draft-cube cache


def augment_cube(cube: torch.Tensor, hr: torch.Tensor, hflip: bool, vflip: bool,
                 transpose: bool, scale: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    """Flip/transpose a draft cube (C, h, w) and its HR target (1, s*h, s*w) consistently.

    Spatial ops act on the LR grid; the ``s*s`` phase channels of each neighbour are permuted
    (see the module docstring). Applied in the order transpose, hflip, vflip.
    """
    c, h, w = cube.shape
    n_neigh, n_plain = divmod(c, scale * scale)  # TIP/HO: 1 + 2 x 16, ACCV: 3 + 2 x 16
    if n_neigh == 0 or not 1 <= n_plain <= n_neigh + 1:
        raise ValueError(f"a draft cube has the centre (or all frames) + {scale * scale} phase "
                         f"channels per neighbour, got {c} channels")
    centre = cube[:n_plain]
    phases = cube[n_plain:].reshape(n_neigh, scale, scale, h, w)  # (k, i, j, y, x)
    if transpose:
        centre, hr = centre.transpose(-1, -2), hr.transpose(-1, -2)
        phases = phases.permute(0, 2, 1, 4, 3)
    if hflip:
        centre, hr = centre.flip(-1), hr.flip(-1)
        phases = phases.flip(2, 4)
    if vflip:
        centre, hr = centre.flip(-2), hr.flip(-2)
        phases = phases.flip(1, 3)
    h2, w2 = centre.shape[-2:]
    return torch.cat((centre, phases.reshape(-1, h2, w2)), 0), hr


class CubeDataset(Dataset):
    """Cached draft cubes (N, C, h, w) and HR centres (N, 1, s*h, s*w) as a training/eval set.

    ``lr_patch`` crops a random ``lr_patch`` square (and the matching HR square); ``augment``
    applies a random flip/transpose with :func:`augment_cube`. Items are float32.
    """

    def __init__(self, cubes: torch.Tensor, hr: torch.Tensor, lr_patch: int | None = None,
                 augment: bool = False, scale: int = 4):
        if len(cubes) != len(hr):
            raise ValueError(f"{len(cubes)} cubes but {len(hr)} HR frames")
        self.cubes, self.hr = cubes, hr
        self.lr_patch, self.augment, self.scale = lr_patch, augment, scale

    def __len__(self) -> int:
        return len(self.cubes)

    def __getitem__(self, idx: int) -> tuple[torch.Tensor, torch.Tensor]:
        cube, hr = self.cubes[idx].float(), self.hr[idx].float()
        h, w = cube.shape[-2:]
        p, s = self.lr_patch, self.scale
        if p is not None and (p < h or p < w):
            y = int(torch.randint(0, h - p + 1, ()))
            x = int(torch.randint(0, w - p + 1, ()))
            cube = cube[:, y:y + p, x:x + p]
            hr = hr[:, y * s:(y + p) * s, x * s:(x + p) * s]
        if self.augment:
            hflip, vflip, transpose = (bool(b) for b in torch.randint(0, 2, (3,)))
            cube, hr = augment_cube(cube, hr, hflip, vflip, transpose, s)
        return cube, hr


@torch.no_grad()
def cache_draft_cubes(model: nn.Module, dataset: Dataset, batch_size: int = 16,
                      device: str | torch.device | None = None,
                      desc: str = "draft cubes") -> dict[str, torch.Tensor]:
    """Run ``model.draft_cube`` (frozen, eval mode) over ``dataset`` items ``(lr, hr_centre)``.

    Returns ``{"cubes": (N, C, h, w), "hr": (N, 1, 4h, 4w)}`` in float16 on the CPU.
    """
    device = resolve_device(device)
    model = place(model, device).eval()
    cubes, hrs = [], []
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False)
    for lr, hr in tqdm(loader, desc=desc, leave=False):
        cube, _ = model.draft_cube(lr.to(device).float())
        cubes.append(cube.half().cpu())
        hrs.append(hr.half())
    return {"cubes": torch.cat(cubes), "hr": torch.cat(hrs)}


def save_cube_cache(path: str | Path, splits: dict[str, dict[str, torch.Tensor]],
                    meta: dict) -> Path:
    """Write ``{split: {"cubes", "hr"}}`` and ``meta`` atomically to ``path`` (torch.save)."""
    with replacing(path) as tmp:
        torch.save({"splits": splits, "meta": meta}, tmp)
    return Path(path)


def load_cube_cache(path: str | Path) -> tuple[dict[str, dict[str, torch.Tensor]], dict]:
    """Read a cache written by :func:`save_cube_cache` -> (splits, meta)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"draft-cube cache {path} does not exist")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
        return blob["splits"], blob["meta"]
    except Exception as exc:  # a truncated or foreign file
        raise ValueError(f"{path} is not a draft-cube cache: {exc}") from exc


# --------------------------------------------------------------------------- evaluation


@torch.no_grad()
def score_windows(model: nn.Module, dataset: Dataset, batch_size: int = 8,
                  device: str | torch.device | None = None, scale: int = 4
                  ) -> dict[str, np.ndarray]:
    """Per-item MSE loss, PSNR and SSIM (project protocol, ``hofvsr_lib.metrics``).

    Items are ``(input, hr_centre (1, s*h, s*w))``; ``model(input)`` in eval mode must return the
    SR centre ``(B, 1, s*h, s*w)``: a full network on frames or an ``SRNet`` on draft cubes.
    """
    device = resolve_device(device)
    was_training = model.training
    model.eval()
    shave = shave_border(scale)
    losses, psnrs, ssims = [], [], []
    for inp, hr in DataLoader(dataset, batch_size=batch_size, shuffle=False):
        sr = model(inp.to(device).float()).float().cpu()
        hr = hr.float()
        losses.append(F.mse_loss(sr, hr, reduction="none").mean(dim=(1, 2, 3)))
        for pred, target in zip(sr, hr, strict=True):
            psnrs.append(psnr(pred, target, shave))
            ssims.append(ssim(pred, target, shave))
    model.train(was_training)
    if not psnrs:
        raise ValueError("cannot evaluate on an empty dataset")
    return {"loss": torch.cat(losses).numpy(), "psnr": np.asarray(psnrs),
            "ssim": np.asarray(ssims)}


def evaluate(model: nn.Module, dataset: Dataset, batch_size: int = 8,
             device: str | torch.device | None = None, scale: int = 4) -> dict[str, float]:
    """Mean loss, PSNR and SSIM of :func:`score_windows` over ``dataset``."""
    scores = score_windows(model, dataset, batch_size, device, scale)
    return {k: float(v.mean()) for k, v in scores.items()}


# --------------------------------------------------------------------------- training loops


def lr_milestones(profile: TrainProfile) -> list[int]:
    """The steps after which the learning rate drops 10x: ``profile.lr_milestones`` (absolute,
    so that a longer run shares a shorter one's schedule up to its end), else TIP-2020's
    fractions of the run (:data:`LR_MILESTONES`)."""
    if profile.lr_milestones is not None:
        return sorted(profile.lr_milestones)
    total = profile.epochs * profile.iters_per_epoch
    return sorted({max(1, math.floor(m * total)) for m in LR_MILESTONES})


def _save_progress(path: Path, params: list[nn.Parameter], optimizer, scheduler,
                   history: list[dict]) -> None:
    """Everything a run needs to go on after its last finished epoch (written atomically)."""
    state = {"params": [p.detach().cpu() for p in params], "optimizer": optimizer.state_dict(),
             "scheduler": scheduler.state_dict(), "history": history,
             "rng": {"torch": torch.get_rng_state(), "numpy": np.random.get_state(),
                     "python": random.getstate()}}
    with replacing(path) as tmp:
        torch.save(state, tmp)


def _load_progress(path: Path, params: list[nn.Parameter], optimizer, scheduler) -> list[dict]:
    state = torch.load(path, map_location="cpu", weights_only=False)  # our own file
    if len(state["params"]) != len(params) or any(
            a.shape != b.shape for a, b in zip(state["params"], params, strict=True)):
        raise ValueError(f"{path}: a run of another network; remove it to start afresh")
    with torch.no_grad():
        for param, saved in zip(params, state["params"], strict=True):
            param.copy_(saved)
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["rng"]["torch"])
    np.random.set_state(state["rng"]["numpy"])
    random.setstate(state["rng"]["python"])
    return state["history"]


def _fit(params: list[nn.Parameter], step: Callable[[list[torch.Tensor]], torch.Tensor],
         train_set: Dataset, profile: TrainProfile, device: torch.device, seed: int,
         evaluate_fn: Callable[[], dict] | None, callback: EpochCallback | None,
         desc: str, stop: Callable[[list[dict]], bool] | None = None,
         progress: Path | None = None, handover: Path | None = None) -> list[dict]:
    """Adam + TIP-style step decay (:func:`lr_milestones`); ``profile.epochs`` x
    ``iters_per_epoch`` steps, or fewer when ``stop(history)`` says so after an epoch.

    ``progress``: a file the run's state is saved to after every epoch and resumed from (the
    batches after a resume come from a stream seeded by the seed and the epoch); removed once
    the run ends. ``handover``: where the run's state is written when it ends, as the progress
    file of a longer run that goes on from it (the same schedule, so that run's first epochs
    are this one's)."""
    optimizer = torch.optim.Adam(params, lr=profile.lr)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, lr_milestones(profile),
                                                     gamma=0.1)
    history = []
    if progress is not None and progress.is_file():
        history = _load_progress(progress, params, optimizer, scheduler)
        print(f"{desc}: resumed after epoch {len(history)} ({progress.name})", flush=True)
    stream_seed = seed if not history else seed + 100_003 * len(history)
    batches = batch_stream(train_set, profile.batch_size, stream_seed, loader_workers(device))
    for epoch in range(len(history) + 1, profile.epochs + 1):
        start, losses = time.perf_counter(), []
        for _ in tqdm(range(profile.iters_per_epoch), desc=f"{desc} epoch {epoch}", leave=False):
            loss = step(_to(next(batches), device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            losses.append(float(loss.detach()))
        record = {"epoch": epoch, "train_loss": float(np.mean(losses)),
                  "train_seconds": time.perf_counter() - start}
        if evaluate_fn is not None:
            record.update(evaluate_fn())
        record["seconds"] = time.perf_counter() - start
        history.append(record)
        if callback is not None:
            callback(epoch, record)
        if stop is not None and stop(history):
            break
        if progress is not None and epoch < profile.epochs:
            _save_progress(progress, params, optimizer, scheduler, history)
    if handover is not None:
        _save_progress(handover, params, optimizer, scheduler, history)
    if progress is not None:
        progress.unlink(missing_ok=True)
    return history


def train_joint(model: nn.Module, train_set: Dataset, profile: TrainProfile,
                eval_set: Dataset | None = None, device: str | torch.device | None = None,
                seed: int = 0, callback: EpochCallback | None = None,
                progress: Path | None = None) -> list[dict]:
    """Train the whole network with ``sofvsr_loss(model, ...)``, evaluating every epoch
    (``progress``: resume file, as in :func:`_fit`).

    ``train_set`` yields ``(lr (3,1,p,p), hr (3,1,4p,4p))``; ``eval_set`` yields
    ``(lr (3,1,h,w), hr_centre (1,4h,4w))``.
    """
    device = resolve_device(device)
    place(model, device).train()

    def step(batch: list[torch.Tensor]) -> torch.Tensor:
        lr, hr = batch
        sr, flows = model(lr)
        total, _ = sofvsr_loss(model, sr, hr[:, 1], flows, lr, hr)
        return total

    evaluate_fn = None if eval_set is None else (lambda: evaluate(model, eval_set, device=device))
    return _fit(list(model.parameters()), step, train_set, profile, device, seed, evaluate_fn,
                callback, f"train {model.name}", progress=progress)


def pretrain_ofr(model: nn.Module, train_set: Dataset, profile: TrainProfile,
                 device: str | torch.device | None = None, seed: int = 0,
                 callback: EpochCallback | None = None,
                 evaluate_fn: Callable[[], dict] | None = None) -> list[dict]:
    """Train ``model.ofr`` alone with its family's flow loss (``model.ofr_loss``).

    ``evaluate_fn`` (after every epoch) returns at least ``warp_ratio``, the validation warp
    error against zero motion's (:mod:`.flow_quality`): training stops once it has not fallen
    for ``profile.patience`` epochs, and the best epoch's weights are kept (its record says
    ``"kept": true``). ``train_set`` yields ``(lr (3,1,p,p), hr (3,1,4p,4p))``.
    """
    device = resolve_device(device)
    place(model, device).train()
    evaluations = [0]
    best: dict = {"ratio": math.inf, "epoch": 0, "state": None}

    def step(batch: list[torch.Tensor]) -> torch.Tensor:
        lr, hr = batch
        centre = lr[:, 1]
        return model.ofr_loss([model.ofr(lr[:, k], centre) for k in (0, 2)], lr, hr)

    def evaluate() -> dict:
        evaluations[0] += 1
        result = evaluate_fn()
        model.ofr.train()
        if result["warp_ratio"] < best["ratio"]:
            best.update(ratio=result["warp_ratio"], epoch=evaluations[0],
                        state={k: v.detach().clone() for k, v in model.ofr.state_dict().items()})
        return result

    def stop(history: list[dict]) -> bool:
        return profile.patience is not None and len(history) - best["epoch"] >= profile.patience

    history = _fit(list(model.ofr.parameters()), step, train_set, profile, device, seed,
                   evaluate if evaluate_fn is not None else None, callback, "pretrain OFR", stop)
    if best["state"] is not None:
        model.ofr.load_state_dict(best["state"])
        for record in history:
            record["kept"] = record["epoch"] == best["epoch"]
    return history


def train_sr(sr_net: nn.Module, train_set: Dataset, profile: TrainProfile,
             eval_set: Dataset | None = None, device: str | torch.device | None = None,
             seed: int = 0, callback: EpochCallback | None = None,
             progress: Path | None = None, handover: Path | None = None) -> list[dict]:
    """Train an ``SRNet`` alone (MSE) on cached draft cubes (:class:`CubeDataset` items);
    ``progress``, ``handover``: resume file and final state, as in :func:`_fit`."""
    device = resolve_device(device)
    place(sr_net, device).train()

    def step(batch: list[torch.Tensor]) -> torch.Tensor:
        cube, hr = batch
        return F.mse_loss(sr_net(cube), hr)

    evaluate_fn = None if eval_set is None else (lambda: evaluate(sr_net, eval_set, device=device))
    return _fit(list(sr_net.parameters()), step, train_set, profile, device, seed, evaluate_fn,
                callback, "train SR", progress=progress, handover=handover)
