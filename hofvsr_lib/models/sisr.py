"""Single-image baselines for the Figure 7 / Table 3 comparison: bicubic, FSRCNN, a small EDSR.

They take the same (B, 3, 1, h, w) input as the video networks but look only at the centre
frame; in training mode they return ``(sr, [])`` (no flows, so the OFR loss is zero). Every
bicubic x4 here is :func:`hofvsr_lib.imaging.upscale`, the LR protocol's kernel.
"""

from __future__ import annotations

import torch
from torch import nn

from ..imaging import upscale
from .common import check_input, conv3x3, zero_


class _SingleImage(nn.Module):
    """Shared contract: centre frame in, optional bicubic residual, (sr, []) when training."""

    scale = 4
    bicubic_residual = False

    def body(self, y: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor):
        check_input(x)
        centre = x[:, 1]
        sr = self.body(centre)
        if self.bicubic_residual:
            sr = sr + upscale(centre, self.scale)
        return (sr, []) if self.training else sr


class Bicubic(_SingleImage):
    """Bicubic x``scale`` of the centre frame (:func:`~hofvsr_lib.imaging.upscale`): no
    parameters. ``bicubic_residual`` is accepted and ignored, so it builds like the networks."""

    name = "bicubic"

    def __init__(self, scale: int = 4, bicubic_residual: bool = False):
        super().__init__()
        del bicubic_residual  # bicubic already: there is no network to add the skip to
        self.config = dict(scale=scale)
        self.scale = scale

    def body(self, y: torch.Tensor) -> torch.Tensor:
        return upscale(y, self.scale)


class FSRCNN(_SingleImage):
    """FSRCNN(d=56, s=12, m=4) (Dong et al., ECCV 2016): Conv5x5(1->d) + PReLU, shrink 1x1
    (d->s) + PReLU, m x (Conv3x3(s->s) + PReLU), expand 1x1 (s->d) + PReLU, 9x9 deconv x4.

    The convolutions are initialised as the FSRCNN paper does (:meth:`init_weights`), not with
    PyTorch's default: the default (weight variance 1/(3 fan-in)) shrinks the signal through
    the seven convolutions to about a tenth before the deconvolution; with the deconvolution
    zeroed under the bicubic skip every earlier gradient is then zero and the deconvolution's
    own tiny (3e-5), Adam's unit-size steps on that noise only hurt (-0.4 dB after 10 steps),
    the loss pulls the deconvolution back to zero, and two of three seeds stayed at bicubic
    for 400 steps. With He's initialisation the same start trains every seed.
    """

    name = "fsrcnn"

    def __init__(self, d: int = 56, s: int = 12, m: int = 4, scale: int = 4,
                 bicubic_residual: bool = False):
        super().__init__()
        self.config = dict(d=d, s=s, m=m, scale=scale, bicubic_residual=bicubic_residual)
        self.scale, self.bicubic_residual = scale, bicubic_residual
        layers: list[nn.Module] = [nn.Conv2d(1, d, 5, padding=2), nn.PReLU(d),
                                   nn.Conv2d(d, s, 1), nn.PReLU(s)]
        for _ in range(m):
            layers += [nn.Conv2d(s, s, 3, padding=1), nn.PReLU(s)]
        layers += [nn.Conv2d(s, d, 1), nn.PReLU(d),
                   nn.ConvTranspose2d(d, 1, 9, stride=scale, padding=4,
                                      output_padding=scale - 1)]
        self.net = nn.Sequential(*layers)
        self.init_weights()

    def init_weights(self) -> None:
        """The FSRCNN paper's initialisation: He's for PReLU (initial slope 0.25) for the
        convolutions, zero biases, the deconvolution drawn from N(0, 0.001); zeroed instead
        under the bicubic skip, so that the untrained network outputs exactly bicubic."""
        for layer in self.net:
            if isinstance(layer, nn.Conv2d):
                nn.init.kaiming_normal_(layer.weight, a=0.25, nonlinearity="leaky_relu")
                nn.init.zeros_(layer.bias)
        if self.bicubic_residual:
            zero_(self.net[-1])
        else:
            nn.init.normal_(self.net[-1].weight, std=1e-3)
            nn.init.zeros_(self.net[-1].bias)

    def body(self, y: torch.Tensor) -> torch.Tensor:
        return self.net(y)


class _EDSRBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(conv3x3(channels, channels, bias=True), nn.ReLU(inplace=True),
                                  conv3x3(channels, channels, bias=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class EDSR(_SingleImage):
    """A small EDSR (Lim et al., CVPRW 2017; no batch norm): Conv3x3(1->c), ``n_blocks``
    residual blocks (Conv-ReLU-Conv) + a conv and a global skip, two x2 sub-pixel steps
    (Conv3x3(c->4c) + PixelShuffle(2)), Conv3x3(c->1). Default 8 blocks of 64 channels."""

    name = "edsr"

    def __init__(self, channels: int = 64, n_blocks: int = 8, scale: int = 4,
                 bicubic_residual: bool = False):
        super().__init__()
        self.config = dict(channels=channels, n_blocks=n_blocks, scale=scale,
                           bicubic_residual=bicubic_residual)
        self.scale, self.bicubic_residual = scale, bicubic_residual
        c = channels
        self.head = conv3x3(1, c, bias=True)
        self.blocks = nn.Sequential(*[_EDSRBlock(c) for _ in range(n_blocks)],
                                    conv3x3(c, c, bias=True))
        self.tail = nn.Sequential(
            conv3x3(c, 4 * c, bias=True), nn.PixelShuffle(2),
            conv3x3(c, 4 * c, bias=True), nn.PixelShuffle(2),
            conv3x3(c, 1, bias=True),
        )
        if bicubic_residual:
            zero_(self.tail[-1])

    def body(self, y: torch.Tensor) -> torch.Tensor:
        features = self.head(y)
        return self.tail(features + self.blocks(features))
