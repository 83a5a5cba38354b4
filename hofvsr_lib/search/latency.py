"""Latency as a measured objective of the whole-network search (issue 21).

Each candidate is timed before it is trained: batch 1, Y frames at each of the profile's LR
sizes (``LatencyProfile``: 36x36, the paper's unit, and 128x128, a face crop), eval mode, a
fixed thread count for torch and OpenCV on the CPU (CUDA where the trials run on it; the DIS
flow runs in OpenCV inside the same forward), untimed warm-up rounds, then the median and p90
of the timed ones. ACCV-2018 is timed interleaved with it in the same process
(:func:`~hofvsr_lib.complexity.time_interleaved`), so that a machine busy with other work slows
both alike: the candidate's *latency ratio* is the geometric mean over the sizes of its median
over ACCV-2018's, the objective (:data:`~.space.OBJECTIVES`).

Timings are stored per spec, device and settings in a JSON file of the search's
(``<search>/latency.json``, rewritten atomically under a file lock), each with the machine and
its load average when it was timed: a network proposed again is not timed again.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import cv2
import torch
from filelock import FileLock

from ..atomic import write_json
from ..complexity import time_interleaved
from ..models import DISPLAY_NAMES, build_model
from ..profiles import LatencyProfile
from ..provenance import machine_info
from ..spec import NetSpec

REFERENCE = "accv"  # the network every latency is a ratio to: ACCV-2018 SOF-VSR


@contextmanager
def _threads(count: int) -> Iterator[None]:
    """torch and OpenCV on ``count`` threads inside the block."""
    before = torch.get_num_threads(), cv2.getNumThreads()
    torch.set_num_threads(count)
    cv2.setNumThreads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before[0])
        cv2.setNumThreads(before[1])


def _model(target: NetSpec | str):
    """The network timed: a spec's HO-FVSR, or a named model (``accv``, ``edsr``, ...)."""
    if isinstance(target, NetSpec):
        return build_model("hofvsr", **target.config())
    return build_model(target)


def time_network(target: NetSpec | str, settings: LatencyProfile,
                 device: str | torch.device = "cpu") -> dict:
    """Per size: the median and p90 ms of the network (a spec's, or a named model) and of
    ACCV-2018 timed interleaved, and their ratio; ``latency_ratio`` the ratios' geometric mean;
    ``machine`` the machine as the timing found it (its load average, the threads it ran on)."""
    device = torch.device(device)
    fns = {"net": _model(target).to(device).eval(),
           REFERENCE: build_model(REFERENCE).to(device).eval()}
    sizes = {}
    with _threads(settings.threads):
        machine = machine_info()
        for size in settings.sizes:
            x = torch.rand(1, 3, 1, size, size, device=device)
            times = time_interleaved(fns, x, settings.repeats, settings.warmup)
            ms = {k: (1e3 * statistics.median(t),
                      1e3 * statistics.quantiles(t, n=10, method="inclusive")[-1])
                  for k, t in times.items()}
            sizes[str(size)] = {"median_ms": ms["net"][0], "p90_ms": ms["net"][1],
                                "accv_median_ms": ms[REFERENCE][0],
                                "accv_p90_ms": ms[REFERENCE][1],
                                "ratio": ms["net"][0] / ms[REFERENCE][0]}
    ratio = math.exp(statistics.mean(math.log(s["ratio"]) for s in sizes.values()))
    return {"latency_ratio": ratio, "sizes": sizes, "machine": machine}


def _identity(target: NetSpec | str) -> dict:
    """How a stored timing names its network: the spec's fields, or the model's name."""
    if isinstance(target, NetSpec):
        return {"spec": target.flat(), "network": target.whole_label}
    return {"model": target, "network": DISPLAY_NAMES[target]}


def _same_network(entry: dict, target: NetSpec | str) -> bool:
    if isinstance(target, NetSpec):
        return "spec" in entry and NetSpec.of(entry["spec"]) == target
    return entry.get("model") == target


def measured_latency(target: NetSpec | str, store: str | Path, settings: LatencyProfile,
                     device: str | torch.device = "cpu") -> dict:
    """The timing on ``device`` with ``settings`` of a spec's network or a named model: from
    the store, else measured now (:func:`time_network`) and added to it with the machine and
    the time."""
    store, device = Path(store), str(device)
    wanted = json.loads(json.dumps(asdict(settings)))  # as the store holds it
    store.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(store.with_suffix(".lock"))):
        entries = json.loads(store.read_text())["entries"] if store.is_file() else []
        for entry in entries:
            if (_same_network(entry, target) and entry["device"] == device
                    and entry["settings"] == wanted):
                return entry
        start = time.perf_counter()
        entry = {**_identity(target), "device": device, "settings": wanted,
                 **time_network(target, settings, device),
                 "timing_s": time.perf_counter() - start,
                 "measured": datetime.now(UTC).isoformat(timespec="seconds")}
        write_json(store, {"reference": REFERENCE, "entries": [*entries, entry]})
    return entry


def latency_fields(entry: dict) -> dict:
    """A trial result's latency fields (the records' timed columns) from a stored timing."""
    sizes = entry["sizes"]
    return {"latency_ratio": entry["latency_ratio"],
            "latency_ms": {s: v["median_ms"] for s, v in sizes.items()},
            "latency_p90_ms": {s: v["p90_ms"] for s, v in sizes.items()},
            "accv_ms": {s: v["accv_median_ms"] for s, v in sizes.items()},
            "latency_load": entry["machine"]["load_average"]}
