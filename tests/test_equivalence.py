"""A dataset rebuilt on another machine: measured against committed test scores, declared
equal only when every test window's bicubic PSNR matches, and then accepted by the records'
dataset check; one call declares it against every dataset the runs were made on
(hofvsr_lib/data/equivalence.py)."""

from __future__ import annotations

import json
import shutil

import pytest

from hofvsr_lib.data import equivalence
from hofvsr_lib.data.dataset import FaceWindows
from hofvsr_lib.data.manifest import check_same_dataset, manifest_sha256
from hofvsr_lib.models import build_model
from hofvsr_lib.report import dataset
from hofvsr_lib.training.final import score_run

RECORDED = "f" * 64  # the manifest the committed results name


def _committed(results, face_data, shift_db: float = 0.0):
    """A results folder with one final run made on RECORDED, its test scores bicubic's."""
    scores = score_run(build_model("bicubic"), FaceWindows(face_data, "test"), "cpu", 0)
    scores.loc[0, "bicubic_psnr"] += shift_db
    (results / "final").mkdir(parents=True)
    scores.to_csv(results / "final" / "hofvsr_64_5_64_scores.csv", index=False)
    (results / "final" / "hofvsr_64_5_64_seed0.json").write_text(
        json.dumps({"provenance": {"manifest_sha256": RECORDED}}))
    return results / "final" / "hofvsr_64_5_64_scores.csv"


def test_a_measured_rebuild_is_declared_and_accepted(face_data, tmp_path, monkeypatch):
    scores = _committed(tmp_path, face_data)
    current = manifest_sha256(face_data)
    with pytest.raises(ValueError, match="was made on dataset ffffffff"):
        check_same_dataset(RECORDED, face_data, "a record")
    measured = equivalence.declare_equivalent(face_data, tmp_path, scores)
    assert measured["same_windows"] and measured["max_abs_db"] < 1e-4
    assert equivalence.declared(RECORDED, current, tmp_path)
    assert equivalence.declared(current, RECORDED, tmp_path)  # a measured pair, either way round
    assert not equivalence.declared(current, "0" * 64, tmp_path)
    row = dataset.trained_on(tmp_path, current).loc["final run hofvsr_64_5_64_seed0"]
    assert row["rebuilt"] and row["same as this dataset"]  # the dataset chapter says so
    check_same_dataset(RECORDED, face_data, scores.with_name("hofvsr_64_5_64_seed0.json"))
    with pytest.raises(ValueError, match="was made on dataset ffffffff"):  # not a record here
        check_same_dataset(RECORDED, face_data, "a record")
    monkeypatch.setattr(equivalence, "COMMITTED", tmp_path)
    check_same_dataset(RECORDED, face_data, "a record")  # declared in the repository's results
    equivalence.declare_equivalent(face_data, tmp_path, scores)  # once only
    entries = json.loads((tmp_path / equivalence.EQUIVALENT).read_text())["entries"]
    assert [(e["recorded"], e["rebuilt"]) for e in entries] == [(RECORDED, current)]


def test_a_different_crop_is_not_a_rebuild(face_data, tmp_path):
    scores = _committed(tmp_path, face_data, shift_db=0.01)
    with pytest.raises(ValueError, match="not a rebuild of dataset ffffffff"):
        equivalence.declare_equivalent(face_data, tmp_path, scores)
    measured = equivalence.declare_rebuild(face_data, tmp_path, strict=False)  # notebook 01
    assert not measured[RECORDED]["declared"] and measured[RECORDED]["max_abs_db"] > 1e-3
    assert not dataset.rebuild_table(measured).loc[RECORDED[:12], "declared a rebuild"]
    assert not (tmp_path / equivalence.EQUIVALENT).exists()


def test_a_rebuild_is_declared_against_every_dataset_the_runs_were_made_on(face_data, tmp_path):
    scores = _committed(tmp_path, face_data)
    other = "e" * 64  # runs made on a second machine's build
    shutil.copy(scores, tmp_path / "final" / "edsr_scores.csv")
    (tmp_path / "final" / "edsr_seed0.json").write_text(
        json.dumps({"provenance": {"manifest_sha256": other}}))
    current = manifest_sha256(face_data)
    measured = equivalence.declare_rebuild(face_data, tmp_path)
    assert set(measured) == {RECORDED, other} and all(m["declared"] for m in measured.values())
    assert equivalence.declared(other, current, tmp_path)
    assert equivalence.declared(RECORDED, current, tmp_path)
    assert equivalence.declare_rebuild(face_data, tmp_path) == {}  # nothing left to measure
