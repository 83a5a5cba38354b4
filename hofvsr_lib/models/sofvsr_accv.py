"""ACCV-2018 SOF-VSR: a 3-level residual-dense OFR net and a residual-dense SR net.

Layer lists from the ACCV-2018 paper and network (tests/test_models.py asserts the counts):
617,772 OFR and 1,021,904 SR parameters, 1,639,676 in all at x4 with 3 frames. The only
activations are the
LeakyReLU(0.1) after the Conv3x3 of each RDB layer; every other conv (each flow level's first
conv and its two last ones, the SR net's first conv, its 1x1 bottleneck and its last 3x3) is
linear, as in the original layer list.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..imaging import upscale
from ..spec import FlowSpec
from .common import (
    RDB,
    VideoSR,
    conv1x1,
    conv3x3,
    flow_warp,
    standardise_pair,
    upsample_flow,
    zero_,
)
from .losses import ofr_loss_accv


class _FlowLevel(nn.Module):
    """Conv3x3(c_in->32), 2 x RDB(32, 4 layers), both RDB outputs concatenated, then a
    Conv3x3(64->c_out) and a Conv3x3(c_out->c_out, bias); no activation outside the RDBs."""

    def __init__(self, c_in: int, c_out: int, channels: int = 32):
        super().__init__()
        self.head = conv3x3(c_in, channels)
        self.rdb1 = RDB(channels, 4, 32)
        self.rdb2 = RDB(channels, 4, 32)
        self.tail = nn.Sequential(conv3x3(2 * channels, c_out), conv3x3(c_out, c_out, bias=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f1 = self.rdb1(self.head(x))
        f2 = self.rdb2(f1)
        return self.tail(torch.cat((f1, f2), 1))


class OFRNetACCV(nn.Module):
    """Level 1 on the 2x2-pooled (neighbour, centre) pair; levels 2 and 3 see both frames,
    the warped neighbour, the residual centre - warped and the previous flow (6 channels);
    level 3 predicts an HR flow residual through PixelShuffle(s). The pair is standardised
    first, as for the TIP-2020 net (:func:`~.common.standardise_pair`)."""

    def __init__(self, scale: int = 4, channels: int = 32):
        super().__init__()
        self.level1 = _FlowLevel(2, 2, channels)
        self.level2 = _FlowLevel(6, 2, channels)
        self.level3 = nn.Sequential(_FlowLevel(6, 2 * scale * scale, channels),
                                    nn.PixelShuffle(scale))
        self.scale = scale

    @staticmethod
    def _level_input(neighbour: torch.Tensor, centre: torch.Tensor, flow: torch.Tensor):
        warped = flow_warp(neighbour, flow)
        return torch.cat((neighbour, centre, warped, centre - warped, flow), 1)

    def forward(self, neighbour: torch.Tensor, centre: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """(B, 1, h, w) frames, h and w even -> flows (level 1, level 2, HR level 3)."""
        neighbour, centre = standardise_pair(neighbour, centre)
        flow_l1 = self.level1(F.avg_pool2d(torch.cat((neighbour, centre), 1), 2))
        up_l1 = upsample_flow(flow_l1, 2)
        flow_l2 = self.level2(self._level_input(neighbour, centre, up_l1)) + up_l1
        flow_l3 = (self.level3(self._level_input(neighbour, centre, flow_l2))
                   + upsample_flow(flow_l2, self.scale))
        return flow_l1, flow_l2, flow_l3


class SRNetACCV(nn.Module):
    """Conv3x3(35->64), 5 x RDB(64, 5 layers, growth 32), all block outputs and the input
    concatenated (384 ch), Conv1x1(384->16), Conv3x3(16->16, bias), PixelShuffle(4); no
    activation outside the RDBs.

    ``bicubic_residual`` (default off, as in SOF-VSR) adds the bicubic upscale of the centre
    frame (channel 1 of the cube; :func:`~hofvsr_lib.imaging.upscale`) to the output."""

    def __init__(self, in_channels: int = 35, scale: int = 4, bicubic_residual: bool = False,
                 channels: int = 64, n_blocks: int = 5):
        super().__init__()
        self.head = conv3x3(in_channels, channels)
        self.blocks = nn.ModuleList(RDB(channels, 5, 32) for _ in range(n_blocks))
        self.tail = nn.Sequential(
            conv1x1(channels * (n_blocks + 1), scale * scale),
            conv3x3(scale * scale, scale * scale, bias=True), nn.PixelShuffle(scale),
        )
        self.scale = scale
        self.bicubic_residual = bicubic_residual
        if bicubic_residual:
            zero_(self.tail[-2])  # the conv before PixelShuffle

    def forward(self, cube: torch.Tensor) -> torch.Tensor:
        """(B, in_channels, h, w) draft cube -> (B, 1, s*h, s*w)."""
        head = self.head(cube)
        features, f = [], head
        for block in self.blocks:
            f = block(f)
            features.append(f)
        out = self.tail(torch.cat((*features, head), 1))  # the block outputs, then the input
        if self.bicubic_residual:
            out = out + upscale(cube[:, 1:2], self.scale)
        return out


class SOFVSR_ACCV(VideoSR):  # noqa: N801 (the paper's name)
    """ACCV-2018 SOF-VSR; input and output as :class:`~hofvsr_lib.models.common.VideoSR`."""

    name = "accv"
    flow = FlowSpec("accv")  # its flow net's family: loss, pretraining, cache key
    ofr_loss = staticmethod(ofr_loss_accv)  # the flow net's own loss (pretraining, joint)

    def __init__(self, scale: int = 4, bicubic_residual: bool = False):
        super().__init__()
        self.config = dict(scale=scale, bicubic_residual=bicubic_residual)
        self.scale = scale
        self.ofr = OFRNetACCV(scale)
        self.sr = SRNetACCV(3 + 2 * scale * scale, scale, bicubic_residual)

    def cube_frames(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The three frames, before T-1 and T+1 warped at the s*s sub-pixel phases (row-major).
        (SOF-VSR interleaves the two neighbours per phase; the channel order is immaterial to
        the network, and this one matches the TIP cube's, so one rule augments both cubes.)"""
        return [x[:, 0], x[:, 1], x[:, 2]]
