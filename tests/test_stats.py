"""Bootstrap intervals over sequences (stratified by person) and seeds, new-faces t-intervals
over persons and seeds, paired differences and their verdicts."""

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


def test_new_faces_is_a_t_interval_over_person_means_with_the_seed_part_added():
    s = scores(seeds=(0,))
    person_means = s.groupby("person")["psnr"].mean().to_numpy()
    half = 4.302652729911275 * person_means.std(ddof=1) / np.sqrt(3)  # t(0.975, 2 df)
    r = stats.new_faces(s)
    assert r["mean"] == np.mean(person_means) and r["df"] == 2
    assert np.allclose(r["ci"], [r["mean"] - half, r["mean"] + half])
    # three seeds shifted by 0, 0.05, 0.1: the seed means' variance / 3 joins the persons'
    three = stats.new_faces(scores())
    seed_var, person_var = 0.05 ** 2 / 3, person_means.var(ddof=1) / 3
    assert np.isclose(three["se"] ** 2, person_var + seed_var)
    assert 2 < three["df"] < 4  # Welch-Satterthwaite between the parts' 2 + 2
    # persons 2 dB apart: far wider than the interval on these persons
    conditional = stats.bootstrap(s)["ci"]
    assert r["ci"][1] - r["ci"][0] > 5 * (conditional[1] - conditional[0])


def test_a_verdict_needs_the_new_faces_interval_to_exclude_zero():
    a, b = scores(shift=0.1, noise=0.1), scores(noise=0.1)
    a.loc[a["person"] == "p0", "psnr"] -= 0.35  # one person goes the other way
    diff = stats.paired(a, b)
    assert diff["verdict_these_persons"] == "lower"  # these three persons: a is worse ...
    assert diff["new_faces"]["ci"][0] < 0 < diff["new_faces"]["ci"][1]
    assert diff["verdict"] == "undecided"  # ... a new face may go either way
    same = stats.paired(scores(shift=0.1), scores())  # the same shift on every window
    assert np.allclose(same["new_faces"]["ci"], [0.1, 0.1])
    assert same["verdict"] == "higher"


def test_one_person_says_nothing_about_new_faces():
    s = scores()
    r = stats.new_faces(s[s["person"] == "p0"])
    assert r["n_persons"] == 1 and np.isnan(r["ci"]).all()
    assert stats.verdict(r["ci"]) == "undecided"
