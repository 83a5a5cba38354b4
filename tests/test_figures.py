"""The speed tables and figures rendered from a tiny hand-made ``hofvsr bench`` file, and the
Figure 2 panels from tiny PNGs: what the book and the README show, without measuring."""

from __future__ import annotations

import json
import re

import matplotlib
import numpy as np
import pytest

from hofvsr_lib.report import figures, speed

matplotlib.use("Agg")


def net(model, key, size, fps, best="jit"):
    return {"model": model, "key": key, "input": f"{size}x{size}x1x3", "device": "cpu",
            "threads": 2, "fps": fps[best], "optimisation": best, "variants_fps": fps}


@pytest.fixture
def bench(tmp_path):
    rows = [net("ACCV-2018", "accv", 36, {"eager": 10.0, "jit": 20.0}),
            net("TIP-2020", "tip", 36, {"eager": 8.0, "jit": 16.0}),
            net("HO-FVSR", "hofvsr", 36, {"eager": 12.0, "jit": 24.0}),
            {"model": "Bicubic", "key": "bicubic", "input": "36x36x1x3", "device": "cpu",
             "fps": 900.0, "optimisation": "eager"},
            {"model": "pipeline HO-FVSR", "video": "clip 640x360", "mean_face_crop": 304.0,
             "fps": 0.5, "network_ms": 1800.0, "splice_ms": 20.0, "wall_ms": 2000.0,
             "outside_network_share": 0.1, "half": False, "device": "cpu"},
            {"detect_every": 2, "video": "clip", "detect_ms_per_frame": 20.0,
             "iou_vs_every_frame": 0.99, "jitter_percent": 0.3}]
    path = tmp_path / "bench.json"
    path.write_text(json.dumps({"provenance": {
        "machine": {"cpu_count": 2, "load_average": [1.0, 1.0, 1.0]},
        "started": "2026-11-26T00:00:00", "versions": {"torch": "2.14.1"}}, "results": rows}))
    return path


def test_network_tables_and_ratios(bench):
    rows, _ = speed.load_bench(bench)
    table = speed.network_speed_table(rows).xs("36x36", level="input")
    assert table.loc["HO-FVSR", "jit"] == 24.0 and table.loc["HO-FVSR", "best"] == "jit"
    assert table.loc["HO-FVSR", "paper (GTX 1080Ti)"] == pytest.approx(47.62)
    ratios = speed.network_speed_ratios(rows).xs("36x36", level="input")
    assert ratios.loc["HO-FVSR / TIP-2020", "jit"] == pytest.approx(1.5)
    assert ratios.loc["HO-FVSR / ACCV-2018", "paper"] == pytest.approx(47.62 / 32.26)


def test_pipeline_and_cadence_tables_show_dashes_not_nan(bench):
    rows, _ = speed.load_bench(bench)
    shown = figures.for_reading(speed.pipeline_table(rows))
    assert shown.loc["HO-FVSR", "decode"] == "—" and shown.loc["HO-FVSR", "network"] == 1800
    assert speed.cadence_table(rows).loc[("clip", 2), "IoU with every frame"] == 0.99
    markdown = speed.speed_markdown([bench])
    assert "nan" not in markdown.lower() and "10%" in markdown
    assert re.search(r"\| HO-FVSR +\| +12\.0 \| +24\.0 \| \*\*jit\*\*", markdown)


def test_speed_figure_and_figure2_panels(bench, tmp_path):
    assert len(speed.speed_figure(bench).axes) == 2
    folder = tmp_path / "figure2"
    folder.mkdir()
    for panel in ("lr", "bicubic", "hofvsr", "original"):
        matplotlib.image.imsave(folder / f"clip_{panel}.png", np.zeros((8, 8, 3)))
    (folder / "figure2.json").write_text(json.dumps({"results": [
        {"video": "clip", "psnr_y": {"bicubic": 30.0, "hofvsr": 31.0}}]}))
    fig = figures.figure2_panels(folder)
    assert [ax.get_title() for ax in fig.axes] == [
        "input (shrunk x4)", "bicubic x4, 30.00 dB", "HO-FVSR, 31.00 dB", "original"]


def test_trial_table_and_candidates_of_one_search():
    import pandas as pd

    trials = pd.DataFrame({
        "res_channels": [64, 32], "n_res_blocks": [5, 1], "up_channels": [64, 32],
        "source": ["startup", "model"], "params": [496_609, 400_000], "gflops": [2.02, 1.9],
        "epochs_done": [4, 2], "final_psnr": [31.5, np.nan], "final_ssim": [0.88, np.nan],
        "duration_s": [20.0, 9.0], "status": ["SUCCEEDED", "EARLY_STOPPED"],
        "epoch_psnr": ["[31.0, 31.2, 31.4, 31.5]", "[30.9, 31.0]"]})
    table = figures.trial_table(trials)
    assert list(table["configuration"]) == ["(64, 5, 64)", "(32, 1, 32)"]
    assert table.loc[2, "val PSNR (dB)"] == "—" and table.index.name == "trial"
    fig = figures.search_candidates(trials, "tpe")
    assert len(fig.axes[0].lines) == 2 and len(fig.axes[1].texts) == 1


def test_table2_column_and_configuration_index_read_without_nan():
    import pandas as pd

    t2 = pd.DataFrame({"search": ["tpe", "smac"], "trials": [14, 12], "best_psnr": [31.9718, None],
                       "trial_time": ["6m19s", "5m01s"], "trial_time_s": [379.4, 301.0]})
    column = figures.table2_column(t2, "smac")
    assert list(column.columns) == ["smac"] and "trial_time_s" not in column.index
    assert column.loc["best_psnr", "smac"] == "—" and column.loc["trials", "smac"] == 12
    agreement = pd.DataFrame({"res_channels": [64, 32], "n_res_blocks": [5, 1],
                              "up_channels": [64, 32], "cached": [31.774, float("nan")]})
    table = figures.by_configuration(agreement, 2)
    assert list(table.index) == ["(64, 5, 64)", "(32, 1, 32)"]
    assert list(table.columns) == ["cached"] and list(table["cached"]) == [31.77, "—"]


def test_bench_sections_in_reading_order(bench):
    import pandas as pd

    items = speed.bench_sections(bench)
    assert [type(i).__name__ for i in items[:2]] == ["Markdown", "Figure"]
    assert "2-core CPU" in items[0].data and "load average 1.0" in items[0].data
    tables = [i for i in items if isinstance(i, pd.DataFrame)]
    assert len(tables) == 4  # speeds, ratios, pipeline, cadence
    assert not any(t.isna().any().any() for t in tables)


def test_dataset_chapter_tables_and_figures(small_data):
    from hofvsr_lib.data.manifest import read_manifest
    from hofvsr_lib.report import dataset

    manifest = read_manifest(small_data)
    per_split, per_video = dataset.dataset_tables(manifest)
    assert per_split["crops"].sum() == per_video["crops"].sum() == len(manifest)
    assert set(per_video.index.get_level_values("person")) == set(manifest["person"])
    assert per_video["face (px)"].dtype.kind == "i"
    assert len(dataset.face_sizes(manifest, 144).axes) == 2
    figure = dataset.sample_windows(small_data, {"train": 1, "val": 1, "test": 1})
    assert len(figure.axes) == 4 * manifest["split"].nunique()
    skipped = dataset.skipped_table([("a.mp4", "empty file")])
    assert skipped.loc["a.mp4", "reason"] == "empty file"


def test_winner_and_best_trials_read_the_committed_searches():
    from pathlib import Path

    results = Path(__file__).parent.parent / "results"
    table = figures.winner_table(results)
    assert table.loc["paper (TPE, 20 epochs per candidate)", "configuration"] == "(64, 5, 64)"
    assert table.loc["paper (TPE, 20 epochs per candidate)", "validation PSNR (dB)"] == "—"
    best = figures.best_trials(results, 5)
    assert list(best.index) == [1, 2, 3, 4, 5]
    assert best["val PSNR (dB)"].is_monotonic_decreasing
    assert best.loc[1, "configuration"] == table.loc["ours (this profile)", "configuration"]
