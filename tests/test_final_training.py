"""Final training: the paper profile's joint protocol, resumption without retraining, runs on
another dataset or budget refused, a run trained on to a longer budget from where its final
run ended, a pick fine-tuned jointly from its cached run, the runs' status. On the library's
default device: CUDA where present (with background data loading), else the CPU. (A profile's
extra runs, seeds, joint beside cached and the ablations, into Table 3, the claims and the
budget table: the smoke reproduction, tests/test_reproduce.py, which trains them anyway.)"""

import json
import math
import shutil
from dataclasses import replace

import pytest
import torch

from hofvsr_lib.data.manifest import manifest_sha256, read_manifest
from hofvsr_lib.devices import resolve_device
from hofvsr_lib.models import load_checkpoint
from hofvsr_lib.paper import WINNER
from hofvsr_lib.profiles import TrainProfile, get_profile
from hofvsr_lib.report import front, table3
from hofvsr_lib.spec import FlowSpec, NetSpec, SRSpec
from hofvsr_lib.training.final import (
    FinalRun,
    final_networks,
    final_runs,
    read_scores,
    run_status,
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


def test_a_run_trained_on_to_a_longer_budget_goes_on_from_where_its_final_run_ended(small_data,
                                                                                      tmp_path):
    final = TrainProfile(epochs=2, iters_per_epoch=2, batch_size=2, lr_patch=16, eval_windows=3,
                         train_windows=8, bicubic_residual=True, lr_milestones=(1000,))
    profile = replace(get_profile("smoke"), final=final, long_final=replace(final, epochs=3),
                      final_seeds=2, joint=None, centre_only_ablation=False,
                      dis_flow_ablation=False)
    runs = final_runs(profile)
    longer = [r for r in runs if r.long]
    assert [(r.variant, r.seed) for r in longer] == [
        ("hofvsr_64_5_64_long", 1), ("tip_long", 1), ("accv_long", 1)]  # the last seed's
    assert all(runs[runs.index(r) - 1] == replace(r, long=False) for r in longer)  # each at once
    assert [r.key for r in runs[9:]] == ["fsrcnn", "edsr"] * 2  # the video networks first
    evidence = final_runs(get_profile("evidence"))  # joint runs with every seed, as the cached
    assert {r.seed for r in evidence if r.variant == "tip_joint"} == {0, 1, 2}
    assert [(r.variant, r.seed) for r in evidence[:3]] == [
        ("hofvsr_64_5_64", 0), ("tip", 0), ("accv", 0)]
    assert evidence.index(FinalRun("fsrcnn", *final_networks()["fsrcnn"], "cached", 0)) == 12

    run = FinalRun("hofvsr_64_5_64", "hofvsr", WINNER.config(), "cached", 1)
    record = train_run(run, small_data, profile, tmp_path)
    handed = tmp_path / "final" / "hofvsr_64_5_64_long_seed1.progress.pt"
    assert handed.is_file() and not (tmp_path / "final" / f"{run.run_id}.progress.pt").exists()
    long = train_run(replace(run, long=True), small_data, profile, tmp_path)
    assert long["history"][:2] == record["history"]  # its first epochs are the final run's
    assert [h["epoch"] for h in long["history"]] == [1, 2, 3] and long["epochs"] == 3
    assert long["long"] and long["display"] == "HO-FVSR (64, 5, 64), long budget"
    assert long["psnr"] != record["psnr"] and not handed.exists()
    assert len(read_scores(tmp_path, "hofvsr_64_5_64_long")) == long["test_windows"]
    assert table3.reference({**long, "variant": "tip_long"}) == "hofvsr_64_5_64_long"
    assert replace(run, seed=0, long=True) not in final_runs(profile)  # seed 0 hands nothing on
    with pytest.raises(ValueError, match="the same learning-rate drops"):
        final_runs(replace(profile, long_final=replace(final, epochs=3, lr_milestones=None)))


def test_a_pick_with_a_learned_flow_net_is_fine_tuned_jointly_from_its_cached_run(small_data,
                                                                                   tmp_path):
    profile = replace(get_profile("smoke"), final_seeds=1, joint=None,
                      centre_only_ablation=False, dis_flow_ablation=False,
                      final=TrainProfile(epochs=1, iters_per_epoch=2, batch_size=2, lr_patch=16,
                                         eval_windows=3, train_windows=8,
                                         bicubic_residual=True))
    assert profile.whole.finetune.lr == 1e-4 and profile.whole.finetune.epochs == 1
    narrow = NetSpec(SRSpec(32, 1, 32), FlowSpec("tip", 32, 1))
    single = NetSpec(SRSpec(32, 1, 32), FlowSpec("none"))
    picked = [r for r in final_runs(profile, picks=[narrow.flat(), single.flat()]) if r.pick]
    assert [(r.variant, r.protocol) for r in picked] == [  # nothing to fine-tune without a flow
        (narrow.slug, "cached"), (f"{narrow.slug}_finetuned", "finetune"),
        (single.slug, "cached")]
    cached_run, tuned_run = picked[:2]
    with pytest.raises(FileNotFoundError, match="the cached run this fine-tuning starts from"):
        train_run(tuned_run, small_data, profile, tmp_path)
    train_run(cached_run, small_data, profile, tmp_path)
    tuned = train_run(tuned_run, small_data, profile, tmp_path)
    assert tuned["protocol"] == "finetune" and tuned["epochs"] * tuned["iters_per_epoch"] == 1
    assert tuned["display"] == f"{narrow.display}, fine-tuned jointly" and "flow" in tuned

    # one Adam step at 1e-4 from the cached run's weights: every weight within a step of them,
    # the flow net's too (trained now), which the cached protocol had frozen
    before, _ = load_checkpoint(tmp_path / "checkpoints" / f"{cached_run.run_id}.pt")
    after, _ = load_checkpoint(tmp_path / "checkpoints" / f"{tuned_run.run_id}.pt")
    steps = {name: (a - b).abs().max().item() for (name, a), (_, b) in
             zip(after.state_dict().items(), before.state_dict().items(), strict=True)
             if a.is_floating_point()}
    assert max(steps.values()) <= 1.5e-4
    assert any(v > 0 for k, v in steps.items() if k.startswith("ofr."))
    table = front.finetuning(tmp_path)
    assert table["network"].tolist() == [narrow.display] and table.loc[0, "seeds"] == 1
    assert 0 < table.loc[0, "warp/zero, cached"] and 0 < table.loc[0, "warp/zero, fine-tuned"]
    assert table.loc[0, "verdict"] in {"fine-tuning helps", "fine-tuning hurts", "undecided"}
    assert all(r["protocol"] != "finetune" for r in front.pick_records(tmp_path))


def test_the_status_says_which_runs_are_done_stopped_or_to_do_and_the_hours_left(tmp_path):
    (tmp_path / "final").mkdir()
    history = [{"epoch": e, "seconds": 1800.0} for e in (1, 2)]  # half an hour each
    (tmp_path / "final" / "hofvsr_64_5_64_seed0.json").write_text(json.dumps(
        {"run": "hofvsr_64_5_64_seed0", "variant": "hofvsr_64_5_64", "seed": 0, "epochs": 2,
         "psnr": 30.0, "history": history}))
    torch.save({"history": history[:1]}, tmp_path / "final" / "hofvsr_64_5_64_seed1.progress.pt")
    status = run_status(get_profile("smoke"), tmp_path)
    assert len(status) == len(final_runs(get_profile("smoke")))
    done, stopped, todo = (status.loc[r] for r in ("hofvsr_64_5_64_seed0",
                                                   "hofvsr_64_5_64_seed1", "tip_seed0"))
    assert done["state"] == "done" and done["epoch hours"] == 1.0 and done["test PSNR"] == 30.0
    assert stopped["state"] == "after epoch 1 of 2"
    assert stopped["epoch hours left (est.)"] == 0.5  # from seed 0's epochs
    assert todo["state"] == "to do" and math.isnan(todo["epoch hours left (est.)"])
