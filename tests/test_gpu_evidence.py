"""The ``gpu`` profile's path, here on the CPU: a dataset pack (same pixels, fewer crops, a
manifest of its own) and ``tools/gpu_evidence.py --quick`` bringing back its 8 files."""

import json
import subprocess
import sys
from pathlib import Path

import torch

from hofvsr_lib.data.dataset import FaceWindows
from hofvsr_lib.data.manifest import manifest_sha256, read_manifest
from hofvsr_lib.data.pack import pack_dataset

ROOT = Path(__file__).resolve().parent.parent


def test_a_pack_keeps_the_first_crops_of_each_person_pixel_for_pixel(small_data, tmp_path):
    pack = pack_dataset(small_data, tmp_path / "pack", max_per_person=12)
    full, packed = read_manifest(small_data), read_manifest(pack)
    assert packed.groupby("person").size().to_dict() == {p: 12 for p in full["person"].unique()}
    assert set(packed["split"] + packed["person"]) <= set(full["split"] + full["person"])
    assert manifest_sha256(pack) != manifest_sha256(small_data)
    assert json.loads((pack / "build.json").read_text())["packed_from"] == {
        "manifest_sha256": manifest_sha256(small_data), "max_per_person": 12, "crops": 36,
        "format": "webp (lossless)"}
    a, b = FaceWindows(pack, "all"), FaceWindows(small_data, "all")
    first = {w.pngs[1]: i for i, w in enumerate(b.windows)}
    i = 3
    j = first[a.windows[i].pngs[1].replace(".webp", ".png")]
    assert torch.equal(a.hr_frames(i), b.hr_frames(j))
    assert sum(p.stat().st_size for p in pack.rglob("*.webp")) < sum(
        (small_data / png).stat().st_size for png in packed["png"].str.replace(".webp", ".png"))


def test_the_gpu_evidence_command_brings_back_its_files(small_data, tmp_path):
    pack = pack_dataset(small_data, tmp_path / "pack", max_per_person=12)
    out = tmp_path / "out"
    subprocess.run([sys.executable, str(ROOT / "tools" / "gpu_evidence.py"), "--data", str(pack),
                    "--out", str(out), "--work", str(tmp_path / "work"), "--device", "cpu",
                    "--quick"], check=True, capture_output=True)
    runs = ("hofvsr_64_5_64_joint", "tip_joint", "accv_joint")
    assert {p.name for p in out.iterdir()} == {
        "gpu_evidence.json", "checkpoints.tar", *(f"{r}_seed0.json" for r in runs),
        *(f"{r}_scores.csv" for r in runs)}
    summary = json.loads((out / "gpu_evidence.json").read_text())["runs"]
    assert [summary[f"{r}_seed0"]["steps"] for r in runs] == [2, 2, 2]
