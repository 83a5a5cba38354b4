"""The whole-network search's Pareto front and hypervolume (hofvsr_lib/report/front.py): exact
values on hand-made points and records."""

import pandas as pd
import pytest

from hofvsr_lib.report.front import (
    REFERENCE,
    dominates,
    hypervolume,
    hypervolumes,
    non_dominated,
    pareto_front,
    picks,
    plane,
    target_checks,
    whole_trials,
)

# (validation PSNR dB, latency ratio to ACCV-2018)
FRONT = [(30.0, 1.0), (31.0, 2.0), (29.0, 0.5)]


def test_dominance_and_non_dominated_filtering():
    assert dominates((30.0, 1.0), (30.0, 2.0)) and dominates((30.5, 1.0), (30.0, 1.0))
    assert not dominates((30.0, 1.0), (30.0, 1.0)) and not dominates((31.0, 2.0), (30.0, 1.0))
    points = [*FRONT, (30.0, 2.0), (30.0, 1.0), (28.0, 0.6)]
    assert non_dominated(points) == [0, 1, 2, 4]  # an equal point is kept, dominated ones not
    assert non_dominated([]) == []


def test_hypervolume_is_the_dominated_area_in_db_times_doublings():
    # reference (25 dB, ratio 4 = 2 doublings): strips of one doubling each from log2 ratio
    # -1, 0 and 1, as high as the best PSNR so far: 4 + 5 + 6 dB
    assert REFERENCE == (25.0, 4.0)
    assert hypervolume(FRONT) == 15.0
    # dominated points, and points not better than the reference in both, add nothing
    assert hypervolume([*FRONT, (30.0, 2.0), (24.0, 0.25), (32.0, 4.0), (33.0, 8.0)]) == 15.0
    assert hypervolume([(26.0, 1.0)], reference=(25.0, 2.0)) == 1.0
    assert hypervolume([(27.0, 0.25)], reference=(25.0, 1.0)) == 4.0
    assert hypervolume([]) == 0.0


def test_fronts_and_hypervolumes_per_strategy_from_records():
    rows = [("tpe", "SUCCEEDED", 30.0, 1.0, "tip"), ("tpe", "SUCCEEDED", 29.0, 0.5, "dis"),
            ("tpe", "EARLY_STOPPED", None, 0.25, "none"),
            ("smac", "SUCCEEDED", 31.0, 2.0, "tip"), ("smac", "SUCCEEDED", 30.0, 2.0, "none"),
            ("random", "FAILED", None, None, "tip")]
    trials = pd.DataFrame(
        [{"strategy": s, "status": st, "final_psnr": p, "latency_ratio": r, "flow": f,
          "flow_width": 32, "flow_blocks": 1, "res_channels": 64, "n_res_blocks": 5,
          "up_channels": 64} for s, st, p, r, f in rows])
    front = pareto_front(trials)
    assert front["network"].tolist() == ["(64, 5, 64), DIS flow",
                                         "(64, 5, 64), TIP-2020 flow net 32x1",
                                         "(64, 5, 64), TIP-2020 flow net 32x1"]
    assert front[["final_psnr", "latency_ratio"]].to_numpy().tolist() == [
        [29.0, 0.5], [30.0, 1.0], [31.0, 2.0]]
    table = hypervolumes(trials).set_index("strategy")
    assert table.loc["tpe", ["trials", "front"]].tolist() == [2, 2]
    # tpe: 4 dB over [-1, 0] + 5 dB over [0, 2]; smac: 6 dB over [1, 2]; pooled: 15
    assert table["hypervolume"].to_dict() == pytest.approx({"smac": 6.0, "tpe": 14.0,
                                                            "all": 15.0})
    assert table.loc["smac", "front"] == 1 and table.loc["all", "front"] == 3


def test_a_results_folder_without_whole_searches_has_an_empty_plane(tmp_path):
    assert plane(tmp_path).empty and target_checks(plane(tmp_path)).empty
    assert whole_trials(tmp_path).empty and "latency_ratio" in whole_trials(tmp_path)


def test_picks_are_the_targets_networks_then_the_front_then_the_rest():
    """Named networks are never picked; a network in two strategies is picked once, at its
    best point; the targets' choice comes first, whatever its PSNR."""
    def point(strategy, network, psnr, ratio, on_front, key=None, flow="tip"):
        return {"strategy": strategy, "key": key, "network": network, "final_psnr": psnr,
                "latency_ratio": ratio, "on_front": on_front, "res_channels": 32,
                "n_res_blocks": int(psnr) % 7 + 1, "up_channels": 32, "flow": flow}
    points = pd.DataFrame([
        point("reference", "EDSR", 33.0, 0.5, True, key="edsr", flow=None),
        point("smac", "(32, 5, 32), DIS flow", 32.0, 0.1, True, flow="dis"),
        point("tpe", "(32, 5, 32), DIS flow", 31.0, 0.1, False, flow="dis"),
        point("tpe", "(32, 3, 32)", 30.0, 2.0, False),
        point("random", "(32, 2, 32)", 29.0, 0.05, True),
        point("random", "(32, 1, 32)", 28.0, 3.0, False),
    ])
    checks = pd.DataFrame([{"target": "fast", "network": "(32, 2, 32)"},
                           {"target": "half", "network": None},
                           {"target": "edsr", "network": "EDSR"}])
    chosen = picks(points, checks, 3)
    assert [(p["network"], p["why"]) for p in chosen] == [
        ("(32, 2, 32)", "fast"), ("(32, 5, 32), DIS flow", "on the front"),
        ("(32, 3, 32)", "best of the trials off the front")]
    assert chosen[1]["final_psnr"] == 32.0 and chosen[1]["spec"]["flow"] == "dis"
    assert chosen[1]["spec"]["n_res_blocks"] == 5
    assert len(picks(points, checks, 1)) == 1 and picks(points.iloc[:1], checks, 3) == []
