"""``hofvsr evaluate``: means with confidence intervals and per-person scores, any split or every
person of a dataset, and one clear line (no traceback) for a bad checkpoint or folder."""

import json

import pytest

from hofvsr_lib.cli import main as hofvsr
from hofvsr_lib.data.dataset import FaceWindows
from hofvsr_lib.data.manifest import read_manifest
from hofvsr_lib.models import build_model, save_checkpoint


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """An untrained HO-FVSR with the bicubic skip: its output is exactly bicubic's."""
    path = tmp_path_factory.mktemp("ckpt") / "ho.pt"
    return save_checkpoint(path, build_model("hofvsr", bicubic_residual=True), display="untrained")


def test_every_person_with_interval_and_per_person_means(small_data, checkpoint, capsys):
    assert hofvsr(["evaluate", "--checkpoint", str(checkpoint), "--data", str(small_data),
                   "--split", "all", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result["per_person"]) == set(read_manifest(small_data)["person"])
    assert result["windows"] == len(FaceWindows(small_data, "all"))
    lo, hi = result["ci"]["psnr"]
    assert lo <= result["mean"]["psnr"] == result["psnr"] <= hi
    assert result["psnr"] == pytest.approx(result["bicubic_psnr"], abs=1e-4)  # untrained skip
    assert result["gain_over_bicubic"]["verdict"] == "undecided"


def test_default_split_is_test_and_plain_output_names_the_persons(small_data, checkpoint, capsys):
    assert hofvsr(["evaluate", "--checkpoint", str(checkpoint), "--data",
                   str(small_data)]) == 0
    out = capsys.readouterr().out
    test_persons = set(read_manifest(small_data).query("split == 'test'")["person"])
    assert "95% CI" in out and "test windows" in out
    assert all(p in out for p in test_persons)


def test_truncated_checkpoint_and_missing_manifest_give_one_line(small_data, checkpoint, tmp_path,
                                                                 capsys):
    cut = tmp_path / "cut.pt"
    cut.write_bytes(checkpoint.read_bytes()[:5000])
    assert hofvsr(["evaluate", "--checkpoint", str(cut), "--data", str(small_data)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(cut) in err and "not a valid" in err
    assert hofvsr(["evaluate", "--checkpoint", str(checkpoint), "--data", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "build the dataset first" in err
