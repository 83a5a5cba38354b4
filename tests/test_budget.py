"""The budget table on hand-made learning curves: the rows it shows, the settled test on the
mean gap over the last quarter of each budget."""

import math

import pytest

from hofvsr_lib.report import budget


def _record(variant, seed, psnr_by_epoch, display=None):
    return {"variant": variant, "seed": seed, "iters_per_epoch": 100, "batch_size": 16,
            "display": display or variant, "lr_drops": [], "lr": 1e-3,
            "history": [{"epoch": e, "psnr": p} for e, p in enumerate(psnr_by_epoch, 1)]}


def test_rows_are_the_doublings_half_the_budget_and_the_last_step():
    ho = _record("hofvsr_64_5_64", 0, [30.0] * 10, "HO-FVSR")
    tip = _record("tip", 0, [30.5] * 10, "TIP-2020")
    table = budget.budget_table([ho, tip], against=("tip",))
    assert list(table["steps"]) == [100, 200, 400, 500, 800, 1000]
    assert table["minus TIP-2020 (dB)"].tolist() == pytest.approx([-0.5] * 6)


def test_settled_compares_the_mean_gap_over_the_last_quarter_of_each_budget():
    # gaps by step 100..800: the last quarter of 800 is 600..800, of 400 it is 300..400
    gaps = [-1.0, -1.0, -0.6, -0.4, -0.9, -0.3, -0.2, -0.1]
    ho = _record("hofvsr_64_5_64", 0, [30 + g for g in gaps], "HO-FVSR")
    tip = _record("tip", 0, [30.0] * 8, "TIP-2020")
    moved = budget.settled([ho, tip], against=("tip",))
    assert moved["TIP-2020"] == pytest.approx((-0.3 - 0.2 - 0.1) / 3 - (-0.6 - 0.4) / 2)
    short = budget.settled([_record("hofvsr_64_5_64", 0, [30.0]), _record("tip", 0, [30.0])],
                           against=("tip",))
    assert math.isnan(short["tip"])  # one evaluation: no half budget to compare with
    summary = budget.budget_summary([ho, tip])
    assert "TIP-2020: not settled (moved +0.30 dB from 400 to 800 steps)" in summary
    # the runs trained on to a longer budget: a table of their own
    longer = [_record("hofvsr_64_5_64_long", 2, [30.0] * 16, "HO-FVSR, long budget"),
              _record("tip_long", 2, [30.25] * 16, "TIP-2020, long budget")]
    table = budget.budget_table([ho, tip, *longer], against=("tip",), suffix=budget.LONG)
    assert table["steps"].iloc[-1] == 1600
    assert table["minus TIP-2020, long budget (dB)"].tolist() == pytest.approx([-0.25] * 5)
    assert "settled (moved +0.00 dB from 800 to 1,600 steps)" in budget.budget_summary(
        [ho, tip, *longer], suffix=budget.LONG)
