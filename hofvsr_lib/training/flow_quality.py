"""Does a flow net align? The HR warp error of its flows against zero motion and DIS flow.

For every window (T-1, T, T+1) and each neighbour, the neighbour's HR frame is warped onto the
centre by an HR flow estimated from the LR frames, and the error is
``mean |centre_HR - warp(neighbour_HR, flow)|`` on Y with ``BORDER`` pixels shaved. Three flows
are compared on the same windows:

* ``zero``: no motion (the neighbour as it is): what a flow net that learnt nothing gets;
* ``dis``: OpenCV's DIS flow on the LR frames (:class:`~hofvsr_lib.models.classical_flow.DISFlow`),
  the reference a classical method reaches without parameters;
* ``net``: the network's own HR (level-3) flow, as it runs inside the network.

A flow net aligns when its ratio ``net / zero`` is well below 1, ideally near ``dis / zero``.
"""

from __future__ import annotations

import pandas as pd
import torch
from torch import nn
from torch.utils.data import Dataset

from ..data.dataset import FaceWindows, window_rows
from ..devices import resolve_device
from ..models.classical_flow import DISFlow
from ..models.common import flow_warp
from .loops import evenly_spaced

BORDER = 10  # HR pixels shaved on each side (the warp's border padding is not judged)
FLOWS = ("zero", "dis", "net")


def _l1(centre: torch.Tensor, warped: torch.Tensor) -> torch.Tensor:
    b = BORDER
    return (centre - warped)[..., b:-b, b:-b].abs().flatten(1).mean(1)


@torch.no_grad()
def warp_errors(flow_net: nn.Module | None, dataset: Dataset, device: str | torch.device |
                None = None, batch_size: int = 16) -> pd.DataFrame:
    """Per window and neighbour: person, sequence, window, neighbour (-1 / +1), the warp error
    of each flow of :data:`FLOWS` (``net`` only with a ``flow_net``) and the mean |flow| in HR
    pixels of DIS and of the net. ``dataset`` yields ``(lr (3,1,h,w), hr (3,1,4h,4w))``
    (a :class:`FaceWindows` with ``all_hr``, or an evenly spaced subset of one)."""
    device = resolve_device(device)
    dis = DISFlow()
    if flow_net is not None:
        flow_net = flow_net.to(device).eval()
    table = window_rows(dataset)
    rows = []
    for start in range(0, len(dataset), batch_size):
        items = [dataset[k] for k in range(start, min(start + batch_size, len(dataset)))]
        lr = torch.stack([x[0] for x in items]).to(device)
        hr = torch.stack([x[1] for x in items]).to(device)
        for k, step in ((0, -1), (2, +1)):
            flows = {"zero": torch.zeros_like(hr[:, 1]).repeat(1, 2, 1, 1),
                     "dis": dis(lr[:, k], lr[:, 1])[2]}
            if flow_net is not None:
                flows["net"] = flow_net(lr[:, k], lr[:, 1])[2]
            errors = {name: _l1(hr[:, 1], flow_warp(hr[:, k], f)) for name, f in flows.items()}
            for j in range(len(items)):
                row = {**table[start + j], "neighbour": step}
                row.update({name: float(e[j]) for name, e in errors.items()})
                row.update({f"{name}_px": float(flows[name][j].norm(dim=0).mean())
                            for name in flows if name != "zero"})
                rows.append(row)
    return pd.DataFrame(rows)


def summarise(errors: pd.DataFrame, by: str | None = "person") -> pd.DataFrame:
    """Mean warp error of each flow, and each flow's ratio to zero motion, overall (``by``
    None) or per value of ``by``; ratios are of the means (windows weigh alike)."""
    flows = [f for f in FLOWS if f in errors]
    pixels = [c for c in errors if c.endswith("_px")]
    groups = [("all", errors)] if by is None else errors.groupby(by, sort=True)
    rows = []
    for key, g in groups:
        row = {by or "windows": key, "n": len(g)}
        row.update({f: float(g[f].mean()) for f in flows})
        row.update({f"{f}/zero": float(g[f].mean() / g["zero"].mean()) for f in flows[1:]})
        row.update({c: float(g[c].mean()) for c in pixels})
        rows.append(row)
    return pd.DataFrame(rows)


def flow_report(flow_net: nn.Module | None, data: str, splits: dict[str, int | None],
                device: str | torch.device | None = None) -> dict:
    """Warp errors of ``flow_net`` on evenly spaced windows of each split (split -> count):
    ``{split: {"overall": {...}, "per_person": [{...}, ...]}}``, JSON-ready."""
    out = {}
    for split, count in splits.items():
        windows = evenly_spaced(FaceWindows(data, split, all_hr=True), count)
        errors = warp_errors(flow_net, windows, device)
        out[split] = {"overall": summarise(errors, None).iloc[0].to_dict(),
                      "per_person": summarise(errors).to_dict("records")}
    return out
