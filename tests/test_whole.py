"""The whole-network search (issue 21): its space, trials timed before they are trained on
their own flow's draft cubes, latency stored per spec, SMAC with two objectives. (A real whole
search under NNI: the smoke reproduction, tests/test_reproduce.py.)"""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest
from tiny_search import TINY, TINY_TRIAL

from hofvsr_lib.search import launcher
from hofvsr_lib.search.latency import measured_latency
from hofvsr_lib.search.records import COLUMNS, TIMED_COLUMNS, columns
from hofvsr_lib.search.references import reference_profile
from hofvsr_lib.search.space import (
    OBJECTIVES,
    PAPER_SPACES,
    SEARCH_SPACE,
    WHOLE_SEARCH_SPACE,
    narrowed,
    network_count,
    objective_metrics,
    score,
    space_flows,
    space_size,
    validate_config,
)
from hofvsr_lib.search.trial import draft_cubes, run_trial
from hofvsr_lib.spec import FlowSpec, NetSpec, SRSpec

SMALL = {"res_channels": 32, "n_res_blocks": 1, "up_channels": 32}
LATENCY = TINY.whole.latency


def test_the_whole_space_is_the_papers_times_twenty_flows():
    tips = [FlowSpec(width=w, blocks=b) for w in (32, 64, 128, 192, 256, 320) for b in (1, 2, 3)]
    assert space_flows(WHOLE_SEARCH_SPACE) == [*tips, FlowSpec("dis"), FlowSpec("none")]
    assert space_size(WHOLE_SEARCH_SPACE) == 3 * 6 * 3 * 800  # NNI's points
    assert network_count(WHOLE_SEARCH_SPACE) == 20 * 800 == 16_000  # networks
    assert network_count(SEARCH_SPACE) == space_size(SEARCH_SPACE) == 800
    assert {k: WHOLE_SEARCH_SPACE[k] for k in SEARCH_SPACE} == SEARCH_SPACE
    assert list(PAPER_SPACES) == ["choice", "ordinal"]  # what the paper's studies compare
    cpu = narrowed(WHOLE_SEARCH_SPACE, {"flow_width": (320, 32, 64, 128), "flow_blocks": (1, 3)})
    assert cpu["flow_width"]["_value"] == [32, 64, 128, 320]
    assert network_count(cpu) == (4 * 2 + 2) * 800
    with pytest.raises(ValueError, match="outside"):
        narrowed(WHOLE_SEARCH_SPACE, {"flow_width": (48,)})
    proposal = {**SMALL, "flow": "dis", "flow_width": 64.0, "flow_blocks": "2"}
    assert validate_config(proposal, WHOLE_SEARCH_SPACE) == {**proposal, "flow_width": 64,
                                                             "flow_blocks": 2}
    assert NetSpec.of(validate_config(proposal, WHOLE_SEARCH_SPACE)) == NetSpec(
        SRSpec(32, 1, 32), FlowSpec("dis"))


def test_a_whole_search_has_its_own_name_records_and_objectives():
    assert launcher.search_name("smac", space="whole") == "smac-whole"
    assert launcher.search_name("tpe", space="ordinal") == "tpe-ordinal"
    assert launcher.search_name("tpe") == "tpe" and columns("choice") == COLUMNS
    whole = columns("whole")
    assert whole[7:13] == list(WHOLE_SEARCH_SPACE) and set(TIMED_COLUMNS) < set(whole)
    assert not set(TIMED_COLUMNS) & set(COLUMNS)
    assert score(31.0, 2.0) == 30.5 and score(31.0, 0.25) == 32.0  # 0.5 dB per 2x
    assert objective_metrics(31.0, 0.5) == {"default": 31.5, "psnr": 31.0,
                                            "latency_ratio": 0.5, "log2_latency_ratio": -1.0}
    assert set(OBJECTIVES) <= set(objective_metrics(31.0, 0.5))
    profile = launcher.profile_for(TINY, "whole")
    assert profile.search.max_trials == TINY.whole.max_trials and profile.whole == TINY.whole
    assert profile.search.ofr_pretrain == TINY.search.ofr_pretrain  # no flow_pretrain: the paper's
    longer = replace(TINY.search.ofr_pretrain, epochs=9)
    own = replace(TINY, whole=replace(TINY.whole, flow_pretrain=longer))
    assert launcher.profile_for(own, "whole").search.ofr_pretrain == longer
    assert reference_profile(own).final_flow == longer
    assert reference_profile(TINY).final_flow is None
    assert launcher.profile_for(TINY, "choice") is TINY
    with pytest.raises(ValueError, match="no whole-network search"):
        launcher.profile_for(replace(TINY, whole=None), "whole")


@pytest.mark.parametrize("flow", [{"flow": "none"}, {"flow": "dis"},
                                  {"flow": "tip", "flow_width": 32, "flow_blocks": 1}],
                         ids=["none", "dis", "tip32x1"])
def test_a_whole_space_trial_is_timed_then_trained_on_its_flows_cubes(flow, face_data,
                                                                       tmp_path):
    config = {**SMALL, "flow_width": 320, "flow_blocks": 3, **flow}
    store = tmp_path / "latency.json"
    result = run_trial(config, "cached", TINY_TRIAL, data=face_data, device="cpu", report=False,
                       space="whole", ofr_pretrain=TINY.search.ofr_pretrain, latency=LATENCY,
                       latency_store=store)
    spec = NetSpec.of(config)
    assert {k: result[k] for k in config} == config  # the proposal, as the tuner made it
    assert result["epochs_done"] == 2 and result["psnr"] > 0
    assert result["default"] == pytest.approx(score(result["psnr"], result["latency_ratio"]))
    assert set(TIMED_COLUMNS) - {"score"} <= set(result)
    assert list(result["latency_ms"]) == ["36"] and result["latency_ratio"] > 0
    entry = json.loads(store.read_text())["entries"][0]
    assert NetSpec.of(entry["spec"]) == spec and entry["machine"]["load_average"]
    assert entry["sizes"]["36"]["p90_ms"] >= entry["sizes"]["36"]["median_ms"]
    assert math.isclose(entry["sizes"]["36"]["ratio"], entry["latency_ratio"])
    # the same network proposed again (another flow size where its kind has none): not timed
    again = {**config, "flow_width": 64} if spec.flow.kind != "tip" else config
    assert measured_latency(NetSpec.of(again), store, LATENCY, "cpu") == entry
    assert len(json.loads(store.read_text())["entries"]) == 1
    cube_file, meta = draft_cubes(spec.flow, face_data, TINY.search.ofr_pretrain,
                                  TINY_TRIAL.eval_windows)
    assert meta["key"]["family"] == spec.flow.kind
    assert meta["key"]["centre_only"] == (spec.flow.kind == "none")


def test_a_paper_space_trial_derives_the_launchers_cube_file(trial_cache, face_data):
    """The paper's space: the cube file a trial derives from its spec is the one the launcher
    builds (same key), and the trial trains on it exactly as when it is given."""
    derived, _ = draft_cubes(NetSpec().flow, face_data, TINY.search.ofr_pretrain,
                             TINY_TRIAL.eval_windows)
    assert derived == trial_cache
    given = run_trial(SMALL, "cached", TINY_TRIAL, cache=trial_cache, device="cpu",
                      report=False)
    found = run_trial(SMALL, "cached", TINY_TRIAL, data=face_data, device="cpu", report=False,
                      ofr_pretrain=TINY.search.ofr_pretrain)
    same = ("default", "ssim", "loss", "epoch_psnr", "params", "gflops")
    assert {k: found[k] for k in same} == {k: given[k] for k in same}
    assert "psnr" not in found and "latency_ratio" not in found  # the paper's metric as it was


def test_smac_with_two_objectives(tmp_path):
    """SMAC3 behind NNI's interface with the whole space's objectives: one cost per objective
    (PSNR negated, log2 latency ratio), a trial without a result told the worst of each, the
    whole front kept (no cap at 10), earlier results imported into a fresh tuner."""
    from hofvsr_lib.search.smac_tuner import SMACTuner

    def tuner(name: str) -> SMACTuner:
        smac = SMACTuner(seed=3, n_trials=14, n_initial=3, objectives=OBJECTIVES,
                         output_directory=str(tmp_path / name))
        smac.update_search_space(WHOLE_SEARCH_SPACE)
        return smac

    smac = tuner("smac3")
    told = []
    for pid in range(6):
        params = smac.generate_parameters(pid)
        assert validate_config(params, WHOLE_SEARCH_SPACE) == params
        if pid == 4:  # stopped by the assessor
            smac.trial_end(pid, False)
            continue
        metric = objective_metrics(30 + pid / 10, 2.0 ** (pid - 2))
        smac.receive_trial_result(pid, params, metric)
        smac.trial_end(pid, True)
        told.append((params, metric))
    costs = [v.cost for v in smac.smac.runhistory._data.values()]
    expected = [[-(30 + pid / 10), float(pid - 2)] for pid in (0, 1, 2, 3)]
    assert costs == [*expected, [-30.0, 1.0], [-30.5, 3.0]]  # the stopped one: the worst
    assert smac.smac.intensifier._max_incumbents == 14
    assert len(smac.smac.intensifier.get_incumbents()) == 5  # every told point is on the front

    resumed = tuner("smac3-resumed")
    resumed.import_data([{"parameter": p, "value": m} for p, m in told])
    assert sorted(v.cost for v in resumed.smac.runhistory._data.values()) == sorted(
        [*expected, [-30.5, 3.0]])
    assert validate_config(resumed.generate_parameters(6), WHOLE_SEARCH_SPACE)
