"""The claims chapter on tiny committed results (``tests/data/table3``) and on synthetic
Figure-5 curves: verdicts from the new-faces intervals, each with its budget."""

import shutil

import numpy as np
import pytest
from test_table3 import DATA, _copy_variant

from hofvsr_lib.report import claims, table3


@pytest.fixture
def results(tmp_path):
    shutil.copytree(DATA, tmp_path / "results")
    return tmp_path / "results"


def test_verdicts_carry_their_budget_and_ablations_appear_with_their_scores(results):
    table3.measure_table3(results, "smoke")
    before = claims.claims_table(results)
    assert not before.index.str.contains("DIS").any()  # no DIS-flow scores yet
    # the centre frame alone and DIS-flow cubes: TIP's scores (HO-FVSR - 0.5 dB) and ACCV's
    _copy_variant(results, "tip", "hofvsr_64_5_64_centre_only", key="hofvsr_64_5_64",
                  centre_only=True, display="HO-FVSR (64, 5, 64), centre frame only")
    _copy_variant(results, "accv", "hofvsr_64_5_64_dis", key="hofvsr_64_5_64",
                  display="HO-FVSR (64, 5, 64), DIS flow")
    table3.measure_table3(results, "smoke")
    c = claims.claims_table(results)
    tip = c.loc["HO-FVSR (64, 5, 64) has a higher PSNR than TIP-2020"]
    assert tip["verdict"] == "confirmed at 6 SR steps at batch 4, 2 seeds, on 2 test persons"
    assert tip[claims.NEW_FACES] == "+0.50 [+0.50, +0.50]"
    accv = c.loc["HO-FVSR (64, 5, 64) has a higher PSNR than ACCV-2018"]
    assert accv["verdict"].startswith("undecided at 6 SR steps")
    frames = c.loc[c.index.str.startswith("the neighbouring frames help")].iloc[0]
    assert frames["verdict"].startswith("confirmed at")  # HO-FVSR minus 'centre' = +0.5 dB
    dis = c.loc[c.index.str.startswith("a classical flow's draft cubes help")].iloc[0]
    assert dis["verdict"].startswith("confirmed at")  # ACCV's scores (~ HO-FVSR) minus TIP's
    learned = c.loc[c.index.str.startswith("the learned flow net adds")].iloc[0]
    assert learned["verdict"].startswith("undecided at")  # HO-FVSR minus ACCV's scores
    assert "<!--" not in claims.claims_markdown(results) and "| claim" in claims.claims_markdown(
        results)


def _curve(epochs: int, knee: float) -> list[float]:
    """A validation error falling from 1 towards 0.5, most of the way by epoch ``knee``."""
    t = np.arange(1, epochs + 1)
    return list(0.5 + 0.5 * np.exp(-3 * t / knee))


def test_figure5_is_judged_as_the_paper_states_it():
    assert claims.levels_off(_curve(20, 10)) is True
    assert claims.levels_off(list(np.linspace(1, 0.5, 20))) is False  # falls all the way
    assert claims.levels_off(_curve(4, 10)) is None  # too short to tell
    short = claims.figure5_claim([_curve(4, 10)] * 5, "e", "b")
    assert short["verdict"] == "undecided at b" and "cannot show" in short[claims.MEASURED]
    assert claims.figure5_claim([_curve(20, 10)] * 5, "e", "b")["verdict"] == "confirmed at b"
    linear = [list(np.linspace(1, 0.5, 20))] * 5
    assert claims.figure5_claim(linear, "e", "b")["verdict"] == "refuted at b"
    rising = [list(np.linspace(0.5, 1, 4))] * 5
    assert claims.figure5_claim(rising, "e", "b")["verdict"] == "refuted at b"
