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
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from .. import stats
from ..atomic import write_json
from ..profiles import Profile, get_profile
from ..provenance import run_provenance
from ..search.launcher import search_name
from ..search.records import columns, load_trials
from ..search.references import read_references
from ..spec import NetSpec
from ..training.final import PAPER_NETWORKS, final_records, read_scores
from ..vocabulary import STRATEGIES
from .table3 import HO, budget_label, format_interval, read_table3

# the hypervolume's bound (PSNR dB, latency ratio): below every trained candidate's validation
# PSNR at the committed scales (bicubic's is about 28 dB), and slower than the whole space's
# slowest network is expected to be (about 2x ACCV-2018's multiply-accumulates)
REFERENCE = (25.0, 4.0)
POINT = ["final_psnr", "latency_ratio"]  # a record's point
WHOLE_SEARCHES = [search_name(s, space="whole") for s in STRATEGIES]
SPEC = list(NetSpec().flat())  # a trial's network on the plane: its flat fields
PICKS = "picks.json"  # under <results>/search/: the networks trained as evidence
TARGET_COLUMNS = ["target", "network", "against", "difference (dB), new faces", "these persons",
                  "latency_ratio", "fps_36", "verdict", "at"]


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
    its flow kind (``none`` for a single-frame network), its frames/s at 36x36, whether it
    is on the front of all of them (``on_front``) and, for a trial, its network's flat fields
    (:data:`SPEC`; empty for a named network)."""
    trials = front_points(whole_trials(results))
    specs = [NetSpec.of(r) for _, r in trials.iterrows()]
    trials["flow_kind"] = [s.flow.kind for s in specs]
    trials[SPEC] = pd.DataFrame([s.flat() for s in specs], columns=SPEC, index=trials.index)
    trials["fps_36"] = [1e3 / json.loads(ms)["36"] for ms in trials["latency_ms"]]
    refs = read_references(results).assign(strategy="reference")
    trials["key"] = None
    cols = ["strategy", "key", "network", "flow_kind", *POINT, "fps_36", "params"]
    points = pd.concat([trials[cols + SPEC], refs[cols]], ignore_index=True)
    points[POINT] = points[POINT].astype(float)
    points["on_front"] = False
    points.loc[non_dominated(points[POINT].to_numpy().tolist()), "on_front"] = True
    return points.sort_values("latency_ratio").reset_index(drop=True)


def target_checks(points: pd.DataFrame, reference: str = HO) -> pd.DataFrame:
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


def picks(points: pd.DataFrame, checks: pd.DataFrame, count: int) -> list[dict]:
    """Up to ``count`` searched networks to train as evidence (issue 21): those the targets
    name (``checks``, :func:`target_checks`), then the other trials on the front, then the
    rest, each by validation PSNR, best first; each ``{"spec": flat fields, "network", "why",
    "final_psnr", "latency_ratio"}`` (a named network is trained already: never a pick)."""
    trials = points[points["strategy"] != "reference"].sort_values("final_psnr",
                                                                   ascending=False)
    named = [(row["network"], row["target"]) for _, row in checks.iterrows()
             if isinstance(row["network"], str)]
    front = [(n, "on the front") for n in trials.loc[trials["on_front"], "network"]]
    rest = [(n, "best of the trials off the front") for n in trials["network"]]
    chosen: dict[str, dict] = {}
    for network, why in [*named, *front, *rest]:
        rows = trials[trials["network"] == network]
        if network in chosen or rows.empty or len(chosen) == count:
            continue
        row = rows.iloc[0]
        chosen[network] = {"spec": NetSpec.of(row).flat(), "network": network, "why": why,
                           "final_psnr": float(row["final_psnr"]),
                           "latency_ratio": float(row["latency_ratio"])}
    return list(chosen.values())


def write_picks(results: str | Path, profile: str | Profile) -> list[dict]:
    """:func:`picks` of the plane of ``results`` (as many as ``profile.whole.picks``), written
    to ``<results>/search/picks.json`` with how they were chosen unless it holds them already;
    returns them."""
    profile = get_profile(profile) if isinstance(profile, str) else profile
    count = profile.whole.picks
    points = plane(results)
    chosen = picks(points, target_checks(points), count)
    path = Path(results) / "search" / PICKS
    if not path.is_file() or json.loads(path.read_text())["picks"] != chosen:
        write_json(path, {
            "picks": chosen, "count": count,
            "rule": "the networks issue 21's targets name on the validation plane, then the "
                    "other trials on the front, then the rest, each by validation PSNR; "
                    "named networks excluded",
            "provenance": run_provenance(profile)})
    return chosen


def read_picks(results: str | Path) -> list[dict]:
    """The picks' flat fields (``NetSpec.of``), in order; none before they are chosen."""
    path = Path(results) / "search" / PICKS
    return [p["spec"] for p in json.loads(path.read_text())["picks"]] if path.is_file() else []


def targets_on_test(results: str | Path, reference: str = HO) -> pd.DataFrame:
    """Issue 21's targets on the test persons, from the final runs (Table 3's scores, every
    seed) and the latencies of the plane: the best network at most half ``reference``'s
    latency against it; the best at 60 frames/s or more (36x36) against it; the best margin
    of a video network over the best single-frame network at no more latency. Each with the
    paired difference's two 95% intervals and its verdict (the new-faces interval's:
    ``met`` when it is above zero, ``not met`` below, ``undecided`` when it holds zero), and
    the budget; only networks trained at ``reference``'s budget and seeds take part."""
    points = plane(results)
    if points.empty or not (Path(results) / "table3.json").is_file():
        return pd.DataFrame(columns=TARGET_COLUMNS)
    _, info = read_table3(results)
    where = {}  # variant -> its point: latency ratio, fps at 36x36, flow kind
    for _, row in points.iterrows():
        variant = row["key"] if isinstance(row["key"], str) else NetSpec.of(row).slug
        where.setdefault(variant, row)
    budget = info["details"].get(reference, {}).get("budget")
    variants = [v for v, d in info["details"].items()
                if v in where and (v == "bicubic" or d["budget"] == budget)]
    if reference not in variants:
        return pd.DataFrame(columns=TARGET_COLUMNS)
    scores = {v: read_scores(results, v) for v in variants if v != "bicubic"}
    ref = where[reference]
    names = {v: where[v]["network"] for v in variants}

    def row(target: str, pairs: list[tuple[str, str]]) -> dict:
        """The pair (network, against) of largest mean difference, and its verdict."""
        diffs = {(a, b): stats.paired(scores[a], scores.get(b)) for a, b in pairs}
        if not diffs:
            return {"target": target, "network": None, "against": None,
                    "verdict": "no network of this kind trained as evidence"}
        (a, b), d = max(diffs.items(), key=lambda kv: kv[1]["new_faces"]["mean"])
        faces = d["new_faces"]
        return {"target": target, "network": names[a], "against": names[b],
                "difference (dB), new faces": format_interval(faces["mean"], *faces["ci"]),
                "these persons": format_interval(d["mean"], *d["ci"]),
                "latency_ratio": float(where[a]["latency_ratio"]),
                "fps_36": float(where[a]["fps_36"]),
                "verdict": {"higher": "met", "lower": "not met"}.get(d["verdict"], "undecided"),
                "at": budget_label(budget["steps"], budget["batch_size"],
                                   len(budget["seeds"]), len(info["test"]["persons"]),
                                   budget["protocol"])}

    trained = [v for v in scores if v != reference]
    half = [(v, reference) for v in trained
            if where[v]["latency_ratio"] <= ref["latency_ratio"] / 2]
    fast = [(v, reference) for v in trained if where[v]["fps_36"] >= 60]
    single = [v for v in variants if where[v]["flow_kind"] == "none"]
    over_single = []
    for v in (v for v in scores if where[v]["flow_kind"] != "none"):
        rivals = [s for s in single if where[s]["latency_ratio"] <= where[v]["latency_ratio"]]
        if rivals:  # the best single-frame network at no more latency (bicubic: its PSNR)
            best = max(rivals, key=lambda s: info["details"][s]["psnr"]["new_faces"]["mean"])
            over_single.append((v, best))
    return pd.DataFrame([
        row(f"above {ref['network']} at <= half its latency", half),
        row(f">= 60 frames/s at 36x36, PSNR >= {ref['network']}'s", fast),
        row("a video network over the best single-frame network at no more latency",
            over_single),
    ]).reindex(columns=TARGET_COLUMNS)


def pick_records(results: str | Path) -> list[dict]:
    """The final runs of the picks and, beside them, of the paper's networks and HO-FVSR's
    ablations (centre frame only, DIS flow: what the video input and a classical flow buy),
    every seed, no joint copy or fine-tuning, as :func:`final_records` reads them."""
    return [r for r in final_records(results) if r["protocol"] not in ("joint", "finetune") and (
        r.get("pick") or r["key"] in PAPER_NETWORKS)]


FINETUNE_COLUMNS = ["network", "seeds", "joint steps", "cached PSNR", "fine-tuned PSNR",
                    "fine-tuned minus cached (dB), new faces", "these persons", "verdict",
                    "warp/zero, cached", "warp/zero, fine-tuned"]


def finetuning(results: str | Path) -> pd.DataFrame:
    """What the joint fine-tuning (``WholeSearchProfile.finetune``) adds to each pick it was
    run for, on the test persons: test PSNR (mean over the seeds it was run for) after the
    cached run and after fine-tuning, fine-tuned minus cached window by window and seed by
    seed with both 95% intervals and the new-faces verdict, and the flow net's warp error as
    a fraction of zero motion's on the test persons before and after."""
    records = final_records(results)
    rows = []
    for variant in sorted({r["variant"] for r in records if r["protocol"] == "finetune"}):
        tuned = {r["seed"]: r for r in records if r["variant"] == variant}
        base = variant.removesuffix("_finetuned")
        cached = {r["seed"]: r for r in records if r["variant"] == base and r["seed"] in tuned}
        after, before = read_scores(results, variant), read_scores(results, base)
        before = before[before["seed"].isin(after["seed"].unique())]
        d = stats.paired(after, before)
        faces = d["new_faces"]
        first = next(iter(tuned.values()))
        rows.append({
            "network": next(iter(cached.values()))["display"] if cached else base,
            "seeds": len(tuned), "joint steps": first["epochs"] * first["iters_per_epoch"],
            "cached PSNR": float(before["psnr"].mean()),
            "fine-tuned PSNR": float(after["psnr"].mean()),
            "fine-tuned minus cached (dB), new faces": format_interval(faces["mean"],
                                                                       *faces["ci"]),
            "these persons": format_interval(d["mean"], *d["ci"]),
            "verdict": {"higher": "fine-tuning helps", "lower": "fine-tuning hurts"}.get(
                d["verdict"], "undecided"),
            "warp/zero, cached": _test_warp(cached.values()),
            "warp/zero, fine-tuned": _test_warp(tuned.values())})
    return pd.DataFrame(rows, columns=FINETUNE_COLUMNS)


def _test_warp(records: Iterable[dict]) -> float:
    """The mean over runs of their flow net's test warp error as a fraction of zero motion's."""
    ratios = [r["flow"]["test"]["overall"]["net/zero"] for r in records if "flow" in r]
    return sum(ratios) / len(ratios) if ratios else math.nan
