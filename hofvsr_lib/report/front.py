"""The whole-network search's Pareto front (issue 21): validation PSNR against the latency
ratio to ACCV-2018, from the trial records, and the hypervolume of each strategy's front.

A point (PSNR, latency ratio) *dominates* another when its PSNR is no lower and its latency
ratio no higher, one of the two strictly; the front is the points no other dominates. The
hypervolume is measured in the objectives the SMAC search optimises
(:data:`~hofvsr_lib.search.space.OBJECTIVES`), PSNR (dB) and log2 of the latency ratio: the
area the front dominates, bounded by :data:`REFERENCE`, in dB x doublings of latency.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ..search.launcher import search_name
from ..search.records import columns, load_trials
from ..search.references import read_references
from ..spec import NetSpec
from ..vocabulary import STRATEGIES

# the hypervolume's bound (PSNR dB, latency ratio): below every trained candidate's validation
# PSNR at the committed scales (bicubic's is about 28 dB), and slower than the whole space's
# slowest network is expected to be (about 2x ACCV-2018's multiply-accumulates)
REFERENCE = (25.0, 4.0)
POINT = ["final_psnr", "latency_ratio"]  # a record's point
WHOLE_SEARCHES = [search_name(s, space="whole") for s in STRATEGIES]


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


def whole_trials(results: str | Path) -> pd.DataFrame:
    """The whole-network searches' trial records (every strategy's ``<strategy>-whole``)."""
    df = load_trials(Path(results) / "search")
    whole = df[df["search"].isin(WHOLE_SEARCHES)]
    return whole.reindex(columns=columns("whole")).reset_index(drop=True)


def plane(results: str | Path) -> pd.DataFrame:
    """Every point of the front's plane: the whole searches' trials that ran to the end and
    the named networks (``strategy`` ``reference``, :mod:`..search.references`), each with
    its flow kind (``none`` for a single-frame network), its frames/s at 36x36 and whether it
    is on the front of all of them (``on_front``)."""
    trials = front_points(whole_trials(results))
    trials["flow_kind"] = [NetSpec.of(r).flow.kind for _, r in trials.iterrows()]
    trials["fps_36"] = [1e3 / json.loads(ms)["36"] for ms in trials["latency_ms"]]
    refs = read_references(results).assign(strategy="reference")
    trials["key"] = None
    cols = ["strategy", "key", "network", "flow_kind", *POINT, "fps_36", "params"]
    points = pd.concat([trials[cols], refs[cols]], ignore_index=True)
    points[POINT] = points[POINT].astype(float)
    points["on_front"] = False
    points.loc[non_dominated(points[POINT].to_numpy().tolist()), "on_front"] = True
    return points.sort_values("latency_ratio").reset_index(drop=True)


def target_checks(points: pd.DataFrame, reference: str = "hofvsr_64_5_64") -> pd.DataFrame:
    """Issue 21's targets read on the plane (validation PSNR of one training at the trial
    budget: which networks to train as evidence, not a verdict), against the named network
    ``reference``: the best network at most half its latency with a higher PSNR; the best at
    60 frames/s or more (36x36) with no lower PSNR; and the best margin of a video network
    over every single-frame network at no more latency."""
    if points.empty or reference not in set(points["key"].dropna()):
        return pd.DataFrame(columns=["target", "network", "psnr_gain_db", "latency_ratio"])
    ref = points[points["key"] == reference].iloc[0]
    video = points[points["flow_kind"] != "none"]
    single = points[points["flow_kind"] == "none"]

    def best(rows: pd.DataFrame, target: str, gain: pd.Series | None = None) -> dict:
        if rows.empty:
            return {"target": target, "network": None, "psnr_gain_db": None,
                    "latency_ratio": None}
        gain = rows["final_psnr"] - ref["final_psnr"] if gain is None else gain
        top = gain.idxmax()
        return {"target": target, "network": rows.loc[top, "network"],
                "psnr_gain_db": float(gain[top]),
                "latency_ratio": float(rows.loc[top, "latency_ratio"])}

    half = points[(points["latency_ratio"] <= ref["latency_ratio"] / 2)
                  & (points["final_psnr"] > ref["final_psnr"])]
    fast = points[(points["fps_36"] >= 60) & (points["final_psnr"] >= ref["final_psnr"])]
    over_single = pd.Series({i: row["final_psnr"] - single.loc[
        single["latency_ratio"] <= row["latency_ratio"], "final_psnr"].max()
        for i, row in video.iterrows()}, dtype=float).dropna()
    return pd.DataFrame([
        best(half, f"above {ref['network']} at <= half its latency"),
        best(fast, f">= 60 frames/s at 36x36, PSNR >= {ref['network']}'s"),
        best(video.loc[over_single.index], "video over every single-frame network at no more "
             "latency (gain over the best of them)", over_single),
    ])
