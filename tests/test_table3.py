"""Table 3 from tiny committed results (``tests/data/table3``: two persons, two sequences each,
three windows, two seeds, hand-made scores with known differences) without any training."""

import json
import shutil
from pathlib import Path

import pandas as pd
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
    assert ho["gain_verdict"] == "higher" == ho["gain_verdict_these_persons"]
    # TIP is HO-FVSR - 0.5 dB on every window: "higher", with both intervals on the value
    assert tip["ho_minus_db"] == pytest.approx(0.5) == tip["ho_minus_db_newfaces"]
    assert tip["ho_minus_db_lo"] == pytest.approx(0.5) == tip["ho_minus_db_hi"]
    assert tip["ho_minus_db_newfaces_lo"] == pytest.approx(0.5) == tip["ho_minus_db_newfaces_hi"]
    assert tip["ho_verdict"] == "higher" and tip["ho_reference"] == "hofvsr_64_5_64"
    assert (tip["steps"], tip["batch_size"]) == (6, 4)  # every row carries its budget
    # ACCV differs by +-0.1..0.3 dB around zero: the interval holds 0, undecided
    assert abs(accv["ho_minus_db"]) < 1e-9 and accv["ho_verdict"] == "undecided"
    assert accv["ho_minus_db_lo"] < 0 < accv["ho_minus_db_hi"]
    assert bic["params"] == 0 and bic["ho_minus_db"] == pytest.approx(ho["gain_db"])
    assert set(t.columns) >= {"psnr_ann", "psnr_bob"}  # per-person means
    for v, row in t.iterrows():
        assert row["psnr_lo"] <= row["psnr"] <= row["psnr_hi"], v
        # two persons: the new-faces interval (t, 1 df) is far wider than on these persons
        assert row["psnr_newfaces_lo"] < row["psnr_lo"] and row["psnr_newfaces_hi"] > row[
            "psnr_hi"], v
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
    assert side.loc["TIP-2020", "PSNR (dB) [95% CI, these persons]"].startswith("30.")
    diff = table3.differences(results)
    assert diff.loc["TIP-2020", "verdict (new faces)"] == "HO-FVSR better"
    assert diff.loc["TIP-2020", "at"] == "6 SR steps at batch 4, 2 seeds, on 2 test persons"
    assert diff.loc["ACCV-2018", "verdict (new faces)"] == "undecided (CI holds 0)"
    assert diff.loc["TIP-2020", "new faces"] == "+0.500 [+0.500, +0.500]"
    assert list(table3.per_person(results).columns) == ["ann", "bob"]
    text = table3.discussion(results)
    assert "HO-FVSR minus TIP-2020:** +0.500 [+0.500, +0.500] dB" in text
    assert "undecided: the interval holds zero" in text  # ACCV
    assert "1.25x TIP-2020 here" in text  # 20 / 16 FPS from table3_speed.json


def test_evidence_and_per_seed_tables_have_no_nan(results):
    table3.measure_table3(results, "smoke")
    ev = table3.evidence(results)
    assert ev.loc["HO-FVSR (64, 5, 64)", "HO-FVSR minus it (dB), these persons"] == "—"
    assert ev.loc["HO-FVSR (64, 5, 64)", "verdict"] == "—"
    assert ev.loc["TIP-2020", "HO-FVSR minus it (dB), new faces"] == "+0.500 [+0.500, +0.500]"
    assert ev.loc["Bicubic", "protocol"] == "—" and ev.loc["Bicubic", "verdict"] == "HO-FVSR better"
    seeds = table3.per_seed(results)
    assert list(seeds.columns) == ["seed 0", "seed 1"] and len(seeds) == 3
    tip = [float(seeds.loc["TIP-2020", f"seed {k}"]) for k in (0, 1)]
    assert tip[1] - tip[0] == pytest.approx(0.01, abs=1e-3)
    assert not ev.isna().any().any() and not seeds.isna().any().any()


def _copy_variant(results: Path, source: str, variant: str, **record) -> None:
    """A variant made of ``source``'s scores and records, with ``record`` changed."""
    final = results / "final"
    (final / f"{variant}_scores.csv").write_bytes((final / f"{source}_scores.csv").read_bytes())
    for path in final.glob(f"{source}_seed*.json"):
        rec = json.loads(path.read_text())
        seed = rec["seed"]
        rec.update(run=f"{variant}_seed{seed}", variant=variant, **record)
        (final / f"{variant}_seed{seed}.json").write_text(json.dumps(rec))


def test_rows_are_compared_only_with_the_ho_fvsr_run_of_their_budget(results):
    joint = dict(protocol="joint", epochs=1)
    _copy_variant(results, "hofvsr_64_5_64", "hofvsr_64_5_64_joint",
                  display="HO-FVSR (64, 5, 64), joint", **joint)
    _copy_variant(results, "accv", "tip_joint", key="tip", display="TIP-2020, joint", **joint)
    _copy_variant(results, "accv", "accv_joint", key="accv", display="ACCV-2018, joint",
                  protocol="joint", epochs=2)  # not HO-FVSR joint's budget
    _copy_variant(results, "tip", "hofvsr_64_5_64_dis", key="hofvsr_64_5_64",
                  display="HO-FVSR (64, 5, 64), DIS flow")
    t = table3.measure_table3(results, "smoke").set_index("variant")
    assert list(t.index) == ["hofvsr_64_5_64", "tip", "accv", "hofvsr_64_5_64_dis",
                             "hofvsr_64_5_64_joint", "tip_joint", "accv_joint", "bicubic"]
    # TIP joint (= ACCV's scores) against HO-FVSR joint (= HO-FVSR's): ACCV's difference
    assert t.loc["tip_joint", "ho_reference"] == "hofvsr_64_5_64_joint"
    assert t.loc["tip_joint", "ho_minus_db"] == pytest.approx(t.loc["accv", "ho_minus_db"])
    assert t.loc["tip_joint", "steps"] == 3
    assert pd.isna(t.loc["accv_joint", "ho_reference"])  # another budget: no difference
    assert pd.isna(t.loc["accv_joint", "ho_minus_db"])
    assert t.loc["hofvsr_64_5_64_dis", "ho_minus_db"] == pytest.approx(0.5)
    assert "hofvsr_64_5_64_dis" not in json.loads((results / "table3_speed.json").read_text())[
        "networks"]  # an ablation is not timed: the stored speeds stay
    assert "accv_joint" not in table3.differences(results).index.map(
        dict(zip(t["model"], t.index, strict=True)))
