"""Bootstrap intervals over sequences (stratified by person) and seeds, paired differences."""

import numpy as np
import pandas as pd

from hofvsr_lib import stats


def scores(shift: float = 0.0, seeds=(0, 1, 2), noise: float = 1.0, seed: int = 0):
    """3 persons x 4 sequences x 10 windows, a per-sequence level, per-seed offsets."""
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(3):
        for q in range(4):
            level = 30 + 2 * p + rng.normal(0, noise)
            for w in range(10):
                rows.append({"person": f"p{p}", "sequence": f"p{p}/s{q}",
                             "window": 40 * p + 10 * q + w, "value": level + rng.normal(0, 0.1)})
    base = pd.DataFrame(rows)
    out = pd.concat([base.assign(seed=s, psnr=base["value"] + shift + 0.05 * s,
                                 bicubic_psnr=base["value"] - 1) for s in seeds])
    return out.drop(columns="value").reset_index(drop=True)


def test_interval_holds_the_mean_and_widens_with_sequence_noise():
    quiet, noisy = stats.bootstrap(scores(noise=0.1)), stats.bootstrap(scores(noise=2.0))
    for r in (quiet, noisy):
        assert r["ci"][0] <= r["mean"] <= r["ci"][1]
        assert (r["n_persons"], r["n_sequences"], r["n_windows"], r["n_seeds"]) == (3, 12,
                                                                                    120, 3)
    assert noisy["ci"][1] - noisy["ci"][0] > 3 * (quiet["ci"][1] - quiet["ci"][0])


def test_paired_difference_sees_a_small_shift_that_the_means_hide():
    a, b = scores(shift=0.1), scores()
    assert stats.bootstrap(a)["ci"][0] < stats.bootstrap(b)["mean"]  # intervals overlap ...
    diff = stats.paired(a, b)  # ... but window by window the shift is plain
    assert diff["verdict"] == "higher" and abs(diff["mean"] - 0.1) < 1e-9
    assert stats.paired(b, a)["verdict"] == "lower"
    same = stats.paired(scores(seed=1), scores(seed=2))  # unrelated noise: no decision
    assert same["ci"][0] < same["mean"] < same["ci"][1]


def test_bicubic_gain_and_a_single_run_against_seeds():
    a = scores()
    gain = stats.paired(a)
    assert abs(gain["mean"] - 1.05) < 1e-9 and gain["verdict"] == "higher"
    one = scores(seeds=(7,))
    assert stats.paired(a, one)["n_seeds"] == 3  # the single run is paired with every seed


def test_per_person_and_per_seed_means():
    s = scores(seeds=(0, 1))
    summary = stats.summary(s)
    assert set(summary["per_person"]) == {"p0", "p1", "p2"}
    assert abs(summary["per_seed"]["1"] - summary["per_seed"]["0"] - 0.05) < 1e-9
