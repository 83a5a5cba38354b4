"""SOF-VSR training losses: SR MSE plus the multi-level optical-flow (OFR) losses.

Flows come from the models as a list over the neighbours [T-1, T+1] of
(level 1 on 2x2-pooled LR, level 2 on LR, level 3 on HR); level ``k`` is judged by how well it
warps the neighbour onto the centre frame at its own resolution.

* TIP-2020 / HO-FVSR: ``MSE(SR, HR) + 0.01 * sum_neighbours (L3 + 0.2 L2 + 0.1 L1) / 2`` with
  ``L = mean |centre - warp(neighbour, flow)| + 0.1 * smoothness(flow)``.
* ACCV-2018: ``MSE(SR, HR) + 0.01 * sum_neighbours (L3 + 0.25 L2 + 0.125 L1) / 2`` with
  ``L = mean (centre - warp(neighbour, flow))^2 + 0.01 * smoothness(flow)``.

``smoothness`` is the L1 norm of the flow's forward differences (total variation), summed over
the two flow channels and averaged over pixels, of the flow in SOF-VSR's units: its code warps
with ``grid + flow * 31 / (w - 1)`` on the [-1, 1] grid, so one of its flow units is
``FLOW_UNIT_PX`` = 15.5 pixels of the level's image, and its smoothness weights were set for
flows in those units. Flows here are in pixels (``models.common``), so the smoothness term takes
``flow / FLOW_UNIT_PX``: with the weights applied to pixel flows instead, smoothness would
weigh 15.5 times more against the data term than in SOF-VSR.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .common import flow_warp

_TIP = dict(levels=(0.1, 0.2, 1.0), smooth=0.1, power=1)
_ACCV = dict(levels=(0.125, 0.25, 1.0), smooth=0.01, power=2)
OFR_WEIGHT = 0.01
FLOW_UNIT_PX = 15.5  # pixels per SOF-VSR flow unit (31 / (w - 1) of the half-width grid)


def flow_smoothness(flow: torch.Tensor) -> torch.Tensor:
    """Mean over pixels of |d flow / dx| + |d flow / dy| (both flow channels summed)."""
    dx = (flow[..., :-1, 1:] - flow[..., :-1, :-1]).abs()
    dy = (flow[..., 1:, :-1] - flow[..., :-1, :-1]).abs()
    return (dx + dy).sum(dim=1).mean()


def _level_frames(lr: torch.Tensor, hr: torch.Tensor) -> list[torch.Tensor]:
    """The (B, 3, 1, H, W) frame stacks each flow level is judged on: pooled LR, LR, HR."""
    b, t = lr.shape[:2]
    pooled = F.avg_pool2d(lr.flatten(0, 1), 2).unflatten(0, (b, t))
    return [pooled, lr, hr]


def _ofr_loss(flows: list, lr: torch.Tensor, hr: torch.Tensor, style: dict) -> torch.Tensor:
    frames = _level_frames(lr, hr)
    total = lr.new_zeros(())
    for neighbour_idx, neighbour_flows in zip((0, 2), flows, strict=True):
        for weight, stack, flow in zip(style["levels"], frames, neighbour_flows, strict=True):
            residual = stack[:, 1] - flow_warp(stack[:, neighbour_idx], flow)
            data = residual.abs().mean() if style["power"] == 1 else residual.pow(2).mean()
            smooth = flow_smoothness(flow / FLOW_UNIT_PX)
            total = total + weight * (data + style["smooth"] * smooth)
    return total / len(flows)


def ofr_loss_tip(flows: list, lr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
    """TIP-2020 OFR loss (unweighted by 0.01) for frames lr (B,3,1,h,w), hr (B,3,1,4h,4w)."""
    return _ofr_loss(flows, lr, hr, _TIP)


def ofr_loss_accv(flows: list, lr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
    """ACCV-2018 OFR loss (unweighted by 0.01)."""
    return _ofr_loss(flows, lr, hr, _ACCV)


def sofvsr_loss(model: nn.Module, sr: torch.Tensor, hr_centre: torch.Tensor, flows: list,
                lr: torch.Tensor, hr: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
    """Full training loss of ``model`` (its flows judged by its family's ``model.ofr_loss``)
    -> (total, parts); single-image models (no flows) get the MSE alone."""
    mse = F.mse_loss(sr, hr_centre)
    ofr = model.ofr_loss(flows, lr, hr) if flows else mse.new_zeros(())
    total = mse + OFR_WEIGHT * ofr
    return total, {"mse": float(mse.detach()), "ofr": float(ofr.detach())}
