"""The budget table: how the validation gaps between HO-FVSR and the SOF-VSR baselines move as
training goes on, read off the final runs' learning curves (``training.final`` records).

A gap at step ``s`` is HO-FVSR's validation PSNR minus the other network's after ``s`` SR
steps, per seed (the same seed on both sides), then averaged over the seeds. The ranking has
*settled* when every gap moves by less than :data:`SETTLED_DB` over the last doubling of the
steps (from half the budget to all of it). One validation point wobbles by a tenth of a dB
from one evaluation to the next at a constant learning rate, so that test compares the gap
averaged over the last quarter of each budget (:data:`WINDOW`: the evaluations from 3/4 of the
budget to its end, against those from 3/8 to 1/2 of it). Only a schedule that is not
compressed into the budget (``TrainProfile.lr_milestones``) makes a curve's early points what a
shorter run would have reached; the table says which schedule its runs had. The runs trained on
to a profile's longer budget (``Profile.long_final``, variants ending in :data:`LONG`) have a
table of their own (``suffix=LONG``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .table3 import HO

SETTLED_DB = 0.05
WINDOW = 0.25  # the share of a budget, at its end, whose evaluations the settled test averages
AGAINST = ("tip", "accv")
LONG = "_long"  # the variants' suffix of the runs trained on to the longer budget


def _curves(records: list[dict], variant: str) -> dict[int, dict[int, float]]:
    """seed -> {step: validation PSNR} of a variant's runs."""
    return {r["seed"]: {h["epoch"] * r["iters_per_epoch"]: h["psnr"] for h in r["history"]}
            for r in records if r["variant"] == variant}


def _doublings(steps: list[int]) -> list[int]:
    """The first step, its doublings that were evaluated, half the last step and the last."""
    chosen, s = [], steps[0]
    while s <= steps[-1]:
        if s in steps:
            chosen.append(s)
        s *= 2
    half = [steps[-1] // 2] if steps[-1] // 2 in steps else []
    return sorted({*chosen, *half, steps[-1]})


def _gaps(records: list[dict], reference: str, against: tuple[str, ...],
          suffix: str = "") -> dict[str, tuple[pd.DataFrame, int]]:
    """Per network of ``against`` (its display name): ``reference`` minus it at every step both
    evaluated, one column per common seed, and the number of those seeds (``suffix`` added to
    every variant)."""
    ref = _curves(records, reference + suffix)
    columns = {}
    for other in (a + suffix for a in against):
        theirs = _curves(records, other)
        seeds = sorted(set(ref) & set(theirs))
        if not seeds:
            continue
        steps = sorted(set.intersection(*(set(ref[s]) & set(theirs[s]) for s in seeds)))
        gaps = pd.DataFrame({s: {t: ref[s][t] - theirs[s][t] for t in steps} for s in seeds})
        name = next(r["display"] for r in records if r["variant"] == other)
        columns[name] = (gaps, len(seeds))
    return columns


def budget_table(records: list[dict], reference: str = HO,
                 against: tuple[str, ...] = AGAINST, suffix: str = "") -> pd.DataFrame:
    """One row per step (the first evaluation, its doublings, half the last step, the last):
    for each network of ``against`` the mean over common seeds of ``reference`` minus it (dB),
    with the seeds' lowest and highest gaps; ``suffix`` is added to every variant (:data:`LONG`:
    the longer budget's runs). Empty when the reference has no runs."""
    columns = _gaps(records, reference, against, suffix)
    if not columns:
        return pd.DataFrame()
    steps = sorted(set.intersection(*(set(g.index) for g, _ in columns.values())))
    rows = []
    for step in _doublings(steps):
        row = {"steps": step}
        for other, (gaps, n) in columns.items():
            g = gaps.loc[step]
            row[f"minus {other} (dB)"] = float(g.mean())
            row[f"minus {other}, seeds' range"] = f"[{g.min():+.2f}, {g.max():+.2f}] ({n})"
        rows.append(row)
    return pd.DataFrame(rows)


def settled(records: list[dict], reference: str = HO,
            against: tuple[str, ...] = AGAINST, suffix: str = "") -> dict[str, float]:
    """Per network, how far its seed-mean gap moved over the last doubling: its mean over the
    evaluations in the last :data:`WINDOW` of the budget minus its mean over the same share
    of half the budget; NaN where half the budget has no evaluation in that share."""
    moved = {}
    for other, (gaps, _) in _gaps(records, reference, against, suffix).items():
        mean, total = gaps.mean(axis=1), gaps.index.max()
        late = mean[mean.index >= (1 - WINDOW) * total]
        early = mean[(mean.index >= (1 - WINDOW) * total / 2) & (mean.index <= total / 2)]
        moved[other] = float(late.mean() - early.mean()) if len(early) else np.nan
    return moved


def budget_summary(records: list[dict], suffix: str = "") -> str:
    """A sentence on whether the gaps settled, with the budget and the schedule it ran on
    (``suffix``: as in :func:`budget_table`)."""
    table = budget_table(records, suffix=suffix)
    if table.empty:
        return "No final run of HO-FVSR to compare."
    moved = settled(records, suffix=suffix)
    run = next(r for r in records if r["variant"] == HO + suffix)
    total = int(table["steps"].iloc[-1])
    parts = [f"{name}: {'settled' if abs(m) < SETTLED_DB else 'not settled'} "
             f"(moved {m:+.2f} dB from {total // 2:,} to {total:,} steps)"
             if not np.isnan(m) else f"{name}: half the budget was not evaluated"
             for name, m in moved.items()]
    drops = [m for m in run.get("lr_drops", []) if m <= total]
    how = ("learning-rate schedule not recorded" if "lr_drops" not in run else
           f"learning rate {run.get('lr', 1e-3):g} throughout" if not drops else
           f"learning rate divided by 10 after steps {', '.join(f'{m:,}' for m in drops)}")
    if run.get("lr_schedule") == "compressed":
        how += ("; a schedule compressed into the budget, so an early point is not what a "
                "shorter run would reach")
    return (f"Validation gaps of {run['display']} over {total:,} SR steps at batch "
            f"{run['batch_size']} ({how}); settled means moved less than {SETTLED_DB} dB "
            f"over the last doubling, each end the mean gap over the last {WINDOW:.0%} of its "
            "budget's evaluations. "
            + "; ".join(parts) + ".")
