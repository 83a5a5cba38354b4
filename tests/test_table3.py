"""Table 3 from tiny committed results (``tests/data/table3``: two persons, two sequences each,
three windows, two seeds, hand-made scores with known differences) without any training."""

import json
import shutil
from pathlib import Path

import pytest

from hofvsr_lib.report import table3

DATA = Path(__file__).parent / "data" / "table3"


@pytest.fixture
def results(tmp_path):
    shutil.copytree(DATA, tmp_path / "results")
    return tmp_path / "results"


def test_rows_intervals_and_verdicts_follow_the_scores(results):
    t = table3.measure_table3(results, "cpu").set_index("variant")
    assert list(t.index) == ["hofvsr_64_5_64", "tip", "accv", "bicubic"]
    assert (t.loc[["hofvsr_64_5_64", "tip", "accv"], "seeds"] == 2).all()
    ho, tip, accv, bic = (t.loc[k] for k in t.index)
    # HO-FVSR is bicubic + 1 dB window by window (+0.01 dB for seed 1): a degenerate interval
    assert ho["gain_db"] == pytest.approx(1.005) and ho["gain_db_lo"] == pytest.approx(1.0)
    assert ho["gain_verdict"] == "higher"
    # TIP is HO-FVSR - 0.5 dB on every window: "higher", with the interval on the value
    assert tip["ho_minus_db"] == pytest.approx(0.5)
    assert tip["ho_minus_db_lo"] == pytest.approx(0.5) == tip["ho_minus_db_hi"]
    assert tip["ho_verdict"] == "higher"
    # ACCV differs by +-0.1..0.3 dB around zero: the interval holds 0, undecided
    assert abs(accv["ho_minus_db"]) < 1e-9 and accv["ho_verdict"] == "undecided"
    assert accv["ho_minus_db_lo"] < 0 < accv["ho_minus_db_hi"]
    assert bic["params"] == 0 and bic["ho_minus_db"] == pytest.approx(ho["gain_db"])
    assert set(t.columns) >= {"psnr_ann", "psnr_bob"}  # per-person means
    for v, row in t.iterrows():
        assert row["psnr_lo"] <= row["psnr"] <= row["psnr_hi"], v
    info = json.loads((results / "table3.json").read_text())
    assert info["test"] == {"persons": ["ann", "bob"], "sequences": 4, "windows": 12}
    assert info["provenance"]["profile"] == "smoke"  # the profile that trained the runs


def test_a_rerender_leaves_the_files_byte_identical(results):
    table3.measure_table3(results, "smoke")
    before = {p: (results / p).read_bytes() for p in ("table3.csv", "table3.json")}
    table3.measure_table3(results, "cpu")
    assert {p: (results / p).read_bytes() for p in before} == before


def test_reading_tables_put_the_paper_beside_ours(results):
    table3.measure_table3(results, "smoke")
    side = table3.table3_with_paper(results)
    assert side.loc["HO-FVSR (64, 5, 64)", "params (M), paper"] == 0.50
    assert side.loc["TIP-2020", "PSNR, paper"] == 29.00 and side.loc["Bicubic", "PSNR, paper"] == ""
    assert side.loc["TIP-2020", "FPS"] == 16.0
    assert side.loc["TIP-2020", "PSNR (dB) [95% CI]"].startswith("30.")
    diff = table3.differences(results)
    assert diff.loc["TIP-2020", "verdict"] == "HO-FVSR better"
    assert diff.loc["ACCV-2018", "verdict"] == "undecided (CI holds 0)"
    assert diff.loc["TIP-2020", "95% CI"] == "[+0.500, +0.500]"
    assert list(table3.per_person(results).columns) == ["ann", "bob"]
    text = table3.discussion(results)
    assert "HO-FVSR minus TIP-2020:** +0.500 dB" in text
    assert "undecided: the interval holds zero" in text  # ACCV
    assert "1.25x TIP-2020 here" in text  # 20 / 16 FPS from table3_speed.json


def test_evidence_and_per_seed_tables_have_no_nan(results):
    table3.measure_table3(results, "smoke")
    ev = table3.evidence(results)
    assert ev.loc["HO-FVSR (64, 5, 64)", "HO-FVSR minus it (dB)"] == "—"
    assert ev.loc["HO-FVSR (64, 5, 64)", "verdict"] == "—"
    assert ev.loc["TIP-2020", "HO-FVSR minus it (dB)"] == "+0.500 [+0.500, +0.500]"
    assert ev.loc["Bicubic", "protocol"] == "—" and ev.loc["Bicubic", "verdict"] == "HO-FVSR better"
    seeds = table3.per_seed(results)
    assert list(seeds.columns) == ["seed 0", "seed 1"] and len(seeds) == 3
    tip = [float(seeds.loc["TIP-2020", f"seed {k}"]) for k in (0, 1)]
    assert tip[1] - tip[0] == pytest.approx(0.01, abs=1e-3)
    assert not ev.isna().any().any() and not seeds.isna().any().any()
