"""Colour conversion and bicubic resizing, the one place that defines how LR frames are made.

Protocol (as in SOF-VSR's MATLAB/Python code, and in every dataset, metric and pipeline here):

* Luma: ``Y = 16/255 + 0.257 R + 0.504 G + 0.098 B`` for RGB in [0, 1] (ITU-R BT.601, studio
  swing, the ``rgb2y`` of SOF-VSR); chroma uses the matching BT.601 Cb/Cr and is only ever
  bicubic-upsampled.
* Resizing: bicubic with the Keys kernel ``a = -0.5`` and an antialiasing (widened) kernel when
  shrinking, which is what MATLAB's ``imresize`` does; implemented by
  ``torch.nn.functional.interpolate(mode="bicubic", antialias=True, align_corners=False)``.
  MATLAB mirrors the image at the border while PyTorch renormalises the clipped kernel, so
  the outermost pixel or two differ slightly; metrics shave a border anyway.
* LR = ``resize(HR, 1/scale)``; the bicubic baseline is ``resize(LR, scale)`` (:func:`upscale`,
  also the networks' ``bicubic_residual`` skip and the ``bicubic`` model: one kernel for all).
  Plain ``mode="bicubic"`` without ``antialias`` is a different kernel (``a = -0.75``).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

# the version of the protocol above: the cube-cache keys record any later one, so cubes made
# from LR frames of another protocol are never read (hofvsr_lib.training.cached)
LR_PROTOCOL = 1
_Y_COEFFS = (0.257, 0.504, 0.098)
_CB_COEFFS = (-0.148, -0.291, 0.439)
_CR_COEFFS = (0.439, -0.368, -0.071)


def rgb_to_ycbcr(rgb: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """(..., 3) RGB in [0, 1] -> (..., 3) YCbCr in [0, 1] (BT.601 studio swing, as MATLAB);
    a torch tensor stays a tensor on its device."""
    if isinstance(rgb, torch.Tensor):
        m = torch.tensor((_Y_COEFFS, _CB_COEFFS, _CR_COEFFS), dtype=rgb.dtype, device=rgb.device)
        offset = torch.tensor((16.0, 128.0, 128.0), dtype=rgb.dtype, device=rgb.device) / 255
        return rgb @ m.T + offset
    rgb = np.asarray(rgb, dtype=np.float32)
    m = np.array([_Y_COEFFS, _CB_COEFFS, _CR_COEFFS], dtype=np.float32)
    offset = np.array([16.0, 128.0, 128.0], dtype=np.float32) / 255.0
    return rgb @ m.T + offset


def ycbcr_to_rgb(ycbcr: np.ndarray) -> np.ndarray:
    """Inverse of :func:`rgb_to_ycbcr`, clipped to [0, 1]."""
    m = np.array([_Y_COEFFS, _CB_COEFFS, _CR_COEFFS], dtype=np.float64)
    offset = np.array([16.0, 128.0, 128.0]) / 255.0
    rgb = (np.asarray(ycbcr, dtype=np.float64) - offset) @ np.linalg.inv(m).T
    return np.clip(rgb, 0.0, 1.0).astype(np.float32)


def rgb_to_y(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) RGB in [0, 1] -> (...) luma Y in [16/255, 235/255]."""
    return rgb_to_ycbcr(rgb)[..., 0]


def resize_bicubic(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Antialiased bicubic resize of a (..., H, W) tensor to ``size`` (see module docstring)."""
    lead = x.shape[:-2]
    flat = x.reshape(-1, 1, *x.shape[-2:]).float()
    out = F.interpolate(flat, size=size, mode="bicubic", align_corners=False, antialias=True)
    return out.reshape(*lead, *size)


def downscale(x: torch.Tensor, scale: int = 4) -> torch.Tensor:
    """HR -> LR: antialiased bicubic shrink by ``scale``; H and W must be multiples of it."""
    h, w = x.shape[-2:]
    if h % scale or w % scale:
        raise ValueError(f"HR size {h}x{w} is not a multiple of the scale {scale}")
    return resize_bicubic(x, (h // scale, w // scale))


def upscale(x: torch.Tensor, scale: int = 4) -> torch.Tensor:
    """LR -> bicubic HR estimate (the bicubic baseline), not clipped; (..., h, w) ->
    (..., scale*h, scale*w), differentiable (the networks' bicubic skip trains through it)."""
    h, w = x.shape[-2:]
    return resize_bicubic(x, (h * scale, w * scale))

