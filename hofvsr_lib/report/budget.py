"""The budget table: how the validation gaps between HO-FVSR and the SOF-VSR baselines move as
training goes on, read off the final runs' learning curves (``training.final`` records).

A gap at step ``s`` is HO-FVSR's validation PSNR minus the other network's after ``s`` SR
steps, per seed (the same seed on both sides), then averaged over the seeds. The ranking has
*settled* when every gap moves by less than :data:`SETTLED_DB` over the last doubling of the
steps (from half the budget to all of it). Only a schedule that is not compressed into the
budget (``TrainProfile.lr_milestones``) makes a curve's early points what a shorter run would
have reached; the table says which schedule its runs had.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .table3 import HO

SETTLED_DB = 0.05
AGAINST = ("tip", "accv")


def _curves(records: list[dict], variant: str) -> dict[int, dict[int, float]]:
    """seed -> {step: validation PSNR} of a variant's runs."""
    return {r["seed"]: {h["epoch"] * r["iters_per_epoch"]: h["psnr"] for h in r["history"]}
            for r in records if r["variant"] == variant}


def _doublings(steps: list[int]) -> list[int]:
    """The first step, its doublings that were evaluated, and the last step."""
    chosen, s = [], steps[0]
    while s <= steps[-1]:
        if s in steps:
            chosen.append(s)
        s *= 2
    return sorted({*chosen, steps[-1]})


def budget_table(records: list[dict], reference: str = HO,
                 against: tuple[str, ...] = AGAINST) -> pd.DataFrame:
    """One row per step (the first evaluation, its doublings, the last): for each network of
    ``against`` the mean over common seeds of ``reference`` minus it (dB), with the seeds'
    lowest and highest gaps. Empty when the reference has no runs."""
    ref = _curves(records, reference)
    columns = {}
    for other in against:
        theirs = _curves(records, other)
        seeds = sorted(set(ref) & set(theirs))
        if not seeds:
            continue
        steps = sorted(set.intersection(*(set(ref[s]) & set(theirs[s]) for s in seeds)))
        gaps = pd.DataFrame({s: {t: ref[s][t] - theirs[s][t] for t in steps} for s in seeds})
        name = next(r["display"] for r in records if r["variant"] == other)
        columns[name] = (gaps, len(seeds))
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


def settled(table: pd.DataFrame) -> dict[str, float]:
    """Per network, how far its gap moved over the last doubling (the last step against the
    step half of it); NaN where half the budget was not evaluated."""
    if table.empty:
        return {}
    last = table.iloc[-1]
    half = table[table["steps"] == last["steps"] // 2]
    return {col.removeprefix("minus ").removesuffix(" (dB)"):
            float(last[col] - half[col].iloc[0]) if len(half) else np.nan
            for col in table if col.endswith("(dB)")}


def budget_summary(records: list[dict]) -> str:
    """A sentence on whether the gaps settled, with the budget and the schedule it ran on."""
    table = budget_table(records)
    if table.empty:
        return "No final run of HO-FVSR to compare."
    moved = settled(table)
    run = next(r for r in records if r["variant"] == HO)
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
            "over the last doubling. "
            + "; ".join(parts) + ".")
