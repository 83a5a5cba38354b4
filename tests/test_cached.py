"""The cached protocol: one flow net per key, shared by the search and the final training,
draft cubes that are the frozen net's own, a new file whenever the key changes."""

import shutil
from dataclasses import replace

import torch

from hofvsr_lib.data.dataset import FaceWindows
from hofvsr_lib.models import SOFVSR_ACCV
from hofvsr_lib.paper import WINNER
from hofvsr_lib.profiles import TrainProfile, get_profile
from hofvsr_lib.search.launcher import trial_cubes
from hofvsr_lib.training.cached import STORE, cube_cache, pretrained_flow_net
from hofvsr_lib.training.final import FinalRun, train_run
from hofvsr_lib.training.loops import load_cube_cache

BUDGET = TrainProfile(epochs=1, iters_per_epoch=1, batch_size=2, lr_patch=16)


def _stamps(folder):
    return {p.name: p.stat().st_mtime_ns for p in folder.glob("ofr-*.pt")}


def test_search_and_final_training_share_one_flow_net(small_data, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(small_data, data, ignore=shutil.ignore_patterns("cached"))
    smoke = get_profile("smoke")
    profile = replace(smoke, search=replace(smoke.search, ofr_pretrain=BUDGET,
                                            trial=replace(smoke.search.trial, eval_windows=2)),
                      final=replace(smoke.final, epochs=1, iters_per_epoch=1, eval_windows=2))

    search_file, meta = trial_cubes(data, profile)
    flow_nets = _stamps(data / "cached")
    assert len(flow_nets) == 1 and meta["windows"]["val"] == 2
    assert trial_cubes(data, profile) == (search_file, meta)  # found, not rebuilt

    record = train_run(FinalRun("hofvsr_64_5_64", "hofvsr", WINNER.config(), "cached", 0), data,
                       profile, tmp_path / "results", device="cpu")
    assert _stamps(data / "cached") == flow_nets  # the search's flow net, not retrained
    assert record["ofr_history"] == meta["ofr_history"]
    assert not list((tmp_path / "results" / "final").glob("ofr*"))

    # the flow net the run was given is kept with its results; a machine without the
    # dataset's cache gets that flow net from them, not a new training
    store = tmp_path / "results" / STORE
    assert [p.name for p in store.glob("*.pt")] == list(flow_nets)
    fresh = tmp_path / "fresh"
    shutil.copytree(small_data, fresh, ignore=shutil.ignore_patterns("cached"))
    restored, restored_meta = pretrained_flow_net(WINNER.flow, fresh, BUDGET, 0, store=store)
    kept, _ = pretrained_flow_net(WINNER.flow, data, BUDGET, 0)
    assert restored_meta["restored_from"]["file"] in flow_nets
    assert restored_meta["history"] == meta["ofr_history"]
    for name, value in kept.ofr.state_dict().items():
        assert torch.equal(restored.ofr.state_dict()[name], value), name
    assert list(_stamps(fresh / "cached")) == list(flow_nets)  # now in its cache too

    # the cubes are the frozen flow net's draft cubes of the evenly spaced windows
    model, _ = pretrained_flow_net(WINNER.flow, data, BUDGET, 0)
    splits, _ = load_cube_cache(search_file)
    val = FaceWindows(data, "val")
    lr, hr = val[len(val) - 1]
    with torch.no_grad():
        cube, _ = model.draft_cube(lr[None].float())
    # stored in half precision, computed in batches with channels-last weights (other
    # oneDNN kernels): equal to within a half-precision step (about 1e-3 below 1)
    torch.testing.assert_close(splits["val"]["cubes"][-1].float(), cube[0], atol=1e-3, rtol=0)
    assert torch.equal(splits["val"]["hr"][-1], hr.half())

    # another budget or seed: another flow net beside the first, nothing overwritten
    other, _ = cube_cache(WINNER.flow, data, replace(BUDGET, lr=5e-4), 0, {"val": 2})
    assert other != search_file and len(_stamps(data / "cached")) == 2
    cube_cache(SOFVSR_ACCV.flow, data, BUDGET, 1, {"val": 2})
    assert len(_stamps(data / "cached")) == 3
    assert {k: v for k, v in _stamps(data / "cached").items() if k in flow_nets} == flow_nets
