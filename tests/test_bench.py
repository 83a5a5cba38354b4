"""``hofvsr bench``: smoke runs (few rounds) of the real measurements, no speed asserted."""

from __future__ import annotations

import copy
import json

import pytest
import torch

from hofvsr_lib.cli import main
from hofvsr_lib.facevideo.bench import (
    BICUBIC_FRAMES,
    VARIANTS,
    bench_pipeline,
    bench_warps,
    detection_cadence,
    make_variant,
)
from hofvsr_lib.models import build_model


def test_bench_json_lists_the_three_networks_and_bicubic(tmp_path, capsys):
    out = tmp_path / "bench" / "bench.json"
    assert main(["bench", "--json", "--repeats", "2", "--warmup", "1", "--device", "cpu",
                 "--pipeline-frames", "0", "--sizes", "36", "40", "--out", str(out)]) == 0
    rows = json.loads(capsys.readouterr().out)
    nets = [r for r in rows if "optimisation" in r]
    assert {r["input"] for r in nets} == {"36x36x1x3", "40x40x1x3"}
    by_model = {r["model"]: r for r in nets if r["input"] == "36x36x1x3"}
    assert set(by_model) == {"HO-FVSR", "TIP-2020", "ACCV-2018", "Bicubic"}
    assert by_model["Bicubic"]["key"] == "bicubic"  # the registry's parameter-free model
    common = {by_model[m]["optimisation"] for m in ("HO-FVSR", "TIP-2020", "ACCV-2018")}
    assert len(common) == 1 and common <= set(VARIANTS)  # one optimisation for all three
    for r in nets:
        assert r["fps"] > 0 and r["device"] == "cpu" and r["threads"] >= 1
    for m in ("HO-FVSR", "TIP-2020", "ACCV-2018"):
        assert set(by_model[m]["variants_fps"]) == set(VARIANTS)
        assert by_model[m]["draft_cube_ms"] > 0 and by_model[m]["sr_ms"] > 0
    [warps] = [r for r in rows if "torch_ms" in r]
    assert warps["torch_ms"] > 0 and warps["onnxruntime_ms"] > 0
    saved = json.loads(out.read_text())
    assert saved["results"] == rows and saved["provenance"]["machine"]["torch_threads"] >= 1
    assert "/" not in saved["provenance"]["settings"]["checkpoint"].split("results/")[0]


@pytest.mark.parametrize("variant", ["batched_ofr", "onnxruntime", "jit"])
@pytest.mark.parametrize("name", ["hofvsr", "accv"])
def test_variants_give_the_models_output(name, variant):
    model = build_model(name).eval()
    x = torch.rand(1, 3, 1, 20, 24)
    with torch.inference_mode():
        ref = model(x)
        out = make_variant(copy.deepcopy(model), variant, x)(x)
    assert torch.allclose(out, ref, atol=1e-5)


def test_warps_in_torch_and_onnxruntime():
    r = bench_warps(torch.device("cpu"), repeats=2, size=12)
    assert r["torch_ms"] > 0 and r["onnxruntime_ms"] > 0 and r["input"] == "12x12"


def test_pipeline_breakdown_on_a_real_clip():
    rows = bench_pipeline(torch.device("cpu"), 2, None, video="carphone")
    assert [r["model"] for r in rows] == ["pipeline HO-FVSR", "pipeline bicubic"]
    net, bic = rows
    assert net["frames"] == 2 and bic["frames"] == BICUBIC_FRAMES  # bicubic is cheap
    assert net["faces"] == 2 and bic["faces"] == 0
    assert net["network_ms"] > 0 and bic["network_ms"] == 0 and net["fps"] > 0
    assert 0 < net["outside_network_share"] < 1 and bic["outside_network_share"] == 1
    assert net["video"] == "carphone 176x144" and net["mean_face_crop"] % 16 == 0


def test_detection_cadence_compares_with_every_frame():
    rows = detection_cadence(torch.device("cpu"), frames=7, video="carphone", cadence=(1, 3))
    assert [r["detect_every"] for r in rows] == [1, 3]
    assert rows[0]["iou_vs_every_frame"] == 1.0 and 0.5 < rows[1]["iou_vs_every_frame"] <= 1
    assert all(r["frames_with_face"] == 7 for r in rows)
