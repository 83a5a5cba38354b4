"""``hofvsr bench``: a smoke run (few repeats) of the real measurement, no speed asserted."""

from __future__ import annotations

import copy
import json

import pytest
import torch

from hofvsr_lib.bench import VARIANTS, bench_pipeline, make_variant
from hofvsr_lib.cli import main
from hofvsr_lib.models import build_model


def test_bench_json_lists_the_three_networks_and_bicubic(tmp_path, capsys):
    out = tmp_path / "bench" / "bench.json"
    assert main(["bench", "--json", "--repeats", "2", "--warmup", "1", "--device", "cpu",
                 "--pipeline-frames", "0", "--out", str(out)]) == 0
    rows = json.loads(capsys.readouterr().out)
    by_model = {r["model"]: r for r in rows}
    assert set(by_model) == {"HO-FVSR", "TIP-2020", "ACCV-2018", "Bicubic"}
    assert by_model["Bicubic"]["key"] == "bicubic"  # the registry's parameter-free model
    common = {by_model[m]["optimisation"] for m in ("HO-FVSR", "TIP-2020", "ACCV-2018")}
    assert len(common) == 1 and common <= set(VARIANTS)  # one optimisation for all three
    for r in rows:
        assert r["fps"] > 0 and r["device"] == "cpu" and r["threads"] >= 1
    for m in ("HO-FVSR", "TIP-2020", "ACCV-2018"):
        assert set(by_model[m]["variants_fps"]) == set(VARIANTS)
        assert by_model[m]["draft_cube_ms"] > 0 and by_model[m]["sr_ms"] > 0
    saved = json.loads(out.read_text())
    assert saved["results"] == rows and saved["provenance"]["machine"]["torch_threads"] >= 1


@pytest.mark.parametrize("name", ["hofvsr", "accv"])
def test_batched_ofr_variant_gives_the_models_output(name):
    model = build_model(name).eval()
    x = torch.rand(2, 3, 1, 20, 24)
    with torch.inference_mode():
        ref = model(x)
        out = make_variant(copy.deepcopy(model), "batched_ofr", x)(x)
    assert torch.allclose(out, ref, atol=1e-5)


def test_pipeline_breakdown_on_a_real_clip():
    rows = bench_pipeline(torch.device("cpu"), 2, None, video="carphone")
    assert [r["model"] for r in rows] == ["pipeline HO-FVSR", "pipeline bicubic"]
    net, bic = rows
    assert net["frames"] == bic["frames"] == 2 and net["faces"] == 2 and bic["faces"] == 0
    assert net["network_ms"] > 0 and bic["network_ms"] == 0 and net["fps"] > 0
    assert net["video"] == "carphone 176x144"
