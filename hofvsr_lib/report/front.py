"""The whole-network search's Pareto front (issue 21): validation PSNR against the latency
ratio to ACCV-2018, from the trial records, and the hypervolume of each strategy's front.

A point (PSNR, latency ratio) *dominates* another when its PSNR is no lower and its latency
ratio no higher, one of the two strictly; the front is the points no other dominates. The
hypervolume is measured in the objectives the SMAC search optimises
(:data:`~hofvsr_lib.search.space.OBJECTIVES`), PSNR (dB) and log2 of the latency ratio: the
area the front dominates, bounded by :data:`REFERENCE`, in dB x doublings of latency.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from ..spec import NetSpec

# the hypervolume's bound (PSNR dB, latency ratio): below every trained candidate's validation
# PSNR at the committed scales (bicubic's is about 28 dB), and slower than the whole space's
# slowest network is expected to be (about 2x ACCV-2018's multiply-accumulates)
REFERENCE = (25.0, 4.0)
POINT = ["final_psnr", "latency_ratio"]  # a record's point


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """Whether point ``a`` (PSNR, latency ratio) dominates point ``b``."""
    return a[0] >= b[0] and a[1] <= b[1] and (a[0] > b[0] or a[1] < b[1])


def non_dominated(points: Sequence[Sequence[float]]) -> list[int]:
    """Indices of the points (PSNR, latency ratio) that no other point dominates, in order
    (equal points are all kept)."""
    return [i for i, p in enumerate(points) if not any(dominates(q, p) for q in points)]


def hypervolume(points: Sequence[Sequence[float]],
                reference: Sequence[float] = REFERENCE) -> float:
    """The area (dB x log2 of the latency ratio) that the points (PSNR, latency ratio)
    dominate, bounded by ``reference``; a point not better than it in both counts nothing."""
    ref_psnr, ref_log = reference[0], math.log2(reference[1])
    inside = sorted((math.log2(r), p) for p, r in points
                    if p > ref_psnr and math.log2(r) < ref_log)
    rights = [log_r for log_r, _ in inside[1:]] + [ref_log] if inside else []  # strip edges
    area, best = 0.0, ref_psnr
    for (log_r, psnr), right in zip(inside, rights, strict=True):
        best = max(best, psnr)  # from this latency on, the best PSNR reached so far
        area += (right - log_r) * (best - ref_psnr)
    return area


def front_points(trials: pd.DataFrame) -> pd.DataFrame:
    """The trials that ran to the end with their point (``POINT``) and network, by latency."""
    ok = trials[trials["status"] == "SUCCEEDED"].dropna(subset=POINT).copy()
    ok[POINT] = ok[POINT].astype(float)
    ok["network"] = [NetSpec.of(r).whole_label for _, r in ok.iterrows()]
    return ok.sort_values("latency_ratio").reset_index(drop=True)


def pareto_front(trials: pd.DataFrame) -> pd.DataFrame:
    """The trials (records rows) on the front of all of them, by latency."""
    points = front_points(trials)
    return points.iloc[non_dominated(points[POINT].to_numpy().tolist())].reset_index(drop=True)


def hypervolumes(trials: pd.DataFrame, reference: Sequence[float] = REFERENCE) -> pd.DataFrame:
    """Per strategy, and for all strategies pooled (``all``): the trials on the front, their
    number, the front's size and its hypervolume against ``reference``."""
    points = front_points(trials)
    groups = [*points.groupby("strategy", sort=True), ("all", points)]
    rows = []
    for strategy, group in groups:
        xy = group[POINT].to_numpy().tolist()
        rows.append({"strategy": strategy, "trials": len(group),
                     "front": len(non_dominated(xy)), "hypervolume": hypervolume(xy, reference),
                     "reference": list(reference)})
    return pd.DataFrame(rows)
