"""The NNI search for real, on a tiny real dataset: resume after a SIGKILL or an interrupt (TPE),
the assessor's stops (Random), a busy web UI port (SMAC), the trial outside NNI, failed trials
recorded, SR training on the cache. (Each strategy's complete search, its records and Table 2:
the smoke reproduction, tests/test_reproduce.py.)"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import psutil
import pytest
import torch
from tiny_search import PORT, TINY, TINY_TRIAL, leftovers, three_trials

from hofvsr_lib.models import SRNet
from hofvsr_lib.profiles import TrainProfile
from hofvsr_lib.search import launcher, tuners
from hofvsr_lib.search.nni_state import port_free
from hofvsr_lib.search.records import TrialRecords, read_provenance, table2
from hofvsr_lib.search.space import SEARCH_SPACE, space_size, validate_config
from hofvsr_lib.training.loops import CubeDataset, evaluate, load_cube_cache, train_sr


def test_search_space_has_the_papers_800_points():
    assert space_size() == 800
    assert SEARCH_SPACE["n_res_blocks"]["_value"] == list(range(1, 9))
    with pytest.raises(ValueError, match="outside"):
        validate_config({"res_channels": 48, "n_res_blocks": 5, "up_channels": 64})


def test_resume_after_sigkill_loses_no_finished_trial(search_root, face_data):
    out = search_root / "resume"
    out.mkdir()
    three = three_trials()
    code = (
        f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
        "import tiny_search as t; from hofvsr_lib.search import launcher; "
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
    records = TrialRecords(csv_path)
    assert {k: records.rows[k] for k in first} == first  # nothing finished lost or rewritten
    assert records.completed() == 3  # and nothing recorded twice or beyond the budget
    assert all(r["status"] == "SUCCEEDED" or r["status"].endswith("_CANCELED")  # the stop
               for r in records.rows.values())
    assert [r["status"] for r in records.rows.values()].count("SUCCEEDED") == 3
    assert prov["sessions"][0]["status"] == "KILLED" and prov["sessions"][-1]["status"] == "DONE"
    assert not psutil.pid_exists(stale["pid"]) or psutil.Process(stale["pid"]).status() == "zombie"
    assert not leftovers(str(out)), "processes left behind"


def test_a_search_resumed_on_another_machine_stops_no_process_of_this_one(tmp_path):
    """A committed search's "running" record names a process id of the machine that ran it:
    resumed under another boot, that id is some other process, left alone."""
    bystander = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        for boot in ("another-machine", None):  # a record from before boots were recorded too
            prov = {"running": {"pid": bystander.pid, "experiment_id": "gone", "session": 0,
                                **({"boot": boot} if boot else {})}, "sessions": []}
            launcher._recover_killed(prov, TrialRecords(tmp_path / "trials.csv"),
                                     tmp_path / "nni", ("tpe", "tpe", "cached", 0))
            assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_crashing_trials_are_recorded_as_failed(search_root, tmp_path):
    prov = launcher.run_search("random", TINY, tmp_path, tmp_path / "no-such-dataset",
                               port=PORT + 10, mode="joint")
    rows = list(TrialRecords(tmp_path / "random-joint" / "trials.csv").rows.values())
    assert [r["status"] for r in rows] == ["FAILED", "FAILED"]  # the search went on
    assert all(int(r["params"]) > 0 for r in rows)
    assert prov["sessions"][-1]["status"] == "DONE"


def test_trial_runs_outside_nni(trial_cache):
    cache = trial_cache
    result = subprocess.run(
        [sys.executable, "-m", "hofvsr_lib.search.trial", "--cache", str(cache),
         "--train", json.dumps(vars(TINY_TRIAL)), "--res-channels", "32", "--n-res-blocks", "1",
         "--up-channels", "32"], capture_output=True, text=True, check=True, timeout=120)
    final = json.loads(result.stdout.strip().splitlines()[-1])["final"]
    assert (final["res_channels"], final["n_res_blocks"], final["up_channels"]) == (32, 1, 32)
    assert final["epochs_done"] == 2 and final["params"] > 432_576


def test_sr_training_on_cached_cubes_reduces_loss(trial_cache):
    splits, meta = load_cube_cache(trial_cache)
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


def test_sr_training_interrupted_resumes_after_its_last_epoch(trial_cache, tmp_path):
    """A run stopped in its second epoch goes on from the first (its record and weights kept,
    the learning-rate schedule where it was); the resume file is gone once the run ends."""
    splits, _ = load_cube_cache(trial_cache)
    train = CubeDataset(splits["train"]["cubes"], splits["train"]["hr"], lr_patch=16, augment=True)
    evalset = CubeDataset(splits["val"]["cubes"], splits["val"]["hr"])
    budget = TrainProfile(epochs=3, iters_per_epoch=5, batch_size=4, lr_patch=16,
                          lr_milestones=(7,))
    progress = tmp_path / "run.progress.pt"

    def interrupt(epoch, record):
        if epoch == 2:
            raise KeyboardInterrupt

    torch.manual_seed(0)
    net = SRNet(32, 1, 32)
    with pytest.raises(KeyboardInterrupt):
        train_sr(net, train, budget, evalset, device="cpu", callback=interrupt, progress=progress)
    saved = torch.load(progress, weights_only=False)
    assert [r["epoch"] for r in saved["history"]] == [1]
    torch.manual_seed(1)
    fresh = SRNet(32, 1, 32)  # other weights: the resume must replace them
    history = train_sr(fresh, train, budget, evalset, device="cpu", progress=progress)
    assert [r["epoch"] for r in history] == [1, 2, 3]
    assert history[0] == saved["history"][0]
    assert not progress.exists()
    assert history[-1]["psnr"] > history[0]["psnr"]


def _run_in_subprocess(profile_expr: str, out: Path, face_data: Path, port: int):
    code = (
        f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
        "import tiny_search as t; from hofvsr_lib.search import launcher; "
        f"launcher.run_search('random', {profile_expr}, {str(out)!r}, {str(face_data)!r}, "
        f"port={port})")
    return subprocess.Popen([sys.executable, "-c", code])


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupted_search_resumes_losing_nothing(sig, search_root, face_data):
    """Ctrl-C / SIGTERM mid-trial: the launcher stops NNI (no process left, port freed), keeps
    every finished trial; the same command again completes the budget exactly."""
    out = search_root / f"interrupt-{sig.name}"
    out.mkdir()
    port = PORT + 20 + int(sig)
    proc = _run_in_subprocess("t.three_trials()", out, face_data, port)
    csv_path = out / "random" / "trials.csv"
    deadline = time.time() + 240
    while time.time() < deadline and not (csv_path.exists() and len(TrialRecords(csv_path))):
        time.sleep(0.5)
    proc.send_signal(sig)
    assert proc.wait(120) != 0
    first = TrialRecords(csv_path).rows
    prov = read_provenance(out / "random" / "provenance.json")
    assert prov["running"] is None and prov["sessions"][-1]["status"] == "INTERRUPTED"
    assert not leftovers(str(out)), "processes left behind"
    assert port_free(port), "web UI port still taken"

    launcher.run_search("random", three_trials(), out, face_data, port=port)
    records = TrialRecords(csv_path)
    assert {k: records.rows[k] for k in first} == first  # nothing finished lost or rewritten
    assert records.completed() == 3
    assert [r["status"] for r in records.rows.values()].count("SUCCEEDED") == 3
    assert all(r["status"] in ("SUCCEEDED", "USER_CANCELED", "SYS_CANCELED", "FAILED")
               for r in records.rows.values())
    assert not leftovers(str(out))


def test_busy_port_moves_to_the_next_free_one(search_root, face_data, capsys):
    import socket

    port = PORT + 40
    with socket.socket() as busy:
        busy.bind(("", port))
        busy.listen()
        prov = launcher.run_search("smac", TINY, search_root / "busy-port", face_data, port=port)
    assert prov["sessions"][-1]["port"] > port
    assert f"port {port} is in use" in capsys.readouterr().out


def test_each_strategy_has_its_own_tuner_seed():
    seeds = {s: launcher.strategy_seed(0, s) for s in launcher.STRATEGIES}
    assert len(set(seeds.values())) == 3
    assert launcher.strategy_seed(1, "tpe") != seeds["tpe"]

    def first_proposals(tuner) -> list[tuple]:
        tuner.update_search_space(SEARCH_SPACE)
        return [tuple(int(p[k]) for k in SEARCH_SPACE)
                for p in (tuner.generate_parameters(i) for i in range(3))]

    tpe = first_proposals(tuners.TracedTPE(seed=seeds["tpe"]))
    rnd = first_proposals(tuners.TracedRandom(seed=seeds["random"]))
    assert tpe != rnd  # before, both started from the same three configurations


def test_proposal_sources_startup_model_and_fallback(tmp_path):
    """NNI's TPE on the paper's choice space proposes the best trial again once out of its
    start-up phase; the deduplicator's grid replaces it, and the log says so."""
    from hofvsr_lib.search.space import ORDINAL_SEARCH_SPACE

    def run(space, log):
        tuner = tuners.TracedTPE(seed=3, tpe_args={"n_startup_jobs": 2}, proposal_log=str(log))
        tuner.update_search_space(space)
        for i in range(4):
            p = tuner.generate_parameters(i)
            tuner.receive_trial_result(i, p, float(p["res_channels"]) / 100)
        return tuners.read_proposals(log)

    choice = run(SEARCH_SPACE, tmp_path / "choice.jsonl")
    assert [choice[i] for i in range(4)] == ["startup", "startup", "fallback", "fallback"]
    ordinal = run(ORDINAL_SEARCH_SPACE, tmp_path / "ordinal.jsonl")
    assert [ordinal[i] for i in range(2)] == ["startup", "startup"]
    assert set(ordinal.values()) <= {"startup", "model", "fallback"}
    assert "model" in ordinal.values()


def test_assessor_stops_are_recorded_as_early_stopped(search_root, face_data):
    profile = replace(TINY, search=replace(TINY.search, max_trials=4, assessor="StepMedianstop",
                                           assessor_start_step=1))
    prov = launcher.run_search("random", profile, search_root / "assessed", face_data,
                               port=PORT + 45)
    assert prov["assessor"]["name"] == "StepMedianstop"
    records = TrialRecords(search_root / "assessed" / "random" / "trials.csv")
    rows = list(records.rows.values())
    assert records.completed() == 4
    for r in rows:
        assert r["status"] in ("SUCCEEDED", "EARLY_STOPPED") and r["source"] == "random"
        if r["status"] == "EARLY_STOPPED":  # stopped after epoch 1 of 2, never at the last
            assert r["epochs_done"] == "1" and r["final_psnr"] == ""
    row = table2(search_root / "assessed").iloc[0]
    assert row["early_stopped"] == sum(r["status"] == "EARLY_STOPPED" for r in rows)
    assert row["epochs_trained"] == sum(int(r["epochs_done"]) for r in rows)


def test_step_medianstop_compares_the_value_at_the_same_epoch(tmp_path):
    """A trial below the finished trials' median after epoch 2 is stopped (and logged); NNI's
    Medianstop keeps it, its running averages trailing rising curves; never at the last epoch."""
    from nni.assessor import AssessResult

    finished = [[31.5, 31.7, 31.8, 31.9], [31.4, 31.6, 31.7, 31.8], [31.6, 31.8, 31.9, 32.0]]
    slow = [31.5, 31.65]  # under the median after epoch 2 (31.7), above the running averages
    results = {}
    for cls in (tuners.TracedMedianstop, tuners.StepMedianstop):
        log = tmp_path / f"{cls.__name__}.jsonl"
        assessor = cls("maximize", start_step=2, last_step=4, stop_log=str(log))
        for i, curve in enumerate(finished):
            for step in range(1, 5):
                assessor.assess_trial(f"t{i}", curve[:step])
            assessor.trial_end(f"t{i}", True)
        results[cls.__name__] = assessor.assess_trial("new", slow)
        assert assessor.assess_trial("late", [31.0, 31.1, 31.2, 31.3]) is AssessResult.Good
        stops = tuners.read_stops(log)
        assert ("new" in stops) == (results[cls.__name__] is AssessResult.Bad)
        assert "late" not in stops
    assert results == {"TracedMedianstop": AssessResult.Good, "StepMedianstop": AssessResult.Bad}


def test_tuners_count_a_stopped_trial_as_the_worst_result(tmp_path):
    """NNI 3.0 gives a tuner no value for a trial the assessor stopped: TPE and SMAC record it
    as the worst result so far instead of forgetting it (TPE) or taking a cost of 0 (SMAC)."""
    from hofvsr_lib.search.smac_tuner import SMACTuner

    tpe = tuners.TracedTPE(seed=1, tpe_args={"n_startup_jobs": 2})
    smac = SMACTuner(seed=1, n_trials=8, output_directory=str(tmp_path / "smac3"))
    for tuner in (tpe, smac):
        tuner.update_search_space(SEARCH_SPACE)
        for pid, value in enumerate((31.5, None, 31.9)):
            params = tuner.generate_parameters(pid)
            if value is not None:
                tuner.receive_trial_result(pid, params, {"default": value})
            tuner.trial_end(pid, value is not None)
    assert [r.loss for r in next(iter(tpe._history.values()))] == [-31.5, -31.5, -31.9]
    costs = sorted(v.cost for v in smac.smac.runhistory._data.values())
    assert costs == [-31.9, -31.5, -31.5]


def test_smac_tuner_driven_directly(tmp_path):
    """SMAC3 behind NNI's Tuner interface, without NNI: every proposal is a point of the paper's
    space with its source logged, a told result reaches SMAC's run history as a cost, and the
    results of an earlier session imported into a fresh tuner are known to it."""
    from hofvsr_lib.search.smac_tuner import SMACTuner

    log = tmp_path / "proposals.jsonl"
    smac = SMACTuner(seed=3, n_trials=10, n_initial=2, proposal_log=str(log),
                     output_directory=str(tmp_path / "smac3"))
    smac.update_search_space(SEARCH_SPACE)
    told = []
    for pid in range(5):
        params = smac.generate_parameters(pid)
        assert validate_config(params) == params  # inside the 800 points, plain ints
        value = 30.0 + params["n_res_blocks"] / 10
        smac.receive_trial_result(pid, params, {"default": value, "ssim": 0.9})
        smac.trial_end(pid, True)
        told.append((params, value))
    sources = tuners.read_proposals(log)
    assert sorted(sources) == list(range(5))
    assert [sources[0], sources[1]] == ["startup", "startup"]  # the initial design first
    assert set(sources.values()) <= {"startup", "model", "random"}
    costs = sorted(v.cost for v in smac.smac.runhistory._data.values())
    assert costs == sorted(-value for _, value in told)

    resumed = SMACTuner(seed=3, n_trials=10, output_directory=str(tmp_path / "smac3-resumed"))
    resumed.update_search_space(SEARCH_SPACE)
    resumed.import_data([{"parameter": p, "value": {"default": v}} for p, v in told])
    known = {tuple(sorted(dict(c).items())) for c in resumed.smac.runhistory.get_configs()}
    assert known == {tuple(sorted(p.items())) for p, _ in told}
    assert sorted(v.cost for v in resumed.smac.runhistory._data.values()) == costs
    assert validate_config(resumed.generate_parameters(5))


def _hand_made_experiment(nni_dir: Path, exp_id: str) -> None:
    """An NNI experiment's database with four trials, as NNI 3.0 writes it (metric data JSON
    encoded twice), and the tuner's and assessor's logs."""
    import sqlite3

    db = nni_dir / exp_id / "db"
    db.mkdir(parents=True)
    con = sqlite3.connect(db / "nni.sqlite")
    con.execute("CREATE TABLE TrialJobEvent (timestamp INTEGER, trialJobId TEXT, event TEXT, "
                "data TEXT, logPath TEXT, sequenceId INTEGER, message TEXT)")
    con.execute("CREATE TABLE MetricData (timestamp INTEGER, trialJobId TEXT, parameterId TEXT, "
                "type TEXT, sequence INTEGER, data TEXT)")
    config = {"res_channels": 64, "n_res_blocks": 5, "up_channels": 64}
    events = []
    for k, (tid, last) in enumerate([("A", "SUCCEEDED"), ("B", "SUCCEEDED"), ("C", "FAILED"),
                                      ("D", None)]):
        payload = json.dumps({"parameter_id": k, "parameter_source": "algorithm",
                              "parameters": config, "parameter_index": 0})
        t = 1_000_000 * (k + 1)
        events += [(t, tid, "WAITING", payload), (t + 10, tid, "RUNNING", None)]
        if last:
            events.append((t + 90_000, tid, last, None))
    con.executemany("INSERT INTO TrialJobEvent (timestamp, trialJobId, event, data) "
                    "VALUES (?, ?, ?, ?)", events)

    def metric(value: dict) -> str:
        return json.dumps(json.dumps(value))

    epoch = {"default": 31.5, "ssim": 0.88, "loss": 0.01}
    final = {**epoch, "default": 31.7, "params": 496_609, "gflops": 2.02, "seed": 0}
    con.executemany("INSERT INTO MetricData VALUES (?, ?, ?, ?, ?, ?)", [
        (1_000_100, "A", "0", "PERIODICAL", 0, metric(epoch)),
        (1_000_200, "A", "0", "FINAL", 0, metric(final)),
        (3_000_100, "C", "2", "PERIODICAL", 0, metric(epoch))])
    con.commit()
    con.close()
    tuners.append_proposal(launcher.proposal_log(nni_dir, exp_id), 0, "model", config)
    (launcher.stop_log(nni_dir, exp_id)).write_text(json.dumps({"trial_id": "C", "step": 1}))


def test_nni_bookkeeping_without_nni(tmp_path):
    """The records from NNI's database alone: a trial with a final metric SUCCEEDED with its
    proposal source; one that succeeded without a final metric FAILED; one the assessor killed
    EARLY_STOPPED (NNI 3.0 says FAILED); an unfinished one not yet; a second sync adds nothing."""
    nni_dir = tmp_path / "nni"
    _hand_made_experiment(nni_dir, "exp1")
    records = TrialRecords(tmp_path / "trials.csv")
    tag = ("tpe", "tpe", "cached", 0)
    assert launcher.sync_records(records, nni_dir, "exp1", 0, *tag) == 3
    assert launcher.sync_records(records, nni_dir, "exp1", 0, *tag) == 0
    rows = {r["trial_id"]: r for r in TrialRecords(tmp_path / "trials.csv").rows.values()}
    assert {k: r["status"] for k, r in rows.items()} == {
        "A": "SUCCEEDED", "B": "FAILED", "C": "EARLY_STOPPED"}
    assert rows["A"]["source"] == "model" and float(rows["A"]["final_psnr"]) == 31.7
    assert rows["A"]["epochs_done"] == "1"
    assert float(rows["A"]["duration_s"]) == 89.99  # from RUNNING to the end
    assert rows["C"]["final_psnr"] == "" and rows["C"]["epochs_done"] == "1"
    assert records.completed() == 3


def test_a_setting_added_after_a_search_ran_does_not_make_it_another_search():
    recorded = {"max_trials": 14, "trial": {"epochs": 4, "lr": 0.001}}
    now = {"max_trials": 14, "trial": {"epochs": 4, "lr": 0.001, "lr_milestones": None}}
    assert launcher._holds(now, recorded)
    assert not launcher._holds({**now, "trial": {**now["trial"], "epochs": 6}}, recorded)
