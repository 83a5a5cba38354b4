"""Final training in the paper profile's protocol (joint: the whole network end to end with its
own loss), its checkpoint and record, and resumption without retraining. On the library's
default device: CUDA where present (with background data loading), else the CPU."""

import json
from dataclasses import replace

import pytest
from fixtures_data import small_dataset

from hofvsr_lib.final_training import train_network
from hofvsr_lib.models import load_checkpoint
from hofvsr_lib.paper import WINNER
from hofvsr_lib.profiles import TrainProfile, get_profile
from hofvsr_lib.training import resolve_device

# the paper profile with a budget of seconds
JOINT = replace(get_profile("paper"), final=TrainProfile(epochs=2, iters_per_epoch=2,
                                                         batch_size=2, lr_patch=16,
                                                         eval_windows=3))


@pytest.mark.parametrize("key,name,config", [("hofvsr_64_5_64", "hofvsr", WINNER),
                                             ("accv", "accv", {}), ("edsr", "edsr", {})])
def test_joint_final_training_writes_record_and_checkpoint_and_resumes(tmp_path, key, name,
                                                                       config):
    assert JOINT.final_mode == "joint"
    record = train_network(key, name, config, small_dataset(), JOINT, tmp_path)
    assert record["protocol"] == "joint" and record["epochs"] == 2
    assert record["provenance"]["device"] == str(resolve_device(None))
    assert [h["epoch"] for h in record["history"]] == [1, 2]
    # 4 steps from scratch, no bicubic skip: far below bicubic, but measured
    assert record["eval_windows"] == 3 and 0 < record["psnr"] < 60 and -1 < record["ssim"] <= 1

    checkpoint = tmp_path / "checkpoints" / f"{key}.pt"
    model, meta = load_checkpoint(checkpoint)
    assert meta["model"] == name and meta["provenance"]["protocol"] == "joint"
    assert not model.config.get("bicubic_residual")  # the paper trains without the skip

    written = checkpoint.stat().st_mtime_ns
    again = train_network(key, name, config, small_dataset(), JOINT, tmp_path)
    assert again == json.loads((tmp_path / "final" / f"{key}.json").read_text())
    assert again["psnr"] == record["psnr"] and again["history"] == record["history"]
    assert checkpoint.stat().st_mtime_ns == written
