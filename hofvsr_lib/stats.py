"""Uncertainty of the quality numbers: bootstrap confidence intervals over the test data.

Scores are kept per window (``results/final/<variant>_scores.csv``: seed, person, sequence,
window, psnr, ssim, bicubic_psnr, bicubic_ssim). Neighbouring windows of one sequence are
nearly the same picture, so the unit of resampling is the *sequence*, drawn with replacement
within each person (stratified: every bootstrap sample keeps every test person), and, when a
network was trained with several seeds, the seeds are drawn with replacement too, so the
interval holds both the data's and the training's variation. The estimate itself is the mean
over windows (and seeds), as ``hofvsr evaluate`` reports it.

A paired difference (network A minus network B) is taken window by window on the same test
windows, seed ``k`` of A against seed ``k`` of B (a seedless baseline such as bicubic is
paired with every seed), then bootstrapped the same way. Its verdict is "higher" or "lower"
when the 95% interval excludes zero, else "undecided".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

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
    """A minus B, window by window (see module docstring), with its bootstrap CI and verdict;
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
    lo, hi = result["ci"]
    result["verdict"] = "higher" if lo > 0 else "lower" if hi < 0 else "undecided"
    return result


def per_person(scores: pd.DataFrame, value: str = "psnr") -> dict[str, float]:
    """Mean of ``value`` per person (over that person's windows and seeds)."""
    return {str(p): float(v) for p, v in scores.groupby("person")[value].mean().items()}


def seed_spread(scores: pd.DataFrame, value: str = "psnr") -> dict[str, float]:
    """Mean of ``value`` per seed: how much the training's randomness moves the result."""
    return {str(int(s)): float(v) for s, v in scores.groupby("seed")[value].mean().items()}


def summary(scores: pd.DataFrame, value: str = "psnr") -> dict:
    """Mean, CI, per-person and per-seed means of one network's scores."""
    return {**bootstrap(scores, value), "per_person": per_person(scores, value),
            "per_seed": seed_spread(scores, value)}
