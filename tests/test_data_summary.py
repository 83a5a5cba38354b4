"""The dataset summary (results/dataset/): counts per person and split, provenance, and a
re-render that leaves it as it was."""

import json
from pathlib import Path

import pandas as pd
from fixtures_data import SMALL_CONFIG

from hofvsr_lib.data.builder import build_dataset
from hofvsr_lib.data.manifest import MANIFEST
from hofvsr_lib.data.sources import sha256_file
from hofvsr_lib.report import dataset


def test_summary_counts_and_is_left_alone_by_a_rerender(small_data, tmp_path):
    def build():  # every video reused from the session's build
        return build_dataset(small_data.parent / "videos", small_data, SMALL_CONFIG,
                             device="cpu", progress=False, log=lambda *_: None)

    report = build()
    path = dataset.write_summary(report, tmp_path, "smoke")
    per_split, per_person, skipped = dataset.summary_tables(tmp_path)
    assert list(per_split.index) == ["train", "val", "test"] and skipped.empty
    assert per_split["persons"].sum() == len(per_person) == 3
    assert per_split["crops"].sum() == len(report.manifest)
    persons = pd.read_csv(tmp_path / dataset.PERSONS)  # the CSV holds the crops and clips too
    assert persons["crops"].sum() == len(report.manifest) and 29.97 in set(persons["fps"])
    assert set(persons["clips"]) == {"carphone", "single_face", "cap13"}
    # one sequence of 30 crops per person: 28 windows of three consecutive crops each
    assert (per_person["windows"] == 28).all()
    person = per_person.reset_index().set_index("person")
    assert person.loc["car", "size"] == "176x144" and person.loc["car", "fps"] == 30.0
    assert person.loc["car", "grade"] == "webcam"  # a 57 px face
    assert person.loc["pyfeat", "grade"] == "high-res"  # 214 px
    provenance = json.loads(path.read_text())["provenance"]
    assert provenance["manifest_sha256"] == sha256_file(small_data / MANIFEST)
    assert provenance["profile"] == "smoke" and provenance["versions"]["torch"]
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    dataset.write_summary(build(), tmp_path, "smoke")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_every_committed_search_and_final_run_is_on_the_committed_dataset():
    results = Path(__file__).resolve().parents[1] / "results"
    sha = json.loads((results / "dataset" / "summary.json").read_text())["provenance"][
        "manifest_sha256"]
    table = dataset.trained_on(results, sha)
    assert {f"search {s}" for s in ("tpe", "random", "smac")} <= set(table.index)
    assert "final run hofvsr_64_5_64_seed0" in table.index
    assert table["same as this dataset"].all(), table[~table["same as this dataset"]]
    assert not dataset.trained_on(results, "0" * 64)["same as this dataset"].any()
