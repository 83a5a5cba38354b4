"""Speed of the Table 3 networks and of the enhance pipeline: ``hofvsr bench``.

All in one process, on the same input, batch 1, Y frames 36x36x1x3 (the paper's Table 3 unit):
HO-FVSR, TIP-2020 and ACCV-2018 (and the parameter-free ``bicubic`` model: x4 of the centre
frame). Every speed-up is applied to all three networks alike, each as a named *variant*, and
the JSON records which one every number comes from:

* ``eager``: ``model.eval()`` under ``torch.inference_mode`` (always on), the chosen thread
  count, and the base sampling grid of the warps cached (done in the models themselves);
* ``channels_last``: weights and activations in NHWC memory layout;
* ``jit``: TorchScript trace + ``torch.jit.freeze`` + ``optimize_for_inference`` (conv/bias/
  activation folding, oneDNN layouts on CPU);
* ``batched_ofr``: the optical-flow net run once on a batch of the two (neighbour, centre)
  pairs instead of twice (checked equal to the model's own forward before timing);
* ``compile`` (only on request, slow to build on a small CPU): ``torch.compile``.

The headline ``fps`` of each network is its speed under the variant that is fastest for the
three together (geometric mean): the same optimisation for all. Timing is interleaved (one
call of each model and variant per round, rounds repeated) so a machine shared with other work
slows all of them alike; the median is reported. The pipeline part runs ``hofvsr enhance`` on
a real 640x360 face video and reports the seconds per stage.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import statistics
import sys
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from hofvsr_lib.complexity import TABLE3_MODELS, time_interleaved
from hofvsr_lib.enhance import DEFAULT_CHECKPOINT, apply_torch_args, enhance_video
from hofvsr_lib.models import DISPLAY_NAMES, build_model, load_checkpoint
from hofvsr_lib.models.common import pad_to_multiple
from hofvsr_lib.provenance import run_provenance, write_json

VARIANTS = ("eager", "channels_last", "jit", "batched_ofr")
PIPELINE_VIDEO = "single_face"  # 640x360, a man, face ~200 px
Forward = Callable[[torch.Tensor], torch.Tensor]


class _PairBatchedOFR(nn.Module):
    """Stands in for a model's OFR net: :meth:`prime` runs the real one once on both
    (neighbour, centre) pairs stacked as a batch; the model's two calls then get their half."""

    def __init__(self, ofr: nn.Module):
        super().__init__()
        self.ofr = ofr
        self.pending: list[tuple[torch.Tensor, ...]] = []

    def prime(self, x: torch.Tensor) -> None:
        x, _, _ = pad_to_multiple(x, 2)  # as the models pad their input
        b, centre = x.shape[0], x[:, 1]
        flows = self.ofr(torch.cat((x[:, 0], x[:, 2])), torch.cat((centre, centre)))
        self.pending = [tuple(f[:b] for f in flows), tuple(f[b:] for f in flows)]

    def forward(self, neighbour: torch.Tensor, centre: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return self.pending.pop(0)


def batched_ofr_forward(model: nn.Module) -> Forward:
    """``model``'s forward with its OFR net run once on a batch of both frame pairs instead of
    once per pair (``model`` is modified: use a copy)."""
    model.ofr = _PairBatchedOFR(model.ofr)

    def forward(x: torch.Tensor) -> torch.Tensor:
        model.ofr.prime(x)
        return model(x)

    return forward


def make_variant(model: nn.Module, variant: str, x: torch.Tensor) -> Forward:
    """The forward function of ``model`` under one optimisation ``variant`` (module doc)."""
    model = model.eval()
    if variant == "eager":
        return model
    if variant == "channels_last":
        model = model.to(memory_format=torch.channels_last)
        return model
    if variant == "batched_ofr":
        return batched_ofr_forward(model)
    if variant == "jit":  # deprecated in favour of torch.compile, still the fastest to build
        with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            traced = torch.jit.trace(model, x, check_trace=False)
            return torch.jit.optimize_for_inference(torch.jit.freeze(traced))
    if variant == "compile":
        return torch.compile(model)
    raise ValueError(f"unknown variant {variant!r}; choose from {VARIANTS + ('compile',)}")


def split_times(model: nn.Module, x: torch.Tensor, repeats: int) -> dict[str, float]:
    """Median ms of the model's draft cube (OFR net + warps) and of its SR net (eager)."""
    with torch.inference_mode():
        xp, _, _ = pad_to_multiple(x, 2)
        cube, _ = model.draft_cube(xp)
        t = time_interleaved({"draft_cube": lambda v: model.draft_cube(v),
                              "sr": lambda _: model.sr(cube)}, xp, repeats, 2)
    return {f"{k}_ms": 1e3 * statistics.median(v) for k, v in t.items()}


def profile_ops(model: nn.Module, x: torch.Tensor, top: int = 8) -> list[dict]:
    """The ``top`` operators by self CPU time in one eager forward (torch.profiler)."""
    from torch.profiler import ProfilerActivity, profile

    with torch.inference_mode():
        model(x)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(3):
                model(x)
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in events) or 1.0
    return [{"op": e.key, "calls": e.count // 3, "self_ms": e.self_cpu_time_total / 3e3,
             "share": e.self_cpu_time_total / total} for e in events[:top]]


def bench_networks(device: torch.device, variants: tuple[str, ...], repeats: int,
                   warmup: int, profile: bool) -> list[dict]:
    """One row per network (+ bicubic): headline FPS under the common best variant."""
    torch.manual_seed(0)
    x = torch.rand(1, 3, 1, 36, 36, device=device)
    models = {name: build_model(name).to(device).eval() for name in TABLE3_MODELS}
    fns: dict[str, Forward] = {}
    with torch.inference_mode():
        for name, model in models.items():
            ref = model(x)
            for v in variants:
                fn = make_variant(copy.deepcopy(model), v, x)
                err = (fn(x) - ref).abs().max().item()
                if err > 1e-3:
                    raise RuntimeError(f"variant {v} of {name} changes the output ({err:.2e})")
                fns[f"{name}/{v}"] = fn
        fns["bicubic/eager"] = build_model("bicubic").to(device).eval()
    times = time_interleaved(fns, x, repeats, warmup)
    fps = {k: 1.0 / statistics.median(v) for k, v in times.items()}

    def geo(v: str) -> float:
        return math.exp(statistics.mean(math.log(fps[f"{n}/{v}"]) for n in TABLE3_MODELS))

    best = max(variants, key=geo)
    rows = []
    common = {"device": str(device), "threads": torch.get_num_threads(), "batch": 1,
              "input": "36x36x1x3", "repeats": repeats, "warmup": warmup}
    for name in (*TABLE3_MODELS, "bicubic"):
        variant = best if name != "bicubic" else "eager"
        t = times[f"{name}/{variant}"]
        row = {"model": DISPLAY_NAMES[name], "key": name,
               "fps": fps[f"{name}/{variant}"], "latency_ms": 1e3 * statistics.median(t),
               "latency_ms_p10": 1e3 * sorted(t)[len(t) // 10],
               "latency_ms_p90": 1e3 * sorted(t)[(9 * len(t)) // 10],
               "optimisation": variant, **common}
        if name != "bicubic":
            row["variants_fps"] = {v: fps[f"{name}/{v}"] for v in variants}
            row.update(split_times(models[name], x, repeats))
            if profile and device.type == "cpu":
                row["top_ops"] = profile_ops(models[name], x)
        rows.append(row)
    return rows


def bench_pipeline(device: torch.device, frames: int, checkpoint: Path | None,
                   video: str = PIPELINE_VIDEO) -> list[dict]:
    """``enhance`` on the first ``frames`` frames of a real face video (by default 640x360),
    with the network and as plain bicubic; milliseconds per frame and stage."""
    from hofvsr_lib.data.sources import fetch_video
    from hofvsr_lib.data.video import VideoReader

    src = fetch_video(video)
    info = VideoReader(src).info
    if checkpoint is not None and checkpoint.is_file():
        model, _ = load_checkpoint(checkpoint, map_location=device)
        weights = str(checkpoint)
    else:
        model, weights = build_model("hofvsr"), "random (speed does not depend on weights)"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, net in (("pipeline HO-FVSR", model), ("pipeline bicubic", None)):
            t = enhance_video(src, Path(tmp) / "out.mp4", net, device, max_frames=frames,
                              progress=False).to_dict()
            per_frame = {f"{k}_ms": 1e3 * t[k] / t["frames"]
                         for k in ("decode", "detect", "network", "splice", "encode")}
            rows.append({"model": name, "fps": t["fps"],
                         "video": f"{video} {info.width}x{info.height}",
                         "frames": t["frames"], "faces": t["faces"],
                         "mean_face_crop": math.sqrt(t["face_pixels"] / t["faces"])
                         if t["faces"] else 0.0,
                         "weights": weights if net is not None else None, **per_frame,
                         "device": str(device), "threads": torch.get_num_threads()})
    return rows


def measure_all(devices: list[str], variants: tuple[str, ...], repeats: int, warmup: int,
                pipeline_frames: int, checkpoint: Path | None, video: str = PIPELINE_VIDEO,
                profile_ops_too: bool = False) -> list[dict]:
    """Networks (every variant) and, when ``pipeline_frames`` > 0, the enhance pipeline, on
    each device in turn."""
    results: list[dict] = []
    for d in devices:
        device = torch.device(d)
        results += bench_networks(device, variants, repeats, warmup, profile_ops_too)
        if pipeline_frames > 0:
            results += bench_pipeline(device, pipeline_frames, checkpoint, video)
    return results


def write_bench(path: Path, results: list[dict], profile: str | None = None,
                **settings) -> Path:
    """Write ``{"provenance", "results"}`` atomically (provenance: ``hofvsr_lib.provenance``
    plus the load average, which tells how busy the machine was)."""
    prov = run_provenance(profile, load_average=os.getloadavg(),
                          command=" ".join(sys.argv), settings=settings)
    return write_json(path, {"provenance": prov, "results": results})


def default_devices() -> list[str]:
    return ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the JSON list of results")
    parser.add_argument("--device", choices=("cpu", "cuda", "all"), default="all",
                        help="where to measure (default: cpu, and cuda too when present)")
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads for PyTorch (default: PyTorch's choice)")
    parser.add_argument("--repeats", type=int, default=50, help="timed rounds (default 50)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed rounds (default 5)")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS),
                        choices=(*VARIANTS, "compile"),
                        help=f"optimisations to measure (default: {' '.join(VARIANTS)}; "
                             "'compile' adds torch.compile)")
    parser.add_argument("--pipeline-frames", type=int, default=48,
                        help="frames of the 640x360 video for the pipeline (0: skip)")
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT,
                        help="weights for the pipeline (default: random when absent)")
    parser.add_argument("--profile", action="store_true",
                        help="add the top operators per network (torch.profiler)")
    parser.add_argument("--out", type=Path, default=None,
                        help="also write {provenance, results} JSON here "
                             "(e.g. results/bench/bench.json)")


def run(args: argparse.Namespace) -> int:
    if not apply_torch_args(args):
        return 2
    devices = default_devices() if args.device == "all" else [args.device]
    variants = tuple(dict.fromkeys(args.variants))
    results = measure_all(devices, variants, args.repeats, args.warmup, args.pipeline_frames,
                          args.checkpoint, profile_ops_too=args.profile)
    if args.out:
        write_bench(args.out, results, variants=variants, repeats=args.repeats,
                    warmup=args.warmup, pipeline_frames=args.pipeline_frames,
                    checkpoint=str(args.checkpoint))
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for r in results:
        extra = f"  [{r['optimisation']}]" if "optimisation" in r else ""
        print(f"{r['model']:<18} {r['device']:<5} {r['fps']:8.1f} FPS{extra}")
    return 0
