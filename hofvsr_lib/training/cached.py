"""The cached protocol, used by the search's trials and by the final training on a CPU.

Stage 1 trains a network's flow net alone (its :class:`~hofvsr_lib.spec.FlowSpec`, a model's
``flow``: TIP-2020's net that HO-FVSR shares, ACCV-2018's), once, with its family's flow loss
(``model.ofr_loss``) until its validation warp error stops falling (``loops.pretrain_ofr``); a
classical flow (DIS) has nothing to train. Stage 2 freezes it and caches its draft cubes, on
which only the SR net is trained (``loops.train_sr``).

One cache per dataset, beside its manifest: ``<data>/cached/``. A flow net is keyed by the
manifest's sha256, the pre-training budget, the seed and the flow (:meth:`FlowSpec.key`); a
cube file by its flow net's key, the splits and their window counts, whether the input is the
centre frame alone (always, for a single-frame network: its cube is the centre-only input's),
and the LR protocol's version when it is not the first. Anything that
changes a key trains or caches anew under another name, so the search and the final training
share what they can and never read a stale file. Writers hold a file lock, so concurrent runs
wait instead of racing.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import torch
from filelock import FileLock
from torch import nn
from torch.utils.data import Dataset

from ..atomic import replacing
from ..data.dataset import FaceWindows
from ..data.equivalence import declared
from ..data.manifest import manifest_sha256
from ..imaging import LR_PROTOCOL
from ..models import build_model, load_checkpoint, save_checkpoint
from ..models.common import VideoSR
from ..profiles import TrainProfile
from ..spec import FlowSpec
from .flow_quality import summarise, warp_errors
from .loops import (
    cache_draft_cubes,
    evenly_spaced,
    load_cube_cache,
    pretrain_ofr,
    save_cube_cache,
    seed_everything,
)

# the network a flow is pretrained and cached in (a flow net's checkpoint holds it): the
# published one of its family at its published sizes, else HO-FVSR (64, 5, 64) with that flow
PUBLISHED = {FlowSpec(): "tip", FlowSpec("accv"): "accv"}
CACHE_DIR = "cached"  # under the dataset directory
STORE = "flownets"  # under a results folder: the pretrained flow nets its final runs used
# the flow nets' recipe, in their key: 2 = standardised input pairs (models.common), so that a
# flow net trained before the change is never read as one trained after it
FLOW_RECIPE = 2


def flow_net_key(flow: FlowSpec, data: str | Path, budget: TrainProfile, seed: int) -> dict:
    """What determines a pretrained flow net: dataset, budget, seed and flow (a classical
    flow: the dataset alone, one "flow net" for every seed and budget)."""
    sha = manifest_sha256(data)
    if not flow.learned:
        return {**flow.key(), "manifest_sha256": sha, "seed": 0}
    # settings at None are left out: one added later at its None default keeps old keys
    settings = {k: v for k, v in vars(budget).items() if v is not None}
    return {**flow.key(), "manifest_sha256": sha, "ofr_pretrain": settings, "seed": seed,
            "recipe": FLOW_RECIPE}


def cube_key(flow: FlowSpec, data: str | Path, budget: TrainProfile, seed: int,
             windows: dict[str, int | None], centre_only: bool = False) -> dict:
    """What determines a cube file: its flow net's key, the windows, the centre-only input (a
    single-frame flow's always) and the LR protocol (its version, recorded from the second on
    so that older keys hold)."""
    lr = {"lr_protocol": LR_PROTOCOL} if LR_PROTOCOL > 1 else {}
    return {**flow_net_key(flow, data, budget, seed), "windows": windows,
            "centre_only": centre_only or flow.single_frame, **lr}


def flow_network(flow: FlowSpec) -> VideoSR:
    """A fresh network holding ``flow`` (``PUBLISHED``)."""
    return (build_model(PUBLISHED[flow]) if flow in PUBLISHED
            else build_model("hofvsr", **flow.config()))


def _stem(kind: str, key: dict) -> str:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:10]
    return f"{kind}-{key['family']}-seed{key['seed']}-{digest}"


def _folder(data: str | Path) -> Path:
    folder = Path(data) / CACHE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def pretrained_flow_net(flow: FlowSpec, data: str | Path, budget: TrainProfile, seed: int,
                        device: str | torch.device | None = None, store: Path | None = None
                        ) -> tuple[VideoSR, dict]:
    """Stage 1: :func:`flow_network` with its flow net trained alone (once per key), in eval
    mode; returns (model, metadata with the key, the per-epoch history and the seconds).

    ``store`` (a results folder's :data:`STORE`): the flow nets its runs used, kept with the
    results. A flow net missing from the dataset's cache is taken from it when it was trained
    on this dataset or on one declared a rebuild of it (:mod:`..data.equivalence`), so that the
    runs of one seed keep one flow net across machines; one trained or read here is added."""
    key = flow_net_key(flow, data, budget, seed)
    path = _folder(data) / f"{_stem('ofr', key)}.pt"
    with FileLock(str(path.with_suffix(".lock"))):
        restored = None if path.is_file() or store is None else _restore(store, flow, key)
        if restored is not None:
            save_checkpoint(path, restored[0], stage="ofr_pretrain", **restored[1])
        if path.is_file():
            model, meta = load_checkpoint(path)
            meta = meta["provenance"]
        else:
            seed_everything(seed)
            model = flow_network(flow)
            if not flow.learned:
                return model.eval(), {"key": key, "history": [], "seconds": 0.0}
            start = time.perf_counter()
            windows = FaceWindows(data, "train", augment=True, lr_patch=budget.lr_patch,
                                  all_hr=True)
            val = evenly_spaced(FaceWindows(data, "val", all_hr=True), budget.eval_windows)
            history = pretrain_ofr(model, windows, budget, device, seed, _report_flow,
                                   lambda: _validation_warp(model.ofr, val, device))
            meta = {"key": key, "history": history, "seconds": time.perf_counter() - start}
            save_checkpoint(path, model, stage="ofr_pretrain", **meta)
        if store is not None and flow.learned:
            _keep(store, model, meta)
    return model.eval(), meta


def _keep(store: Path, model: VideoSR, meta: dict) -> None:
    """Add the flow net's weights (``ofr`` alone), key and history to ``store``."""
    key = meta.get("restored_from", {}).get("key", meta["key"])  # where it was trained
    path = Path(store) / f"{_stem('ofr', key)}.pt"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        with replacing(path) as tmp:
            torch.save({"key": key, "history": meta["history"], "seconds": meta["seconds"],
                        "ofr": {k: v.detach().cpu() for k, v in model.ofr.state_dict().items()}},
                       tmp)


def _restore(store: Path, flow: FlowSpec, key: dict) -> tuple[VideoSR, dict] | None:
    """The flow net of ``key`` from ``store``: one whose key differs at most by its dataset,
    when that dataset is this one or was measured equal to it; None if there is none."""
    def same(k: dict) -> bool:
        ours, theirs = key["manifest_sha256"], k["manifest_sha256"]
        return ({**k, "manifest_sha256": ours} == key
                and (theirs == ours or declared(theirs, ours)))

    for path in sorted(Path(store).glob(f"ofr-{key['family']}-seed{key['seed']}-*.pt")):
        saved = torch.load(path, map_location="cpu", weights_only=True)
        if same(saved["key"]):
            model = flow_network(flow)
            model.ofr.load_state_dict(saved["ofr"])
            return model, {"key": key, "history": saved["history"], "seconds": saved["seconds"],
                           "restored_from": {"file": path.name, "key": saved["key"]}}
    return None


def _validation_warp(flow_net: nn.Module, val: Dataset, device) -> dict:
    """The flow net's validation warp error, and zero motion's and DIS flow's beside it."""
    overall = summarise(warp_errors(flow_net, val, device), None).iloc[0]
    return {"warp_ratio": float(overall["net/zero"]), "warp_error": float(overall["net"]),
            "zero_error": float(overall["zero"]), "dis_ratio": float(overall["dis/zero"])}


def _report_flow(epoch: int, record: dict) -> None:
    print(f"  flow net epoch {epoch}: validation warp error {record['warp_ratio']:.3f}x zero "
          f"motion's (DIS {record['dis_ratio']:.3f}x)", flush=True)


def cube_cache(flow: FlowSpec, data: str | Path, budget: TrainProfile, seed: int,
               windows: dict[str, int | None], centre_only: bool = False,
               device: str | torch.device | None = None) -> tuple[Path, dict]:
    """Stage 2's input: the frozen flow net's draft cubes of each split in ``windows``
    (split -> evenly spaced window count, ``None`` for all), cached once per key.

    Returns (cache file for ``loops.load_cube_cache``, its metadata: the flow net's key,
    history and seconds, the caching seconds and the window counts)."""
    key = cube_key(flow, data, budget, seed, windows, centre_only)
    centre_only = key["centre_only"]
    path = _folder(data) / f"{_stem('cubes', key)}.pt"
    with FileLock(str(path.with_suffix(".lock"))):
        if path.is_file():
            return path, load_cube_cache(path)[1]
        model, pretrained = pretrained_flow_net(flow, data, budget, seed, device)
        start = time.perf_counter()
        splits = {split: cache_draft_cubes(
            model, evenly_spaced(FaceWindows(data, split, centre_only=centre_only), count),
            device=device, desc=f"{split} cubes ({flow.kind})")
            for split, count in windows.items()}
        meta = {"key": key, "ofr_history": pretrained["history"],
                "ofr_pretrain_s": pretrained["seconds"],
                "cache_s": time.perf_counter() - start,
                "windows": {split: len(v["cubes"]) for split, v in splits.items()}}
        save_cube_cache(path, splits, meta)
    return path, meta
