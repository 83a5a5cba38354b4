"""OpenCV's DIS optical flow as a flow "net" with the OFR nets' contract (no parameters).

``DISFlow()(neighbour, centre)`` takes LR Y frames (B, 1, h, w) in [0, 1] and returns the same
three levels as :class:`~hofvsr_lib.models.sofvsr_tip.OFRNet`: (pooled LR, LR, HR) flows in
pixel units of each level, bringing the neighbour onto the centre
(``centre(p) ~ neighbour(p + flow(p))``, :func:`~hofvsr_lib.models.common.flow_warp`'s
convention, which is also what ``cv2.DISOpticalFlow.calc(centre, neighbour)`` returns). The
flow is computed once on the LR frames (8-bit, as OpenCV takes them) and carried to the other
levels by :func:`~hofvsr_lib.models.common.upsample_flow` / 2x2 pooling: the reference that a
classical method reaches on exactly what a flow net sees.

:class:`ZeroFlow` is the "flow" of a network without one (zero motion, the same contract).
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .common import upsample_flow

PRESETS = {"ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
           "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
           "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM}


class DISFlow(nn.Module):
    """DIS flow (``preset``: ultrafast, fast or medium) for x``scale`` video networks."""

    def __init__(self, scale: int = 4, preset: str = "medium"):
        super().__init__()
        if preset not in PRESETS:
            raise ValueError(f"unknown DIS preset {preset!r}; choose one of {sorted(PRESETS)}")
        self.scale = scale
        self.preset = preset
        self._dis = cv2.DISOpticalFlow_create(PRESETS[preset])

    @staticmethod
    def _to_u8(frames: torch.Tensor) -> np.ndarray:
        return (frames.detach().float().clamp(0, 1) * 255).round().byte().cpu().numpy()

    def lr_flow(self, neighbour: torch.Tensor, centre: torch.Tensor) -> torch.Tensor:
        """(B, 1, h, w) frames -> (B, 2, h, w) LR flow of the neighbour onto the centre."""
        nb, ce = self._to_u8(neighbour[:, 0]), self._to_u8(centre[:, 0])
        flows = [self._dis.calc(c, n, None) for c, n in zip(ce, nb, strict=True)]
        out = torch.from_numpy(np.stack(flows)).permute(0, 3, 1, 2)
        return out.to(device=centre.device, dtype=centre.dtype)

    def forward(self, neighbour: torch.Tensor, centre: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """(B, 1, h, w) frames, h and w even -> flows (level 1, level 2, HR level 3)."""
        flow = self.lr_flow(neighbour, centre)
        return F.avg_pool2d(flow, 2) / 2, flow, upsample_flow(flow, self.scale)


class ZeroFlow(nn.Module):
    """Zero motion with the OFR nets' contract: the flow of a single-frame network."""

    def __init__(self, scale: int = 4):
        super().__init__()
        self.scale = scale

    def forward(self, neighbour: torch.Tensor, centre: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """(B, 1, h, w) frames, h and w even -> zero flows (level 1, level 2, HR level 3)."""
        b, _, h, w = centre.shape
        return tuple(centre.new_zeros(b, 2, h * f // 2, w * f // 2) for f in (1, 2, 2 * self.scale))
