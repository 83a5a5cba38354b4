"""Final training: the paper profile's joint protocol, and a profile's extra runs (seeds, joint
beside cached, the centre-frame ablation) with their validation curves, per-window test scores,
Table 3 with confidence intervals and the claims table; resumption without retraining. On the
library's default device: CUDA where present (with background data loading), else the CPU."""

import json
import shutil
from dataclasses import replace

import pandas as pd
import pytest

from hofvsr_lib.data.manifest import manifest_sha256, read_manifest
from hofvsr_lib.devices import resolve_device
from hofvsr_lib.models import load_checkpoint
from hofvsr_lib.paper import WINNER
from hofvsr_lib.profiles import TrainProfile, get_profile
from hofvsr_lib.report import budget, claims, table3
from hofvsr_lib.spec import FlowSpec, NetSpec, SRSpec
from hofvsr_lib.training.final import (
    FinalRun,
    final_records,
    final_runs,
    read_scores,
    train_all,
    train_run,
)

# the paper profile with a budget of seconds
JOINT = replace(get_profile("paper"), final=TrainProfile(epochs=2, iters_per_epoch=2,
                                                         batch_size=2, lr_patch=16,
                                                         eval_windows=3))


@pytest.mark.parametrize("key,name,config", [("hofvsr_64_5_64", "hofvsr", WINNER.config()),
                                             ("accv", "accv", {}), ("edsr", "edsr", {})])
def test_joint_final_training_writes_record_and_checkpoint_and_resumes(small_data, tmp_path, key,
                                                                       name, config):
    assert JOINT.final_mode == "joint"
    run = FinalRun(key, name, config, "joint", 0)
    record = train_run(run, small_data, JOINT, tmp_path)
    assert record["protocol"] == "joint" and record["epochs"] == 2
    assert record["provenance"]["device"] == str(resolve_device(None))
    assert [h["epoch"] for h in record["history"]] == [1, 2]
    # 4 steps from scratch, no bicubic skip: far below bicubic, but measured
    assert 0 < record["psnr"] < 60 and -1 < record["ssim"] <= 1
    test = read_manifest(small_data).query("split == 'test'")
    windows = sum(max(0, len(g) - 2) for _, g in test.groupby("sequence"))
    scores = read_scores(tmp_path, run.variant)
    assert record["test_windows"] == len(scores) == windows  # every test window, scored
    assert set(scores["person"]) == set(test["person"])

    checkpoint = tmp_path / "checkpoints" / f"{run.run_id}.pt"
    model, meta = load_checkpoint(checkpoint)
    assert meta["model"] == name and meta["provenance"]["protocol"] == "joint"
    assert not model.config.get("bicubic_residual")  # the paper trains without the skip

    written = checkpoint.stat().st_mtime_ns
    again = train_run(run, small_data, JOINT, tmp_path)
    assert again == json.loads((tmp_path / "final" / f"{run.run_id}.json").read_text())
    assert again["psnr"] == record["psnr"] and again["history"] == record["history"]
    assert checkpoint.stat().st_mtime_ns == written
    assert record["provenance"]["manifest_sha256"] == manifest_sha256(small_data)

    other = tmp_path / "other_data"  # another dataset: its results are never read as this one's
    shutil.copytree(small_data, other)
    with open(other / "manifest.csv", "a") as f:
        f.write("\n")
    with pytest.raises(ValueError, match=f"{run.run_id}.json was made on dataset"):
        train_run(run, other, JOINT, tmp_path)
    longer = replace(JOINT, final=replace(JOINT.final, epochs=3))  # another budget: refused
    with pytest.raises(ValueError, match="was trained for 2 x 2 steps"):
        train_run(run, small_data, longer, tmp_path)


def test_profile_runs_seeds_joint_and_ablation_into_table3_with_intervals(small_data, tmp_path):
    profile = get_profile("smoke")
    runs = final_runs(profile)
    variants = {r.variant for r in runs}
    assert {"hofvsr_64_5_64", "hofvsr_64_5_64_centre_only", "tip_joint", "accv_joint"} <= variants
    assert {r.seed for r in runs if r.variant == "tip"} == {0, 1}
    assert {r.seed for r in runs if r.variant == "tip_joint"} == {0}

    records = train_all(small_data, profile, tmp_path)
    assert len(records) == len(runs) == len(final_records(tmp_path))
    for rec in records:  # a validation point per epoch: the learning curve
        assert [h["epoch"] for h in rec["history"]] == list(range(1, rec["epochs"] + 1))
        assert all("psnr" in h for h in rec["history"])
    ho = read_scores(tmp_path, "hofvsr_64_5_64")
    assert sorted(ho["seed"].unique()) == [0, 1]
    assert list(ho.columns) == ["seed", "person", "sequence", "window", "frame", "psnr", "ssim",
                                "bicubic_psnr", "bicubic_ssim"]

    t = table3.measure_table3(tmp_path, "smoke").set_index("variant")
    assert t.loc["hofvsr_64_5_64", "seeds"] == 2 and t.loc["tip_joint", "seeds"] == 1
    for v, row in t.iterrows():
        assert row["psnr_lo"] <= row["psnr"] <= row["psnr_hi"], v
    assert t.loc["bicubic", "params"] == 0
    assert t.loc["hofvsr_64_5_64", "params"] == 496_609 and t.loc["tip", "params"] == 1_047_617
    claims_table = claims.claims_table(tmp_path)
    verdicts = {v.split(" at ")[0] for v in claims_table["verdict"]}
    assert verdicts <= {"confirmed", "refuted", "undecided"}
    joint = claims_table[claims_table.index.str.contains("jointly")]  # PSNR and SSIM
    assert len(joint) == 4 and joint["verdict"].str.contains("1 seed").all()
    assert (tmp_path / "figures" / "figure7.png").exists() or table3.render_figure7(
        tmp_path, small_data).exists()

    gaps = budget.budget_table(records)  # HO-FVSR minus each baseline, seed by seed
    assert list(gaps["steps"]) == [1, 2]  # smoke: 2 epochs of 1 step
    ho_curve = {r["seed"]: r["history"][-1]["psnr"] for r in records
                if r["variant"] == "hofvsr_64_5_64"}
    tip_curve = {r["seed"]: r["history"][-1]["psnr"] for r in records if r["variant"] == "tip"}
    assert gaps["minus TIP-2020 (dB)"].iloc[-1] == pytest.approx(
        sum(ho_curve[s] - tip_curve[s] for s in (0, 1)) / 2)
    assert "1 to 2 steps" in budget.budget_summary(records)
    assert {r["lr_schedule"] for r in records} == {"compressed"}

    stamp = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "checkpoints").glob("*.pt")}
    speed = (tmp_path / "table3_speed.json").read_text()
    train_all(small_data, profile, tmp_path)  # a second run: nothing retrained
    table3.measure_table3(tmp_path, "smoke")  # a re-render: speed not re-measured
    assert stamp == {p.name: p.stat().st_mtime_ns
                     for p in (tmp_path / "checkpoints").glob("*.pt")}
    assert (tmp_path / "table3_speed.json").read_text() == speed
    assert pd.read_csv(tmp_path / "table3.csv").shape[0] == len(variants) + 1
    assert t.loc["hofvsr_64_5_64_dis", "model"] == "HO-FVSR (64, 5, 64), DIS flow"

    # the whole-network search's picks: every seed, their own names; one that is a run already
    # (HO-FVSR's SR net on DIS flow: the ablation) is not trained twice
    single = NetSpec(SRSpec(32, 1, 32), FlowSpec("none"))
    dis = NetSpec(flow=FlowSpec("dis"))
    extra = final_runs(profile, picks=[single.flat(), dis.flat()])[len(runs):]
    assert [(r.variant, r.seed, r.pick) for r in extra] == [
        ("hofvsr_32_1_32_noflow", 0, True), ("hofvsr_32_1_32_noflow", 1, True)]
    picked = [train_run(r, small_data, profile, tmp_path) for r in extra]
    assert "flow" not in picked[0] and picked[0]["display"] == single.display
    t = table3.measure_table3(tmp_path, "smoke").set_index("variant")
    assert t.loc["hofvsr_32_1_32_noflow", "seeds"] == 2
    assert t.loc["hofvsr_32_1_32_noflow", "ho_reference"] == "hofvsr_64_5_64"
    assert t.loc["hofvsr_32_1_32_noflow", "params"] < t.loc["hofvsr_64_5_64", "params"]
