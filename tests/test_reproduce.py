"""The whole paper in the smoke profile: every notebook executed in order, then the book."""

import json
import subprocess
import sys

import pandas as pd
import pytest
from tiny_search import leftovers, os_chosen_port

from hofvsr_lib.profiles import get_profile
from hofvsr_lib.report import budget, claims, table3
from hofvsr_lib.report.front import plane, target_checks, targets_on_test
from hofvsr_lib.reproduce import STEPS, NotebookError, run_notebook
from hofvsr_lib.search.launcher import run_search
from hofvsr_lib.search.records import TrialRecords, read_provenance, table2
from hofvsr_lib.search.references import measure_references
from hofvsr_lib.search.space import OBJECTIVES, SPACES, score, validate_config
from hofvsr_lib.spec import FlowSpec, NetSpec, SRSpec
from hofvsr_lib.training.final import (
    PAPER_NETWORKS,
    final_records,
    final_runs,
    read_scores,
    train_all,
    train_run,
)


# takes several minutes on 2 cores: NNI start-up and papermill kernels dominate; `make test`
# runs it as a step of its own after the rest of the suite
@pytest.mark.reproduction
def test_smoke_reproduction_builds_the_book(tmp_path):
    dirs = {k: tmp_path / k for k in ("data", "results", "book")}
    cmd = [sys.executable, "-m", "hofvsr_lib.cli", "reproduce", "--profile", "smoke",
           "--port", str(os_chosen_port()),
           *[arg for k, v in dirs.items() for arg in (f"--{k}", str(v))]]
    subprocess.run(cmd, check=True)

    for _, executed, _ in STEPS:
        assert (dirs["book"] / "notebooks" / executed).exists(), executed
    assert (dirs["book"] / "_build" / "html" / "index.html").exists()
    html = (dirs["book"] / "_build" / "html" / "notebooks" / "06_table3.html").read_text()
    assert "Table 3" in html and "figure7" in html.lower()
    assert 'caption-number">Figure' in html  # a numbered figure with its caption

    results = dirs["results"]
    table = pd.read_csv(results / "table3.csv").set_index("variant")
    assert {"hofvsr_64_5_64", "tip", "accv", "fsrcnn", "edsr", "bicubic",
            "hofvsr_64_5_64_centre_only", "tip_joint"} <= set(table.index)
    assert table.loc["hofvsr_64_5_64", "params"] == 496_609
    assert table.loc["hofvsr_64_5_64", "seeds"] == 2  # the smoke profile's seeds
    assert (table["psnr_lo"] <= table["psnr"]).all() and (table["psnr"] <= table["psnr_hi"]).all()
    for strategy in ("tpe", "random", "smac"):
        trials = pd.read_csv(results / "search" / strategy / "trials.csv")
        assert (trials["status"] == "SUCCEEDED").any(), strategy
        assert trials["source"].notna().all(), strategy
    # the search studies: the assessor switched off, TPE on the ordinal space, both protocols
    for study in ("random-noassessor", "tpe-ordinal"):
        assert len(pd.read_csv(results / "search" / study / "trials.csv")) == 2, study
    agreement = pd.read_csv(results / "search" / "protocol_agreement.csv")
    assert sorted(agreement["mode"]) == ["cached", "cached", "joint", "joint"]
    assert (results / "search" / "tpe_regimes.csv").exists()
    html = (dirs["book"] / "_build" / "html" / "notebooks" / "02_search_studies.html").read_text()
    assert "Search studies" in html and "Kendall" in html
    html = (dirs["book"] / "_build" / "html" / "notebooks" / "02_search_smac.html").read_text()
    assert "Architecture search with SMAC" in html
    steps = json.loads((results / "provenance.json").read_text())["steps"]
    assert set(steps) == {executed for _, executed, _ in STEPS}
    html = (dirs["book"] / "_build" / "html" / "notebooks" / "08_claims.html").read_text()
    assert "Claims against evidence" in html and "verdict" in html
    # the speed and Figure 2 measurements, run once because their files were missing
    bench = json.loads((results / "bench" / "bench.json").read_text())
    assert {r.get("model") for r in bench["results"]} >= {"HO-FVSR", "pipeline HO-FVSR"}
    figure2 = json.loads((results / "figure2" / "figure2.json").read_text())
    assert [r["video"] for r in figure2["results"]] == ["single_face", "vlog"]
    html = (dirs["book"] / "_build" / "html" / "notebooks" / "07_face_video_demo.html"
            ).read_text()
    assert "Figure 2" in html and "onnxruntime" in html
    for name in ("figure5_top5", "figure6_complexity", "figure7", "learning_curves"):
        assert (results / "figures" / f"{name}.png").exists(), name
    # beyond the paper: the named networks timed as the candidates are, trained at the trial
    # budget, on one plane with the whole search's trials; the pick trained as evidence
    refs = measure_references(results, "smoke", dirs["data"], device="cpu")  # nothing redone
    assert list(refs["key"]) == [*PAPER_NETWORKS, "bicubic"]
    trial = get_profile("smoke").search.trial
    assert list(refs["train_steps"]) == [trial.epochs * trial.iters_per_epoch] * 5 + [0]
    assert refs.set_index("key").loc["accv", "latency_ratio"] == pytest.approx(1.0, rel=0.5)
    assert (refs["latency_ratio"] > 0).all() and refs["final_psnr"].notna().all()
    assert refs.set_index("key").loc["hofvsr_64_5_64", "params"] == 496_609
    pd.testing.assert_frame_equal(pd.read_csv(results / "search" / "references" /
                                              "references.csv"), refs, check_dtype=False)
    points = plane(results)
    counts = points["strategy"].value_counts()  # smoke's assessor may stop the second trial
    assert counts["reference"] == 6 and counts["smac"] >= 1 and len(counts) == 2
    assert points["on_front"].any() and points["fps_36"].gt(0).all()
    assert set(points.loc[points["strategy"] == "reference", "flow_kind"]) == {
        "tip", "accv", "none"}
    checks = target_checks(points)
    assert len(checks) == 3 and checks["target"].str.contains("HO-FVSR").sum() == 2
    picks = json.loads((results / "search" / "picks.json").read_text())["picks"]
    assert len(picks) == 1  # the smoke profile's whole.picks
    table = pd.read_csv(results / "table3.csv").set_index("variant")
    pick = NetSpec.of(picks[0]["spec"]).slug
    assert table.loc[pick, "seeds"] == 2 and table.loc[pick, "ho_reference"] == "hofvsr_64_5_64"
    html = (dirs["book"] / "_build" / "html" / "notebooks" / "11_whole_picks.html").read_text()
    assert "The targets, on the test persons" in html and "new faces" in html
    assert "What fine-tuning jointly adds" in html
    if NetSpec.of(picks[0]["spec"]).flow.learned:  # fine-tuned jointly from its cached runs
        assert table.loc[f"{pick}_finetuned", "seeds"] == 2
    assert (results / "figures" / "picks_learning_curves.png").exists()
    targets = targets_on_test(results)
    assert len(targets) == 3 and targets["target"].str.contains("HO-FVSR").sum() == 2
    _check_searches(results)
    _check_whole_search(results, dirs["data"])
    _check_final_runs(results, dirs["data"])


def _check_searches(results):
    """The paper's three searches, real NNI experiments: every trial's record, the provenance
    and NNI's own database, no process left behind, their columns of Table 2."""
    epochs = get_profile("smoke").search.trial.epochs
    for strategy in ("tpe", "random", "smac"):
        sdir = results / "search" / strategy
        rows = list(TrialRecords(sdir / "trials.csv").rows.values())
        assert {r["status"] for r in rows} <= {"SUCCEEDED", "EARLY_STOPPED"}, strategy
        for r in rows:
            validate_config(r)
            assert int(r["params"]) > 432_576 and float(r["gflops"]) > 1.8
        for r in (r for r in rows if r["status"] == "SUCCEEDED"):
            assert len(json.loads(r["epoch_psnr"])) == epochs and float(r["final_psnr"]) > 0
        prov = read_provenance(sdir / "provenance.json")
        assert prov["sessions"][-1]["status"] == "DONE" and prov["versions"]["nni"] == "3.0"
        assert (sdir / "nni" / prov["sessions"][-1]["experiment_id"] / "db" /
                "nni.sqlite").exists()
        row = table2(results / "search").set_index("search").loc[strategy]
        assert row["networks"] >= 1 and row["epochs"] == epochs
    assert not leftovers(str(results)), "processes left behind"


def _check_whole_search(results, data):
    """SMAC's two-objective search of the whole network: each trial timed (latency stored per
    spec) and trained on its flow's cubes; running it again finds it complete."""
    sdir = results / "search" / "smac-whole"
    rows = list(TrialRecords(sdir / "trials.csv", "whole").rows.values())
    timings = json.loads((sdir / "latency.json").read_text())["entries"]
    assert any(r["status"] == "SUCCEEDED" for r in rows)
    for r in (r for r in rows if r["status"] == "SUCCEEDED"):
        spec = NetSpec.of(validate_config(r, SPACES["whole"]))
        assert float(r["score"]) == pytest.approx(score(float(r["final_psnr"]),
                                                        float(r["latency_ratio"])))
        assert any(NetSpec.of(t["spec"]) == spec for t in timings)
        assert json.loads(r["latency_ms"])["36"] > 0
    prov = read_provenance(sdir / "provenance.json")
    assert prov["space"] == "whole" and prov["objective"]["objectives"] == OBJECTIVES
    assert prov["objective"]["lambda_db_per_2x"] == 0.5
    assert prov["sessions"][-1]["status"] == "DONE" and "ofr_cache" not in prov
    again = run_search("smac", "smoke", results / "search", data, port=os_chosen_port(),
                       space="whole")
    assert len(again["sessions"]) == len(prov["sessions"])  # complete: nothing run again


def _check_final_runs(results, data):
    """The smoke profile's final runs (seeds, joint beside cached, the ablations): a validation
    point per epoch, per-window test scores, Table 3 with intervals, claims with their budget,
    the budget table; a second run retrains nothing; a single-frame pick trains as evidence."""
    profile = get_profile("smoke")
    runs = final_runs(profile)
    variants = {r.variant for r in runs}
    assert {"hofvsr_64_5_64", "hofvsr_64_5_64_centre_only", "tip_joint", "accv_joint"} <= variants
    assert {r.seed for r in runs if r.variant == "tip"} == {0, 1}
    assert {r.seed for r in runs if r.variant == "tip_joint"} == {0}
    records = [r for r in final_records(results) if not r["pick"]]
    assert len(records) == len(runs)
    for rec in records:  # a validation point per epoch: the learning curve
        assert [h["epoch"] for h in rec["history"]] == list(range(1, rec["epochs"] + 1))
        assert all("psnr" in h for h in rec["history"])
    ho = read_scores(results, "hofvsr_64_5_64")
    assert sorted(ho["seed"].unique()) == [0, 1]
    assert list(ho.columns) == ["seed", "person", "sequence", "window", "frame", "psnr", "ssim",
                                "bicubic_psnr", "bicubic_ssim"]
    t = pd.read_csv(results / "table3.csv").set_index("variant")
    assert t.loc["tip_joint", "seeds"] == 1 and t.loc["bicubic", "params"] == 0
    assert t.loc["tip", "params"] == 1_047_617
    assert t.loc["hofvsr_64_5_64_dis", "model"] == "HO-FVSR (64, 5, 64), DIS flow"
    verdicts = claims.claims_table(results)
    assert {v.split(" at ")[0] for v in verdicts["verdict"]} <= {"confirmed", "refuted",
                                                                  "undecided"}
    joint = verdicts[verdicts.index.str.contains("jointly")]  # PSNR and SSIM
    assert len(joint) == 4 and joint["verdict"].str.contains("1 seed").all()

    gaps = budget.budget_table(records)  # HO-FVSR minus each baseline, seed by seed
    assert list(gaps["steps"]) == [1, 2]  # smoke: 2 epochs of 1 step
    last = {(r["variant"], r["seed"]): r["history"][-1]["psnr"] for r in records}
    assert gaps["minus TIP-2020 (dB)"].iloc[-1] == pytest.approx(
        sum(last["hofvsr_64_5_64", s] - last["tip", s] for s in (0, 1)) / 2)
    assert "1 to 2 steps" in budget.budget_summary(records)
    assert {r["lr_schedule"] for r in records} == {"compressed"}

    stamp = {p.name: p.stat().st_mtime_ns for p in (results / "checkpoints").glob("*.pt")}
    speed = (results / "table3_speed.json").read_text()
    train_all(data, profile, results)  # a second run: nothing retrained
    table3.measure_table3(results, "smoke")  # a re-render: speed not re-measured
    assert stamp == {p.name: p.stat().st_mtime_ns for p in (results / "checkpoints").glob("*.pt")}
    assert (results / "table3_speed.json").read_text() == speed

    # picks of the whole-network search: every seed, their own names; one that is a run
    # already (HO-FVSR's SR net on DIS flow: the ablation) is not trained twice
    single = NetSpec(SRSpec(32, 1, 32), FlowSpec("none"))
    extra = final_runs(profile, picks=[single.flat(), NetSpec(flow=FlowSpec("dis")).flat()])
    extra = extra[len(runs):]
    assert [(r.variant, r.seed, r.pick) for r in extra] == [
        ("hofvsr_32_1_32_noflow", 0, True), ("hofvsr_32_1_32_noflow", 1, True)]
    picked = [train_run(r, data, profile, results) for r in extra]
    assert "flow" not in picked[0] and picked[0]["display"] == single.display
    t = table3.measure_table3(results, "smoke").set_index("variant")
    assert t.loc["hofvsr_32_1_32_noflow", "seeds"] == 2
    assert t.loc["hofvsr_32_1_32_noflow", "ho_reference"] == "hofvsr_64_5_64"
    assert t.loc["hofvsr_32_1_32_noflow", "params"] < t.loc["hofvsr_64_5_64", "params"]


def test_executed_notebooks_are_tidied_for_the_reader(tmp_path):
    """No parameter or output-less cells on the page, code folded under its output, a log
    folded with its code, no run times, a fixed id for papermill's injected cell, paths relative
    to the repository."""
    import nbformat

    from hofvsr_lib.reproduce import ROOT, _tidy_executed

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Architecture search\ntext"),
                nbformat.v4.new_code_cell("strategy = 'tpe'", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("strategy = 'smac'",
                                          metadata={"tags": ["injected-parameters"]}),
                nbformat.v4.new_code_cell("import pandas"),
                nbformat.v4.new_code_cell("train()", outputs=[nbformat.v4.new_output(
                    "stream", name="stderr", text="epoch 1: 100%|##########| 1/1\n")]),
                nbformat.v4.new_code_cell("1 + 1", outputs=[nbformat.v4.new_output(
                    "execute_result", {"text/plain": "2"}, execution_count=1)],
                    metadata={"mystnb": {"figure": {"name": "fig-two", "caption": "Two."}}})]
    times = {"start_time": "2026-11-27T01:00:00", "end_time": "2026-11-27T01:00:01",
             "duration": 1.0}
    for cell in nb.cells:
        cell.metadata["papermill"] = {**times, "status": "completed"}
        cell.metadata["execution"] = {"iopub.status.busy": "2026-11-27T01:00:00Z"}
    nb.metadata["papermill"] = {**times, "input_path": str(ROOT / "notebooks" / "02.ipynb")}
    path = tmp_path / "02_search_smac.ipynb"
    nbformat.write(nb, path)
    _tidy_executed(path, "smac")
    tidy = nbformat.read(path, as_version=4)
    assert tidy.cells[0].source.startswith("# Architecture search with SMAC\n")
    assert [c.metadata.get("tags") for c in tidy.cells[1:]] == [
        ["parameters", "remove-cell"], ["injected-parameters", "remove-cell"], ["remove-cell"],
        ["hide-cell"], ["hide-input"]]
    assert tidy.cells[2].id == "injected-parameters"
    assert tidy.cells[5].metadata["mystnb"]["figure"]["name"] == "fig-two-smac"  # one per chapter
    assert tidy.metadata["papermill"] == {"input_path": "notebooks/02.ipynb"}
    assert all(set(c.metadata["papermill"]) == {"status"} and "execution" not in c.metadata
               for c in tidy.cells)


@pytest.mark.parametrize("cell, error", [("raise ValueError('no face in clip.mp4')",
                                          NotebookError), ("raise KeyboardInterrupt",
                                                           KeyboardInterrupt)])
def test_a_failing_notebook_names_itself_its_cell_and_its_error(tmp_path, cell, error):
    """Not papermill's dashed banner: the notebook, the cell, the error's first line and the
    executed copy; an interrupt stays an interrupt (the command line's "interrupted")."""
    import nbformat

    source, executed = tmp_path / "in.ipynb", tmp_path / "book" / "03_top5_curves.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell(cell)]
    nbformat.write(nb, source)
    with pytest.raises(error) as raised:
        run_notebook(source, executed, {})
    if error is NotebookError:
        assert str(raised.value).startswith(
            "03_top5_curves.ipynb, cell In [2]: ValueError: no face in clip.mp4 (the executed")
        assert executed.is_file()


def test_an_evidence_run_in_progress_lives_beside_the_committed_run(tmp_path):
    """It starts as a copy of the committed run (no NNI folder, resume file or itself), leaves
    that run's digest alone while it grows, and replaces it once complete."""
    from hofvsr_lib.reproduce import IN_PROGRESS, promote, results_digest, start_from

    committed = tmp_path / "results"
    for name, text in {"provenance.json": '{"profile": "cpu"}', "final/tip_seed0.json": "{}",
                       "final/tip_seed0.progress.pt": "x", "search/tpe/trials.csv": "a",
                       "search/tpe/nni/db": "x", "table3.csv": "cpu"}.items():
        (committed / name).parent.mkdir(parents=True, exist_ok=True)
        (committed / name).write_text(text)
    run = committed / IN_PROGRESS
    start_from(committed, run)
    files = {str(p.relative_to(run)) for p in run.rglob("*") if p.is_file()}
    assert files == {"provenance.json", "final/tip_seed0.json", "search/tpe/trials.csv",
                     "table3.csv"}
    before = results_digest(committed)
    (run / "final" / "tip_seed1.json").write_text("{}")  # a finished evidence run
    (run / "table3.csv").write_text("evidence")
    (run / "provenance.json").write_text('{"profile": "evidence"}')
    assert results_digest(committed) == before
    promote(run, committed)
    assert not run.exists() and (committed / "table3.csv").read_text() == "evidence"
    assert (committed / "final" / "tip_seed1.json").is_file()
    assert json.loads((committed / "provenance.json").read_text())["profile"] == "evidence"
