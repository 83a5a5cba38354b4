"""Speed of the Table 3 networks and of the enhance pipeline: ``hofvsr bench``.

Networks: HO-FVSR, TIP-2020 and ACCV-2018 (and the parameter-free ``bicubic`` model), batch 1,
Y frames at the paper's 36x36x1x3 unit and at a typical face crop (128x128), all in one
process on the same input. Every speed-up is applied to all three networks alike, each as a
named *variant*, checked against the model's own output before it is timed:

* ``eager``: ``model.eval()`` under ``torch.inference_mode`` (the warps' base grid cached);
* ``channels_last``: weights and activations in NHWC memory layout;
* ``jit``: TorchScript trace + ``torch.jit.freeze`` + ``optimize_for_inference``;
* ``batched_ofr``: the optical-flow net run once on both (neighbour, centre) pairs as a batch;
* ``onnxruntime``: exported to ONNX (opset 17, ``grid_sample`` is an ONNX op from 16) and run
  by ONNX Runtime with the same thread count (its threads do not spin between calls, so the
  interleaved timing stays fair to the others);
* ``cuda_graph`` (CUDA only): the eager forward captured once as a CUDA graph and replayed;
  batch-1 launch overhead is what decides a 36x36 input on a GPU;
* ``compile`` (``--long``): ``torch.compile`` (``mode="reduce-overhead"`` on CUDA); slow to
  build on a small CPU.

The headline ``fps`` of each network is its speed under the variant fastest for the three
together (geometric mean). Timing is interleaved (one call of each model and variant per
round) so a machine shared with other work slows all alike; medians are reported.

Also measured: the warp (``grid_sample``) alone in PyTorch and ONNX Runtime; the enhance
pipeline per stage on a real 640x360 face video; and how often face detection needs to run
(:func:`detection_cadence`). With its defaults the whole benchmark takes about 3 minutes on
two CPU cores; ``--long`` adds ``compile``, more rounds and more pipeline frames.
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import math
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from hofvsr_lib.atomic import write_json
from hofvsr_lib.complexity import TABLE3_MODELS, time_interleaved
from hofvsr_lib.data.faces import iou, square_of
from hofvsr_lib.devices import add_device_arguments, apply_device_arguments
from hofvsr_lib.facevideo.enhance import DEFAULT_CHECKPOINT, enhance_video, model_or_random
from hofvsr_lib.facevideo.pipeline import tracked_boxes
from hofvsr_lib.models import DISPLAY_NAMES, build_model
from hofvsr_lib.models.common import pad_to_multiple, phase_warps
from hofvsr_lib.profiles import SPEED_LONG, SpeedProfile, get_profile
from hofvsr_lib.provenance import portable_path, run_provenance
from hofvsr_lib.vocabulary import PIPELINE_STAGES

VARIANTS = ("eager", "channels_last", "jit", "batched_ofr", "onnxruntime")
CUDA_VARIANTS = ("cuda_graph",)
# variants left out on the CPU at inputs larger than 36x36 (time: they never lead there)
CPU_SMALL_ONLY = ("jit", "batched_ofr")
SIZES = (36, 128)  # the paper's Table 3 unit; a typical face crop
PIPELINE_VIDEO = "single_face"  # 640x360, a man, face ~200 px (crop ~300 px)
BICUBIC_FRAMES = 48  # the bicubic-only pipeline is cheap: enough frames to fill x264's queue
CADENCE = (1, 2, 3, 5)  # detect on every k-th frame
CADENCE_VIDEOS = ("single_face", "cap12")  # a still talking head; a webcam user who moves
Forward = Callable[[torch.Tensor], torch.Tensor]


def onnx_forward(model: nn.Module, x: torch.Tensor) -> Forward:
    """``model`` exported to ONNX (opset 17) and run by ONNX Runtime with torch's thread count
    (CUDA execution provider where the installed ONNX Runtime has one and ``x`` is on CUDA)."""
    import onnxruntime as ort

    buf = io.BytesIO()
    with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), buf, opset_version=17, dynamo=False,
                          input_names=["x"], output_names=["y"])
    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    cuda = x.is_cuda and "CUDAExecutionProvider" in ort.get_available_providers()
    if x.is_cuda and not cuda:
        raise RuntimeError("this ONNX Runtime has no CUDA execution provider")
    session = ort.InferenceSession(buf.getvalue(), options, providers=[
        "CUDAExecutionProvider" if cuda else "CPUExecutionProvider"])

    def forward(v: torch.Tensor) -> torch.Tensor:
        out = session.run(None, {"x": v.detach().cpu().numpy()})[0]
        return torch.from_numpy(out).to(v.device)

    return forward


def cuda_graph_forward(model: nn.Module, x: torch.Tensor) -> Forward:
    """``model``'s forward on inputs shaped like ``x`` captured as a CUDA graph."""
    static_in = x.clone()
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(3):  # warm up (cuDNN plans, allocator) outside the capture
            model(static_in)
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        static_out = model(static_in)

    def forward(v: torch.Tensor) -> torch.Tensor:
        static_in.copy_(v)
        graph.replay()
        return static_out

    return forward


def make_variant(model: nn.Module, variant: str, x: torch.Tensor) -> Forward:
    """The forward function of ``model`` under one optimisation ``variant`` (module doc)."""
    model = model.eval()
    if variant == "eager":
        return model
    if variant == "channels_last":
        return model.to(memory_format=torch.channels_last)
    if variant == "batched_ofr":
        model.batch_pairs = True  # a VideoSR flag: the flow net once for both frame pairs
        return model
    if variant == "onnxruntime":
        return onnx_forward(model, x)
    if variant == "cuda_graph":
        return cuda_graph_forward(model, x)
    if variant == "jit":  # deprecated in favour of torch.compile, still the fastest to build
        with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            traced = torch.jit.trace(model, x, check_trace=False)
            return torch.jit.optimize_for_inference(torch.jit.freeze(traced))
    if variant == "compile":
        mode = "reduce-overhead" if x.is_cuda else None
        return torch.compile(model, mode=mode)
    raise ValueError(f"unknown variant {variant!r}; choose from "
                     f"{VARIANTS + CUDA_VARIANTS + ('compile',)}")


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
                   warmup: int, profile: bool = False, size: int = 36) -> list[dict]:
    """One row per network (+ bicubic) on a ``size`` x ``size`` input: headline FPS under the
    common best variant, and every variant's FPS."""
    torch.manual_seed(0)
    x = torch.rand(1, 3, 1, size, size, device=device)
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
              "input": f"{size}x{size}x1x3", "repeats": repeats, "warmup": warmup}
    for name in (*TABLE3_MODELS, "bicubic"):
        variant = best if name != "bicubic" else "eager"
        t = sorted(times[f"{name}/{variant}"])
        row = {"model": DISPLAY_NAMES[name], "key": name,
               "fps": fps[f"{name}/{variant}"], "latency_ms": 1e3 * statistics.median(t),
               "latency_ms_p10": 1e3 * t[len(t) // 10],
               "latency_ms_p90": 1e3 * t[(9 * len(t)) // 10],
               "optimisation": variant, **common}
        if name != "bicubic":
            row["variants_fps"] = {v: fps[f"{name}/{v}"] for v in variants}
            row.update(split_times(models[name], x, repeats))
            if profile and device.type == "cpu":
                row["top_ops"] = profile_ops(models[name], x)
        rows.append(row)
    return rows


class _PhaseWarps(nn.Module):
    """The 16 sub-pixel warps of one neighbour frame, as the networks' draft cube does them."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        neighbour, hr_flow = x[:, :1, ::4, ::4], x[:, 1:]
        return torch.cat(phase_warps(neighbour.contiguous(), hr_flow, 4), 1)


def bench_warps(device: torch.device, repeats: int, size: int = 36) -> dict:
    """Milliseconds of the 16 ``grid_sample`` warps of one neighbour at ``size`` in PyTorch
    and in ONNX Runtime (the ONNX ``GridSample`` op)."""
    torch.manual_seed(0)
    x = torch.rand(1, 3, 4 * size, 4 * size, device=device)  # [image up, flow (2)] at HR
    model = _PhaseWarps().eval()
    fns = {"torch": model}
    try:
        fns["onnxruntime"] = onnx_forward(model, x)
    except RuntimeError:
        pass
    with torch.inference_mode():
        ref = model(x)
        for k, fn in fns.items():
            if (fn(x) - ref).abs().max().item() > 1e-4:
                raise RuntimeError(f"the {k} warp differs from PyTorch's")
    t = time_interleaved(fns, x, repeats, 3)
    return {"model": "warps (16 x grid_sample)", "input": f"{size}x{size}",
            "device": str(device), "threads": torch.get_num_threads(),
            **{f"{k}_ms": 1e3 * statistics.median(v) for k, v in t.items()}}


def bench_pipeline(device: torch.device, frames: int, checkpoint: Path | None,
                   video: str = PIPELINE_VIDEO, half: bool = False) -> list[dict]:
    """``enhance`` on the first ``frames`` frames of a real face video (by default 640x360),
    with the network and as plain bicubic (at least :data:`BICUBIC_FRAMES`): milliseconds
    per frame and stage (decode, detect and encode overlap the rest in their threads),
    frames/s of the whole, and the share of the wall time spent outside the network."""
    from hofvsr_lib.data.sources import fetch_video
    from hofvsr_lib.facevideo.io import probe

    src = fetch_video(video)
    info = probe(src)
    model, weights = model_or_random(checkpoint, device, "speed does not depend on them")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, net, n in (("pipeline HO-FVSR", model, frames),
                             ("pipeline bicubic", None, max(frames, BICUBIC_FRAMES))):
            t = enhance_video(src, Path(tmp) / "out.mp4", net, device, max_frames=n,
                              half=half and net is not None, progress=False).times.to_dict()
            per_frame = {f"{k}_ms": 1e3 * t[k] / t["frames"] for k in PIPELINE_STAGES}
            rows.append({"model": name, "fps": t["fps"],
                         "video": f"{video} {info.width}x{info.height}",
                         "frames": t["frames"], "faces": t["faces"],
                         "mean_face_crop": math.sqrt(t["face_pixels"] / t["faces"])
                         if t["faces"] else 0.0,
                         "weights": weights if net is not None else None,
                         "half": half and net is not None, **per_frame,
                         "wall_ms": 1e3 * t["wall"] / t["frames"],
                         "outside_network_share": 1.0 - t["network"] / t["wall"],
                         "device": str(device), "threads": torch.get_num_threads()})
    return rows


def detection_cadence(device: torch.device, frames: int = 60, video: str = PIPELINE_VIDEO,
                      cadence: tuple[int, ...] = CADENCE) -> list[dict]:
    """Face detection on every k-th frame (tracking in between) against every frame, on the
    first ``frames`` frames of a real video: detector ms per frame, the boxes' mean IoU with
    the per-frame boxes, and their jitter (mean frame-to-frame move of the box centre, in %
    of its side)."""
    from hofvsr_lib.data.sources import fetch_video
    from hofvsr_lib.facevideo.io import FrameDecoder

    clip = [f for f, _ in zip(FrameDecoder(fetch_video(video)), range(frames), strict=False)]
    boxes: dict[int, list[np.ndarray]] = {}
    rows = []
    for k in cadence:
        boxes_for = tracked_boxes(device, every=k)
        start = time.perf_counter()
        boxes[k] = [b[0] if len(b) else None for b in map(boxes_for, clip)]
        ms = 1e3 * (time.perf_counter() - start) / len(clip)
        pairs = [(a, b) for a, b in zip(boxes[k], boxes[cadence[0]], strict=True)
                 if a is not None and b is not None]
        centres = [square_of(b) for b in boxes[k] if b is not None]
        moves = [math.hypot(c[0] - p[0], c[1] - p[1]) / p[2]
                 for p, c in zip(centres, centres[1:], strict=False)]
        rows.append({"detect_every": k, "frames": len(clip), "detect_ms_per_frame": ms,
                     "frames_with_face": len(centres),
                     "iou_vs_every_frame": float(np.mean([iou(a, b)[0, 0] for a, b in pairs]))
                     if pairs else 0.0,
                     "jitter_percent": 100 * float(np.mean(moves)) if moves else 0.0,
                     "video": video, "device": str(device)})
    return rows


def measure_all(devices: list[str], speed: SpeedProfile, checkpoint: Path | None,
                variants: tuple[str, ...] = VARIANTS, warmup: int = 5,
                video: str = PIPELINE_VIDEO, profile_ops_too: bool = False,
                half: bool = False) -> list[dict]:
    """Every measurement of the module, on each device in turn, as long as ``speed`` says."""
    results: list[dict] = []
    if speed.compile and "compile" not in variants:
        variants = (*variants, "compile")
    for d in devices:
        device = torch.device(d)
        extra = CUDA_VARIANTS if device.type == "cuda" else ()
        usable = tuple(v for v in (*variants, *extra) if v != "onnxruntime" or _ort_on(device))
        for size in speed.sizes:  # a larger input costs more per call: fewer rounds
            if size <= 36:
                results += bench_networks(device, usable, speed.repeats, warmup,
                                          profile_ops_too, size)
                continue
            large = usable if device.type == "cuda" else tuple(
                v for v in usable if v not in CPU_SMALL_ONLY)
            results += bench_networks(device, large, max(5, speed.repeats // 6), 1,
                                      profile_ops_too, size)
        results.append(bench_warps(device, speed.repeats))
        if speed.pipeline_frames > 0:
            results += bench_pipeline(device, speed.pipeline_frames, checkpoint, video)
            if half and device.type == "cuda":
                results += bench_pipeline(device, speed.pipeline_frames, checkpoint, video,
                                          half=True)
            for clip in CADENCE_VIDEOS:
                results += detection_cadence(device, speed.cadence_frames, clip)
    return results


def measure_speed(results_dir: str | Path, profile: str) -> Path:
    """The reproduction's speed step: the profile's benchmark on this machine's devices (the
    CPU, and the GPU when there is one), written to ``<results_dir>/bench/bench.json``."""
    speed = get_profile(profile).speed
    devices = default_devices()
    checkpoint = Path(results_dir) / "checkpoints" / DEFAULT_CHECKPOINT.name
    rows = measure_all(devices, speed, checkpoint, half="cuda" in devices)
    return write_bench(Path(results_dir) / "bench" / "bench.json", rows, profile,
                       speed=asdict(speed), checkpoint=portable_path(checkpoint))


def _ort_on(device: torch.device) -> bool:
    """Whether ONNX Runtime can run on ``device`` here."""
    try:
        import onnxruntime as ort
    except ImportError:
        return False
    return device.type == "cpu" or "CUDAExecutionProvider" in ort.get_available_providers()


def write_bench(path: Path, results: list[dict], profile: str | None = None,
                **settings) -> Path:
    """Write ``{"provenance", "results"}`` atomically (provenance: ``hofvsr_lib.provenance``,
    whose machine record has the load average that tells how busy the machine was)."""
    return write_json(path, {"provenance": run_provenance(profile, settings=settings),
                             "results": results})


def default_devices() -> list[str]:
    return ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    default = SpeedProfile()
    parser.add_argument("--json", action="store_true", help="print the JSON list of results")
    add_device_arguments(parser, extra_choices=("all",))
    parser.add_argument("--long", action="store_true",
                        help=f"the longer pass: adds torch.compile, {SPEED_LONG.repeats} rounds, "
                             f"{SPEED_LONG.pipeline_frames} pipeline frames (default: about 3 "
                             "minutes on 2 CPU cores)")
    parser.add_argument("--repeats", type=int, default=None,
                        help=f"timed rounds at 36x36 (default {default.repeats})")
    parser.add_argument("--warmup", type=int, default=5, help="untimed rounds (default 5)")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS),
                        choices=(*VARIANTS, *CUDA_VARIANTS, "compile"),
                        help=f"optimisations to measure (default: {' '.join(VARIANTS)}; "
                             f"{' '.join(CUDA_VARIANTS)} is added on CUDA)")
    parser.add_argument("--sizes", nargs="+", type=int, default=None,
                        help=f"input sides for the networks (default: "
                             f"{' '.join(map(str, default.sizes))})")
    parser.add_argument("--pipeline-frames", type=int, default=None,
                        help=f"frames of the 640x360 video for the pipeline (default "
                             f"{default.pipeline_frames}; 0: skip the pipeline)")
    parser.add_argument("--half", action="store_true",
                        help="also time the pipeline with fp16 autocast (CUDA)")
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT,
                        help="weights for the pipeline (default: random when absent)")
    parser.add_argument("--profile", action="store_true",
                        help="add the top operators per network (torch.profiler)")
    parser.add_argument("--out", type=Path, default=None,
                        help="also write {provenance, results} JSON here "
                             "(e.g. results/bench/bench.json)")


def run(args: argparse.Namespace) -> int:
    if not apply_device_arguments(args, extra_choices=("all",)):
        return 2
    devices = [args.device] if args.device not in (None, "all") else default_devices()
    speed = SPEED_LONG if args.long else SpeedProfile()
    overrides = {"repeats": args.repeats, "pipeline_frames": args.pipeline_frames,
                 "sizes": tuple(args.sizes) if args.sizes else None}
    speed = replace(speed, **{k: v for k, v in overrides.items() if v is not None})
    variants = tuple(dict.fromkeys(args.variants))
    results = measure_all(devices, speed, args.checkpoint, variants, args.warmup,
                          profile_ops_too=args.profile, half=args.half)
    if args.out:
        write_bench(args.out, results, speed=asdict(speed), variants=variants,
                    warmup=args.warmup, checkpoint=portable_path(args.checkpoint))
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for r in results:
        if "detect_every" in r:
            print(f"detect every {r['detect_every']}: {r['detect_ms_per_frame']:.1f} ms/frame, "
                  f"IoU {r['iou_vs_every_frame']:.3f}, jitter {r['jitter_percent']:.2f}%")
        elif "optimisation" in r:
            print(f"{r['model']:<12} {r['input']:<11} {r['device']:<5} {r['fps']:8.1f} FPS"
                  f"  [{r['optimisation']}]")
        elif "torch_ms" in r:
            print(f"{r['model']:<26} {r['device']:<5} torch {r['torch_ms']:.2f} ms"
                  + (f", onnxruntime {r['onnxruntime_ms']:.2f} ms"
                     if "onnxruntime_ms" in r else ""))
        else:
            print(f"{r['model']:<18} {r['device']:<5} {r['fps']:8.2f} FPS, "
                  f"{100 * r['outside_network_share']:.0f}% outside the network")
    return 0
