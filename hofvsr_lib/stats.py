"""Uncertainty of the quality numbers: two 95% intervals, for two questions.

Scores are kept per window (``results/final/<variant>_scores.csv``: seed, person, sequence,
window, psnr, ssim, bicubic_psnr, bicubic_ssim).

*These persons* (:func:`bootstrap`): neighbouring windows of one sequence are nearly the same
picture, so the unit of resampling is the *sequence*, drawn with replacement within each person
(stratified: every bootstrap sample keeps every test person), and, when a network was trained
with several seeds, the seeds are drawn with replacement too. The interval holds the variation
of the sequences and of the training, *conditional on the test persons*: it says how well the
network does on these people's faces. The estimate is the mean over windows (and seeds), as
``hofvsr evaluate`` reports it.

*New faces* (:func:`new_faces`): the persons themselves are a sample of the faces a network
will meet. The estimate is the mean over persons of each person's mean (over its windows and
seeds); the interval is a t-interval whose squared standard error adds the persons' part
(the variance of the person means over the number of persons) and the seeds' part (the
variance of the seed means over the number of seeds: a seed moves every person at once, so
the person means do not see it), with Welch-Satterthwaite degrees of freedom. This counts the
person x seed interaction twice, which errs on the wide side. A t-interval rather than a
bootstrap over persons: with 3 persons a bootstrap draws at most 10 distinct sets of persons
and its interval can never leave the range of their means (for normally spread person means
it covers the true mean about 74% of the time, simulated); the t-interval's width at 2
degrees of freedom is the honest price of knowing 3 faces.

A paired difference (network A minus network B) is taken window by window on the same test
windows, seed ``k`` of A against seed ``k`` of B (a seedless baseline such as bicubic is
paired with every seed), and gets both intervals. Its verdict is "higher" or "lower" when the
new-faces interval excludes zero, else "undecided"; the verdict on these persons alone is kept
beside it (``verdict_these_persons``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

CONFIDENCE = 0.95
N_BOOT = 2000


def _sums(scores: pd.DataFrame, value: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(seed x sequence) sums of ``value``, window counts per sequence, each sequence's person."""
    seqs = scores.drop_duplicates("sequence")[["sequence", "person"]].sort_values("sequence")
    table = scores.pivot_table(index="seed", columns="sequence", values=value, aggfunc="sum")
    counts = scores.groupby(["seed", "sequence"]).size().unstack()
    if counts.nunique().max() > 1:
        raise ValueError("every seed must be scored on the same windows")
    table = table[seqs["sequence"]]
    return table.to_numpy(float), counts.iloc[0][seqs["sequence"]].to_numpy(float), \
        list(seqs["person"])


def bootstrap(scores: pd.DataFrame, value: str = "psnr", n_boot: int = N_BOOT,
              seed: int = 0) -> dict:
    """Mean of ``value`` over windows and seeds, with its bootstrap CI (see module docstring).

    ``scores`` needs columns seed, person, sequence and ``value``. Returns ``{"mean", "ci":
    [lo, hi], "n_windows", "n_sequences", "n_persons", "n_seeds"}``.
    """
    sums, counts, persons = _sums(scores, value)
    n_seeds, n_seq = sums.shape
    rng = np.random.default_rng(seed)
    seed_w = np.stack([np.bincount(rng.integers(0, n_seeds, n_seeds), minlength=n_seeds)
                       for _ in range(n_boot)]).astype(float)  # (B, seeds)
    seq_w = np.zeros((n_boot, n_seq))
    persons_arr = np.asarray(persons)
    for person in np.unique(persons_arr):
        cols = np.flatnonzero(persons_arr == person)
        seq_w[:, cols] = rng.multinomial(len(cols), np.full(len(cols), 1 / len(cols)), n_boot)
    stats = ((seed_w @ sums) * seq_w).sum(1) / (seed_w.sum(1) * (seq_w @ counts))
    alpha = (1 - CONFIDENCE) / 2
    lo, hi = np.quantile(stats, [alpha, 1 - alpha])
    return {"mean": float(sums.sum() / (n_seeds * counts.sum())), "ci": [float(lo), float(hi)],
            "n_windows": int(counts.sum()), "n_sequences": n_seq,
            "n_persons": len(set(persons)), "n_seeds": n_seeds}


def paired(a: pd.DataFrame, b: pd.DataFrame | None = None, value: str = "psnr",
           n_boot: int = N_BOOT, seed: int = 0) -> dict:
    """A minus B, window by window (see module docstring), with both intervals and the verdict;
    without ``b``, A minus bicubic (``a``'s ``bicubic_<value>`` column)."""
    keys = ["person", "sequence", "window"]
    if b is None:
        diff = a.assign(diff=a[value] - a[f"bicubic_{value}"])
    else:
        common = sorted(set(a["seed"]) & set(b["seed"]))
        if common:  # seed k against seed k
            a, b = a[a["seed"].isin(common)], b[b["seed"].isin(common)]
            merged = a.merge(b[["seed", *keys, value]], on=["seed", *keys], suffixes=("", "_b"))
        else:  # a single-run network against every seed
            merged = a.merge(b[[*keys, value]], on=keys, suffixes=("", "_b"))
        if len(merged) != len(a):
            raise ValueError("the two networks were not scored on the same test windows")
        diff = merged.assign(diff=merged[value] - merged[f"{value}_b"])
    result = bootstrap(diff, "diff", n_boot, seed)
    result["new_faces"] = new_faces(diff, "diff")
    return {**result, "verdict_these_persons": verdict(result["ci"]),
            "verdict": verdict(result["new_faces"]["ci"])}


def verdict(ci: list[float]) -> str:
    """"higher" / "lower" when the interval of a difference excludes zero, else "undecided"
    (also for a NaN interval)."""
    lo, hi = ci
    return "higher" if lo > 0 else "lower" if hi < 0 else "undecided"


def new_faces(scores: pd.DataFrame, value: str = "psnr") -> dict:
    """Mean over persons of ``value`` with a t-interval for new faces and new seeds (see the
    module docstring). Returns ``{"mean", "ci", "se", "df", "n_persons", "n_seeds"}``; the
    interval is NaN with fewer than 2 persons (nothing to generalise from)."""
    table = scores.groupby(["person", "seed"])[value].mean().unstack("seed").to_numpy(float)
    n_persons, n_seeds = table.shape
    mean, ci, se, df = float(table.mean()), [np.nan, np.nan], np.nan, np.nan
    if n_persons > 1:
        parts = [(table.mean(1).var(ddof=1) / n_persons, n_persons - 1)]
        if n_seeds > 1:
            parts.append((table.mean(0).var(ddof=1) / n_seeds, n_seeds - 1))
        var = sum(v for v, _ in parts)
        df = var ** 2 / sum(v ** 2 / d for v, d in parts) if var > 0 else np.inf
        se = float(np.sqrt(var))
        half = float(scipy_stats.t.ppf((1 + CONFIDENCE) / 2, df)) * se
        ci = [mean - half, mean + half]
    return {"mean": mean, "ci": ci, "se": se, "df": float(df), "n_persons": n_persons,
            "n_seeds": n_seeds}


def per_person(scores: pd.DataFrame, value: str = "psnr") -> dict[str, float]:
    """Mean of ``value`` per person (over that person's windows and seeds)."""
    return {str(p): float(v) for p, v in scores.groupby("person")[value].mean().items()}


def seed_spread(scores: pd.DataFrame, value: str = "psnr") -> dict[str, float]:
    """Mean of ``value`` per seed: how much the training's randomness moves the result."""
    return {str(int(s)): float(v) for s, v in scores.groupby("seed")[value].mean().items()}


def summary(scores: pd.DataFrame, value: str = "psnr") -> dict:
    """Mean and CI on these persons, mean and CI for new faces, per-person and per-seed means
    of one network's scores."""
    return {**bootstrap(scores, value), "new_faces": new_faces(scores, value),
            "per_person": per_person(scores, value), "per_seed": seed_spread(scores, value)}
