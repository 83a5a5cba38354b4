"""The one definition of a network (hofvsr_lib/spec.py): what is derived from it agrees with
what the committed records, checkpoints and caches hold."""

import json
from dataclasses import replace

import pytest
import torch

from hofvsr_lib.complexity import count_params
from hofvsr_lib.models import SOFVSR_ACCV, SOFVSR_TIP, build_model
from hofvsr_lib.models.classical_flow import ZeroFlow
from hofvsr_lib.models.common import phase_warps
from hofvsr_lib.models.losses import ofr_loss_accv, sofvsr_loss
from hofvsr_lib.paper import WINNER
from hofvsr_lib.profiles import get_profile
from hofvsr_lib.search.records import COLUMNS, TrialRecords, read_table
from hofvsr_lib.search.space import ORDINAL_SEARCH_SPACE, SEARCH_SPACE
from hofvsr_lib.spec import FLOW_KINDS, WHOLE_DIMENSIONS, FlowSpec, NetSpec, SRSpec
from hofvsr_lib.training.cached import (
    FLOW_RECIPE,
    _stem,
    cube_key,
    flow_net_key,
    flow_network,
)

WIDTHS = list(range(32, 321, 32))
BUDGET = get_profile("cpu").search.ofr_pretrain  # the committed searches' flow net


def test_the_search_space_and_record_columns_are_the_papers():
    assert json.dumps(SEARCH_SPACE) == json.dumps({
        "res_channels": {"_type": "choice", "_value": WIDTHS},
        "n_res_blocks": {"_type": "choice", "_value": list(range(1, 9))},
        "up_channels": {"_type": "choice", "_value": WIDTHS}})
    assert json.dumps(ORDINAL_SEARCH_SPACE) == json.dumps({
        "res_channels": {"_type": "quniform", "_value": [32, 320, 32]},
        "n_res_blocks": {"_type": "quniform", "_value": [1, 8, 1]},
        "up_channels": {"_type": "quniform", "_value": [32, 320, 32]}})
    assert COLUMNS[6:10] == ["source", "res_channels", "n_res_blocks", "up_channels"]


@pytest.mark.parametrize("spec", [WINNER, NetSpec(SRSpec(320, 8, 288)),
                                  NetSpec(flow=FlowSpec("dis")),
                                  NetSpec(SRSpec(32, 1, 32), FlowSpec(width=64, blocks=1))])
def test_spec_round_trips_through_params_rows_and_model_configs(spec):
    model = build_model("hofvsr", **spec.config(), bicubic_residual=True)
    assert NetSpec.of(model.config) == spec and model.flow == spec.flow
    csv_row = {k: str(v) for k, v in spec.params().items()}  # as csv.DictReader gives it
    nni = {k: float(v) for k, v in spec.params().items()}  # as quniform proposes it
    for record in (csv_row, nni):
        assert NetSpec.of(record) == replace(spec, flow=FlowSpec())  # flow is not searched
    assert NetSpec.of(spec.flat()) == spec


def test_the_paper_winner_is_the_default_and_keeps_its_names_and_counts():
    assert WINNER == NetSpec() and WINNER.config() == {
        "res_channels": 64, "n_res_blocks": 5, "up_channels": 64}
    assert (WINNER.label, WINNER.display, WINNER.slug) == (
        "(64, 5, 64)", "HO-FVSR (64, 5, 64)", "hofvsr_64_5_64")
    assert build_model("hofvsr").flow == FlowSpec()  # the constructor's defaults, the spec's
    assert count_params(build_model("hofvsr", **WINNER.config())) == 496_609
    small = build_model("hofvsr", flow_width=64, flow_blocks=1)
    assert count_params(small.ofr) < count_params(build_model("hofvsr").ofr)


def test_flow_kinds_know_whether_they_are_pretrained():
    for kind in FLOW_KINDS:
        flow = FlowSpec(kind)
        network = flow_network(flow)
        assert network.flow == flow
        assert flow.learned == bool(list(network.ofr.parameters()))
    assert type(flow_network(FlowSpec())) is SOFVSR_TIP  # the holder of the committed caches
    with pytest.raises(ValueError, match="no width"):
        FlowSpec("dis", width=64)
    with pytest.raises(ValueError, match="unknown flow"):
        FlowSpec("farneback")


def test_a_proposal_drops_the_sizes_its_flow_kind_lacks():
    """A tuner proposes every flow size with every kind: NetSpec.of never raises on it, and
    all the proposals of one network are one spec."""
    dis = {"flow": "dis", "flow_width": 32.0, "flow_blocks": "1"}  # as NNI and a CSV give it
    assert NetSpec.of(dis) == NetSpec(flow=FlowSpec("dis"))
    assert len({NetSpec.of({**dis, "flow_width": w, "flow_blocks": b})
                for w in WHOLE_DIMENSIONS["flow_width"]
                for b in WHOLE_DIMENSIONS["flow_blocks"]}) == 1
    assert NetSpec.of({"flow": "none", "flow_width": 64}).flow == FlowSpec("none")
    assert NetSpec.of({"flow": "tip", "flow_width": 32, "flow_blocks": 1}).flow == FlowSpec(
        width=32, blocks=1)
    assert NetSpec.of({"res_channels": float("nan"), "flow": ""}) == NetSpec()  # empty cells
    assert NetSpec(flow=FlowSpec("dis")).whole_label == "(64, 5, 64), DIS flow"
    assert NetSpec().whole_label == NetSpec().label == "(64, 5, 64)"


def test_a_network_of_another_flow_has_its_own_name_in_files_and_tables():
    """Two networks of one (c, n, u) and different flows never share a file name."""
    sr = SRSpec(32, 1, 32)
    flows = [FlowSpec(), FlowSpec(width=128, blocks=1), FlowSpec("accv"), FlowSpec("dis"),
             FlowSpec("none")]
    assert [NetSpec(sr, f).slug for f in flows] == [
        "hofvsr_32_1_32", "hofvsr_32_1_32_tip128x1", "hofvsr_32_1_32_accv",
        "hofvsr_32_1_32_dis", "hofvsr_32_1_32_noflow"]
    assert NetSpec(sr, FlowSpec("dis")).display == "HO-FVSR (32, 1, 32), DIS flow"


def test_a_single_frame_network_sees_the_centre_frame_alone():
    """flow none: the draft cube of the centre-only input (the centre frame warped by zero
    motion, to float precision), without a flow or a warp; the loss is the SR net's alone."""
    model = build_model("hofvsr", flow="none").eval()
    x = torch.rand(2, 3, 1, 8, 10)
    cube, flows = model.draft_cube(x)
    assert flows == [] and torch.equal(cube, x[:, 1].expand(-1, 33, -1, -1))
    zero = ZeroFlow()(x[:, 1], x[:, 1])[2]
    assert torch.allclose(torch.cat([x[:, 1], *phase_warps(x[:, 1], zero, 4) * 2], 1), cube,
                          atol=1e-5)
    with torch.no_grad():
        assert torch.equal(model(x), model(x[:, [1, 1, 1]]))  # the neighbours are not seen
    sr, flows = model.train()(x)
    total, parts = sofvsr_loss(model, sr, sr.detach() + 0.1, flows, x, x)
    assert parts["ofr"] == 0.0 and total.item() == pytest.approx(0.01, rel=1e-4)


def test_the_loss_follows_the_models_flow_family():
    model = SOFVSR_ACCV().train()
    lr, hr = torch.rand(1, 3, 1, 8, 8), torch.rand(1, 3, 1, 32, 32)
    sr, flows = model(lr)
    _, parts = sofvsr_loss(model, sr, hr[:, 1], flows, lr, hr)
    assert parts["ofr"] == pytest.approx(float(ofr_loss_accv(flows, lr, hr).detach()))


@pytest.fixture
def data(tmp_path):
    (tmp_path / "manifest.csv").write_bytes(b"a test manifest\n")
    return tmp_path


def test_default_flows_keep_the_keys_of_the_committed_caches(data):
    """The key dicts as they were before the spec, and the file names a real call of the base
    commit (9080e8f) gave for this manifest."""
    from hofvsr_lib.data.manifest import manifest_sha256

    sha = manifest_sha256(data)
    settings = {k: v for k, v in vars(BUDGET).items() if v is not None}
    legacy = {"family": "tip", "manifest_sha256": sha, "ofr_pretrain": settings, "seed": 0,
              "recipe": FLOW_RECIPE}
    windows = {"train": None, "val": 32}
    assert flow_net_key(FlowSpec(), data, BUDGET, 0) == legacy
    assert flow_net_key(FlowSpec("dis"), data, BUDGET, 3) == {
        "family": "dis", "manifest_sha256": sha, "seed": 0}
    assert cube_key(FlowSpec(), data, BUDGET, 0, windows) == {
        **legacy, "windows": windows, "centre_only": False}
    stems = {kind: (_stem("ofr", flow_net_key(FlowSpec(kind), data, BUDGET, 0)),
                    _stem("cubes", cube_key(FlowSpec(kind), data, BUDGET, 0, windows)))
             for kind in FLOW_KINDS}
    assert stems == {"tip": ("ofr-tip-seed0-ede1cf407e", "cubes-tip-seed0-c628036b6e"),
                     "accv": ("ofr-accv-seed0-aedfcedfc1", "cubes-accv-seed0-e32981396f"),
                     "dis": ("ofr-dis-seed0-b489c1249a", "cubes-dis-seed0-8f6114a876"),
                     "none": ("ofr-none-seed0-73f5586e7c", "cubes-none-seed0-66ee82f114")}
    # a single-frame network's cubes are always the centre-only input's
    assert cube_key(FlowSpec("none"), data, BUDGET, 0, windows)["centre_only"]


def test_another_flow_width_is_another_flow_net(data):
    key = flow_net_key(FlowSpec(width=64), data, BUDGET, 0)
    assert key["width"] == 64 and "blocks" not in key
    assert key != flow_net_key(FlowSpec(), data, BUDGET, 0)
    assert SOFVSR_ACCV.flow.key() == {"family": "accv"}


def test_records_written_before_a_field_was_searched_read_as_its_default(tmp_path):
    path = tmp_path / "trials.csv"
    older = [c for c in COLUMNS if c != "up_channels"]
    path.write_text(",".join(older) + "\n" + ",".join(
        {"experiment_id": "e", "trial_id": "t", "res_channels": "32",
         "n_res_blocks": "1"}.get(c, "") for c in older) + "\n")
    row = TrialRecords(path).rows[("e", "t")]
    assert NetSpec.of(row) == NetSpec(SRSpec(32, 1, 64))
    assert read_table(path)["up_channels"].tolist() == [64]
