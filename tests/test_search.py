"""The NNI search for real: TPE, Random and SMAC experiments on a tiny real dataset, resume after
a SIGKILL, the trial outside NNI, failed trials recorded, SR training on the cache."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import torch

from hofvsr_lib.models import SRNet
from hofvsr_lib.profiles import DatasetProfile, Profile, SearchProfile, TrainProfile
from hofvsr_lib.search import launcher
from hofvsr_lib.search.records import TrialRecords, read_provenance, table2
from hofvsr_lib.search.space import SEARCH_SPACE, space_size, validate_config
from hofvsr_lib.training import CubeDataset, evaluate, load_cube_cache, train_sr

TINY_TRIAL = TrainProfile(epochs=2, iters_per_epoch=1, batch_size=2, lr_patch=16, eval_windows=2)
TINY = Profile(
    name="tiny", description="tests: seconds per trial",
    dataset=DatasetProfile(max_frames_per_video=24),
    search=SearchProfile(max_trials=2, max_duration="10m", trial=TINY_TRIAL,
                         ofr_pretrain=TrainProfile(epochs=1, iters_per_epoch=1, batch_size=2,
                                                   lr_patch=16)),
    final=TINY_TRIAL,
)
PORT = 18630


@pytest.fixture(scope="session")
def face_data(tmp_path_factory) -> Path:
    """A tiny real dataset (smoke profile, real clip, real MTCNN), built once per session;
    ``HOFVSR_TEST_DATA`` points at an already built one instead."""
    if os.environ.get("HOFVSR_TEST_DATA"):
        return Path(os.environ["HOFVSR_TEST_DATA"])
    from hofvsr_lib.cli import main

    root = tmp_path_factory.mktemp("faces")
    assert main(["dataset", "build", "--out", str(root), "--profile", "smoke"]) == 0
    return root


@pytest.fixture(scope="session")
def search_root(tmp_path_factory, face_data) -> Path:
    """An output root whose OFR draft-cube cache is built once and shared by every search."""
    root = tmp_path_factory.mktemp("search")
    launcher.prepare_cube_cache(face_data, TINY, root)
    return root


def _leftovers(marker: str) -> list[str]:
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if marker in cmd and proc.pid != os.getpid():
            found.append(cmd)
    return found


def test_search_space_has_the_papers_800_points():
    assert space_size() == 800
    assert SEARCH_SPACE["n_res_blocks"]["_value"] == list(range(1, 9))
    with pytest.raises(ValueError, match="outside"):
        validate_config({"res_channels": 48, "n_res_blocks": 5, "up_channels": 64})


@pytest.mark.parametrize("strategy", ["tpe", "random", "smac"])
def test_real_nni_search(strategy, search_root, face_data):
    prov = launcher.run_search(strategy, TINY, search_root, face_data, port=PORT)
    sdir = search_root / strategy
    rows = list(TrialRecords(sdir / "trials.csv").rows.values())
    assert [r["status"] for r in rows] == ["SUCCEEDED"] * 2
    for r in rows:
        validate_config(r)
        assert len(json.loads(r["epoch_psnr"])) == 2 and float(r["final_psnr"]) > 0
        assert int(r["params"]) > 432_576 and float(r["gflops"]) > 1.8
    assert prov["sessions"][-1]["status"] == "DONE"
    assert read_provenance(sdir / "provenance.json")["versions"]["nni"] == "3.0"
    assert (sdir / "nni" / prov["sessions"][-1]["experiment_id"] / "db" / "nni.sqlite").exists()
    assert not _leftovers(str(search_root)), "processes left behind"
    table = table2(search_root)
    row = table[table["strategy"] == strategy].iloc[0]
    assert row["networks"] >= 1 and row["epochs"] == 2


def test_resume_after_sigkill_loses_no_finished_trial(search_root, face_data):
    out = search_root / "resume"
    out.mkdir()
    (out / "ofr_cache").symlink_to(search_root / "ofr_cache")
    three = three_trials()
    code = (
        f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
        "import test_search as t; from hofvsr_lib.search import launcher; "
        f"launcher.run_search('tpe', t.three_trials(), {str(out)!r}, {str(face_data)!r}, "
        f"port={PORT + 5})")
    proc = subprocess.Popen([sys.executable, "-c", code])
    csv_path = out / "tpe" / "trials.csv"
    deadline = time.time() + 240
    while time.time() < deadline and not (csv_path.exists() and len(TrialRecords(csv_path))):
        time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    first = TrialRecords(csv_path).rows
    assert len(first) >= 1
    stale = read_provenance(out / "tpe" / "provenance.json")["running"]
    assert stale and psutil.pid_exists(stale["pid"])  # the NNI manager survived the kill

    prov = launcher.run_search("tpe", three, out, face_data, port=PORT + 5)
    rows = TrialRecords(csv_path).rows
    assert set(first) <= set(rows)  # nothing finished is lost
    assert len(rows) >= 3
    assert sum(r["status"] == "SUCCEEDED" for r in rows.values()) >= 3
    assert prov["sessions"][0]["status"] == "KILLED" and prov["sessions"][-1]["status"] == "DONE"
    assert not psutil.pid_exists(stale["pid"]) or psutil.Process(stale["pid"]).status() == "zombie"
    assert not _leftovers(str(out)), "processes left behind"


def three_trials() -> Profile:
    """TINY with a budget of three trials."""
    return Profile(**{**TINY.__dict__, "search": SearchProfile(
        max_trials=3, max_duration="10m", trial=TINY_TRIAL, ofr_pretrain=TINY.search.ofr_pretrain)})


def test_crashing_trials_are_recorded_as_failed(search_root, tmp_path):
    prov = launcher.run_search("random", TINY, tmp_path, tmp_path / "no-such-dataset",
                               port=PORT + 10, mode="joint")
    rows = list(TrialRecords(tmp_path / "random-joint" / "trials.csv").rows.values())
    assert [r["status"] for r in rows] == ["FAILED", "FAILED"]  # the search went on
    assert all(int(r["params"]) > 0 for r in rows)
    assert prov["sessions"][-1]["status"] == "DONE"


def test_trial_runs_outside_nni(search_root):
    cache = search_root / "ofr_cache" / "tiny-seed0" / "cubes.pt"
    result = subprocess.run(
        [sys.executable, "-m", "hofvsr_lib.search.trial", "--cache", str(cache),
         "--train", json.dumps(vars(TINY_TRIAL)), "--res-channels", "32", "--n-res-blocks", "1",
         "--up-channels", "32"], capture_output=True, text=True, check=True, timeout=120)
    final = json.loads(result.stdout.strip().splitlines()[-1])["final"]
    assert (final["res_channels"], final["n_res_blocks"], final["up_channels"]) == (32, 1, 32)
    assert final["epochs_done"] == 2 and final["params"] > 432_576


def test_sr_training_on_cached_cubes_reduces_loss(search_root):
    splits, meta = load_cube_cache(search_root / "ofr_cache" / "tiny-seed0" / "cubes.pt")
    assert splits["train"]["cubes"].shape[1:] == (33, 36, 36)
    assert meta["windows"]["val"] == 2
    train = CubeDataset(splits["train"]["cubes"], splits["train"]["hr"], lr_patch=16, augment=True)
    evalset = CubeDataset(splits["val"]["cubes"], splits["val"]["hr"])
    torch.manual_seed(0)
    net = SRNet(32, 1, 32)
    before = evaluate(net, evalset, device="cpu")
    history = train_sr(net, train, TrainProfile(epochs=3, iters_per_epoch=15,
                                                             batch_size=4, lr_patch=16),
                       evalset, device="cpu")
    assert history[-1]["loss"] < 0.5 * before["loss"]
    assert history[-1]["psnr"] > before["psnr"] + 3
    assert history[-1]["train_loss"] < history[0]["train_loss"]
