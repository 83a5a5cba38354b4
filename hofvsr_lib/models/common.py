"""Building blocks shared by the SOF-VSR family: residual blocks, flow warping, draft cubes.

Warping convention (used everywhere in this package): a flow is (B, 2, H, W) in *pixel units*
of the image it is applied to, channel 0 horizontal, channel 1 vertical, and
``flow_warp(img, flow)(p) = img(p + flow(p))``, i.e. it brings a neighbour onto the centre
frame. Sampling is bilinear with border padding and ``align_corners=True`` (pixel centres at
integer coordinates, so pixel units map exactly onto the grid). SOF-VSR's code instead took
flows in units tied to its 32-pixel training patches (31 / (w - 1)); with pixel units the
flows of a coarser level are multiplied by the upsampling factor when carried to a finer one.
"""

from __future__ import annotations

from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import nn

from ..spec import FlowSpec

NEG_SLOPE = 0.1  # LeakyReLU slope of both SOF-VSR versions


def lrelu() -> nn.LeakyReLU:
    """The LeakyReLU(0.1) used after every activated convolution."""
    return nn.LeakyReLU(NEG_SLOPE, inplace=True)


def conv3x3(c_in: int, c_out: int, bias: bool = False, groups: int = 1) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, 3, padding=1, bias=bias, groups=groups)


def conv1x1(c_in: int, c_out: int, bias: bool = False) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, 1, bias=bias)


def zero_(layer: nn.Module) -> nn.Module:
    """Zero a layer's weights and bias: the last layer of a network that adds a bicubic
    residual, so that the untrained network outputs exactly bicubic."""
    for param in layer.parameters():
        nn.init.zeros_(param)
    return layer


def channel_shuffle(x: torch.Tensor, groups: int = 2) -> torch.Tensor:
    """ShuffleNet channel shuffle: interleave the channels of ``groups`` equal groups."""
    b, c, h, w = x.shape
    return x.view(b, groups, c // groups, h, w).transpose(1, 2).reshape(b, c, h, w)


class ResB(nn.Module):
    """TIP-2020 residual block (ShuffleNet-v2 unit): half the channels pass untouched, the
    other half goes 1x1 + LReLU, depthwise 3x3, 1x1 + LReLU; concat; shuffle (2 groups)."""

    def __init__(self, channels: int):
        super().__init__()
        if channels % 2:
            raise ValueError(f"ResB needs an even channel count, got {channels}")
        half = channels // 2
        self.body = nn.Sequential(
            conv1x1(half, half), lrelu(),
            conv3x3(half, half, groups=half),
            conv1x1(half, half), lrelu(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kept, processed = x.chunk(2, dim=1)
        return channel_shuffle(torch.cat((kept, self.body(processed)), dim=1), 2)


def cas_resb(n_blocks: int, channels: int) -> nn.Sequential:
    """CasResB(n, c): ``n`` ResB(c) in a row."""
    return nn.Sequential(*[ResB(channels) for _ in range(n_blocks)])


class RDB(nn.Module):
    """ACCV-2018 residual dense block: ``n_layers`` of Conv3x3 + LReLU, each output
    concatenated to its input (growth ``growth``), a 1x1 conv back to ``channels``, residual add."""

    def __init__(self, channels: int, n_layers: int, growth: int = 32):
        super().__init__()
        self.layers = nn.ModuleList(
            nn.Sequential(conv3x3(channels + i * growth, growth), lrelu()) for i in range(n_layers)
        )
        self.fuse = conv1x1(channels + n_layers * growth, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = x
        for layer in self.layers:
            features = torch.cat((features, layer(features)), dim=1)
        return x + self.fuse(features)


@lru_cache(maxsize=32)
def _base_grid(h: int, w: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """(1, 2, h, w) pixel coordinates (x, y); cached so repeated warps rebuild nothing."""
    ys, xs = torch.meshgrid(
        torch.arange(h, device=device, dtype=dtype),
        torch.arange(w, device=device, dtype=dtype),
        indexing="ij",
    )
    return torch.stack((xs, ys)).unsqueeze(0)


def flow_warp(img: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Sample ``img`` (B, C, H, W) at ``p + flow(p)``; see the module docstring."""
    _, _, h, w = img.shape
    coords = _base_grid(h, w, img.device, img.dtype) + flow
    scale = torch.tensor([2.0 / max(w - 1, 1), 2.0 / max(h - 1, 1)], device=img.device,
                         dtype=img.dtype).view(1, 2, 1, 1)
    grid = (coords * scale - 1.0).permute(0, 2, 3, 1)
    return F.grid_sample(img, grid, mode="bilinear", padding_mode="border", align_corners=True)


def standardise_pair(neighbour: torch.Tensor, centre: torch.Tensor,
                     min_std: float = 0.01) -> tuple[torch.Tensor, torch.Tensor]:
    """Both frames of each (neighbour, centre) pair less their joint mean, over their joint
    standard deviation (at least ``min_std``): the flow nets' input, so that the small
    intensity differences a sub-pixel motion makes on a low-contrast face reach the network
    at unit scale (motion does not change with brightness or contrast)."""
    both = torch.cat((neighbour, centre), 1)
    mean = both.mean(dim=(1, 2, 3), keepdim=True)
    std = both.std(dim=(1, 2, 3), keepdim=True).clamp_min(min_std)
    return (neighbour - mean) / std, (centre - mean) / std


def upsample_flow(flow: torch.Tensor, factor: int) -> torch.Tensor:
    """Bilinear x``factor`` upsampling of a flow, values multiplied by ``factor`` (pixel units)."""
    up = F.interpolate(flow, scale_factor=factor, mode="bilinear", align_corners=False)
    return up * factor


def phase_warps(neighbour: torch.Tensor, hr_flow: torch.Tensor, scale: int) -> list[torch.Tensor]:
    """The LR ``neighbour`` warped once per sub-pixel phase (i, j) of the HR flow, row-major:
    ``warp(neighbour, hr_flow[..., i::s, j::s] / s)`` (space-to-depth of the HR flow)."""
    return [
        flow_warp(neighbour, hr_flow[:, :, i::scale, j::scale] / scale)
        for i in range(scale)
        for j in range(scale)
    ]


def pad_to_multiple(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, int, int]:
    """Replicate-pad the last two dims of ``x`` up to a multiple; returns (padded, h, w)."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        lead = x.shape[:-2]
        flat = x.reshape(-1, 1, h, w)
        x = F.pad(flat, (0, pw, 0, ph), mode="replicate").reshape(*lead, h + ph, w + pw)
    return x, h, w


def check_input(x: torch.Tensor) -> None:
    """Raise a clear error unless ``x`` is a (B, 3, 1, h, w) stack of Y frames."""
    if x.ndim != 5 or x.shape[1] != 3 or x.shape[2] != 1:
        raise ValueError(
            f"expected Y frames (B, 3, 1, h, w) = frames T-1, T, T+1; got {tuple(x.shape)}"
        )


Flows = list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]


class VideoSR(nn.Module):
    """SOF-VSR's frame for a 3-frame x``scale`` network: the flow net ``ofr`` estimates the
    motion of each neighbour (T-1, T+1) onto the centre T; the neighbours warped at the
    ``scale``^2 sub-pixel phases of that flow follow :meth:`cube_frames` in the draft cube;
    the SR net ``sr`` maps the cube to the centre frame at ``scale`` times its size.

    Input (B, 3, 1, h, w): Y frames T-1, T, T+1 in [0, 1], any h, w. In eval mode returns the
    SR centre frame (B, 1, scale*h, scale*w); in training mode ``(sr, flows)``, ``flows`` a list
    over the neighbours [T-1, T+1] of (level-1, level-2, HR level-3) flows for the OFR loss.
    ``batch_pairs`` runs the flow net once on both (neighbour, centre) pairs as one batch
    (same output, fewer calls: what a small input on a GPU wants).
    """

    scale: int
    flow: FlowSpec  # the flow ``ofr`` computes (``training.cached`` keys its pretraining by it)
    ofr: nn.Module
    sr: nn.Module
    batch_pairs: bool = False

    def cube_frames(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The input frames placed before the warped neighbours in the draft cube."""
        raise NotImplementedError

    def pair_flows(self, x: torch.Tensor) -> Flows:
        """The flow net's flows of T-1 and of T+1 onto T."""
        centre = x[:, 1]
        if not self.batch_pairs:
            return [self.ofr(x[:, 0], centre), self.ofr(x[:, 2], centre)]
        b = x.shape[0]
        flows = self.ofr(torch.cat((x[:, 0], x[:, 2])), torch.cat((centre, centre)))
        return [tuple(f[:b] for f in flows), tuple(f[b:] for f in flows)]

    def draft_cube(self, x: torch.Tensor) -> tuple[torch.Tensor, Flows]:
        """(B, 3, 1, h, w), h and w even -> (draft cube (B, C, h, w), flows)."""
        flows = self.pair_flows(x)
        parts = self.cube_frames(x)
        for neighbour, neighbour_flows in zip((x[:, 0], x[:, 2]), flows, strict=True):
            parts.extend(phase_warps(neighbour, neighbour_flows[2], self.scale))
        return torch.cat(parts, 1), flows

    def forward(self, x: torch.Tensor):
        check_input(x)
        x, h, w = pad_to_multiple(x, 2)
        cube, flows = self.draft_cube(x)
        sr = self.sr(cube)[..., : h * self.scale, : w * self.scale]
        return (sr, flows) if self.training else sr
