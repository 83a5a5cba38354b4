"""TIP-2020 SOF-VSR and HO-FVSR: the TIP optical-flow net + a parametric SR net.

HO-FVSR(c, n, u) = OFRNet (TIP-2020, 320 channels and 3 ResBs per CasResB in the paper) +
SRNet(c, n, u); the paper's search space is c in {32..320}, n in {1..8}, u in {32..320}
(:data:`hofvsr_lib.spec.DIMENSIONS`); its winner is (64, 5, 64).
TIP-2020 SOF-VSR is the same family with SRNet(320, 8, 64). Layer lists follow the paper's
Figure 1 and the TIP-2020 SOF-VSR network (tests/test_models.py asserts the exact counts).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..imaging import upscale
from ..spec import FlowSpec
from .classical_flow import DISFlow, ZeroFlow
from .common import (
    Flows,
    VideoSR,
    cas_resb,
    conv1x1,
    conv3x3,
    flow_warp,
    lrelu,
    standardise_pair,
    upsample_flow,
    zero_,
)
from .losses import ofr_loss_tip

FLOWS = ("tip", "dis", "none")  # HO-FVSR's flow: the TIP-2020 flow net, DIS flow or none


class OFRNet(nn.Module):
    """Optical-flow reconstruction net (TIP-2020): coarse-to-fine, three levels.

    Level 1 (pooled LR) and level 2 (LR) share RNN1 + RNN2; level 3 reuses RNN1 and ends in a
    x4 (two PixelShuffle(2)) head that predicts an HR flow residual. The pair is first
    standardised (:func:`~.common.standardise_pair`; without it the net does not learn
    sub-pixel motion on face crops within hundreds of steps, issue 19).
    """

    def __init__(self, width: int = 320, blocks: int = 3, scale: int = 4, head_width: int = 64):
        super().__init__()
        if scale != 4:
            raise ValueError("the TIP-2020 OFR head is built for x4")
        c, h = width, head_width
        self.rnn1 = nn.Sequential(conv3x3(4, c), lrelu(), cas_resb(blocks, c))
        self.rnn2 = conv3x3(c, 2)
        self.sr_head = nn.Sequential(
            cas_resb(blocks, c),
            conv1x1(c, h * 4), nn.PixelShuffle(2), lrelu(),
            conv1x1(h, h * 4), nn.PixelShuffle(2), lrelu(),
            conv3x3(h, 2),
        )
        self.scale = scale

    def forward(self, neighbour: torch.Tensor, centre: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """(B, 1, h, w) frames, h and w even -> flows (level 1, level 2, HR level 3)."""
        neighbour, centre = standardise_pair(neighbour, centre)
        pooled = F.avg_pool2d(torch.cat((neighbour, centre), 1), 2)
        zero = pooled.new_zeros(pooled.shape[0], 2, *pooled.shape[-2:])
        flow_l1 = self.rnn2(self.rnn1(torch.cat((pooled, zero), 1)))

        up_l1 = upsample_flow(flow_l1, 2)
        level2_in = torch.cat((flow_warp(neighbour, up_l1), centre, up_l1), 1)
        flow_l2 = self.rnn2(self.rnn1(level2_in)) + up_l1

        level3_in = torch.cat((flow_warp(neighbour, flow_l2), centre, flow_l2), 1)
        flow_l3 = self.sr_head(self.rnn1(level3_in)) + upsample_flow(flow_l2, self.scale)
        return flow_l1, flow_l2, flow_l3


class SRNet(nn.Module):
    """SR net(c, n, u): Conv3x3(33->c) + LReLU, CasResB(n, c), two x2 sub-pixel steps
    (1x1 conv c->4u and u->4u, each + PixelShuffle(2) + LReLU), Conv3x3(u->1, bias).

    ``bicubic_residual`` (default off, as in SOF-VSR) adds the bicubic upscale of the centre
    frame (channel 0 of the draft cube; :func:`~hofvsr_lib.imaging.upscale`, the LR protocol's
    kernel) to the output: no parameters, faster convergence.
    """

    def __init__(self, res_channels: int = 64, n_res_blocks: int = 5, up_channels: int = 64,
                 in_channels: int = 33, scale: int = 4, bicubic_residual: bool = False):
        super().__init__()
        if scale != 4:
            raise ValueError("SRNet upsamples x4 (two PixelShuffle(2) steps)")
        c, u = res_channels, up_channels
        self.body = nn.Sequential(
            conv3x3(in_channels, c), lrelu(),
            cas_resb(n_res_blocks, c),
            conv1x1(c, u * 4), nn.PixelShuffle(2), lrelu(),
            conv1x1(u, u * 4), nn.PixelShuffle(2), lrelu(),
            conv3x3(u, 1, bias=True),
        )
        self.scale = scale
        self.bicubic_residual = bicubic_residual
        if bicubic_residual:
            zero_(self.body[-1])

    def forward(self, cube: torch.Tensor) -> torch.Tensor:
        """(B, in_channels, h, w) draft cube -> (B, 1, 4h, 4w)."""
        out = self.body(cube)
        if self.bicubic_residual:
            out = out + upscale(cube[:, :1], self.scale)
        return out


class HOFVSR(VideoSR):
    """HO-FVSR(c, n, u): TIP-2020 OFRNet(flow_width, flow_blocks) + draft cube (33 channels:
    T, then the 16 phase warps of T-1 and of T+1) + SRNet(c, n, u); input and output as
    :class:`VideoSR`; ``self.flow`` is its :class:`~hofvsr_lib.spec.FlowSpec`.

    ``flow="dis"`` replaces the flow net by OpenCV's DIS flow of the LR frames
    (:class:`~hofvsr_lib.models.classical_flow.DISFlow`, no parameters): the same SR net fed
    draft cubes aligned by a classical flow (what a classical flow buys). ``flow="none"``: the
    centre frame alone in every channel of the draft cube (the cube of the centre-only input,
    ``FaceWindows(centre_only=True)``, without computing a flow or a warp), so the SR net keeps
    its input shape; its ``ofr`` is zero motion (:class:`~.classical_flow.ZeroFlow`).
    """

    name = "hofvsr"
    ofr_loss = staticmethod(ofr_loss_tip)  # the flow net's own loss (pretraining, joint)

    def __init__(self, res_channels: int = 64, n_res_blocks: int = 5, up_channels: int = 64,
                 scale: int = 4, bicubic_residual: bool = False, flow: str = "tip",
                 flow_width: int = 320, flow_blocks: int = 3):
        super().__init__()
        if flow not in FLOWS:
            raise ValueError(f"unknown flow {flow!r}; choose one of {FLOWS}")
        self.flow = FlowSpec(flow, flow_width, flow_blocks)
        # the flow's arguments only when not the defaults, so older checkpoints' configs read
        self.config = dict(res_channels=res_channels, n_res_blocks=n_res_blocks,
                           up_channels=up_channels, scale=scale,
                           bicubic_residual=bicubic_residual, **self.flow.config())
        self.scale = scale
        self.ofr = (OFRNet(flow_width, flow_blocks, scale) if self.flow.learned
                    else ZeroFlow(scale) if self.flow.single_frame else DISFlow(scale))
        self.sr = SRNet(res_channels, n_res_blocks, up_channels, 1 + 2 * scale * scale, scale,
                        bicubic_residual)

    def cube_frames(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [x[:, 1]]

    def draft_cube(self, x: torch.Tensor) -> tuple[torch.Tensor, Flows]:
        if self.flow.single_frame:  # no flows: the loss is the SR net's alone
            return x[:, 1].repeat(1, 1 + 2 * self.scale * self.scale, 1, 1), []
        return super().draft_cube(x)


class SOFVSR_TIP(HOFVSR):  # noqa: N801 (the paper's name)
    """TIP-2020 SOF-VSR: the same family with SRNet(320, 8, 64); 1,047,617 parameters."""

    name = "tip"

    def __init__(self, scale: int = 4, bicubic_residual: bool = False):
        super().__init__(320, 8, 64, scale, bicubic_residual)
        self.config = dict(scale=scale, bicubic_residual=bicubic_residual)
