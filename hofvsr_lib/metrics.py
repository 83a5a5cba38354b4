"""Image quality metrics, with the evaluation protocol in one place.

Protocol (SOF-VSR TIP-2020 evaluation, applied to every number in this project):

1. Work on the luma channel Y (``hofvsr_lib.imaging.rgb_to_y``: BT.601, SOF-VSR's rgb2y) in
   [0, 1]; the prediction is clipped to [0, 1] first.
2. Shave a border of ``6 + scale`` pixels (10 at x4) from each side of both images.
3. PSNR with peak 1.0 (equivalently 255 on 8-bit), ``skimage.metrics.peak_signal_noise_ratio``.
4. SSIM as Wang et al. 2004 and MATLAB's ``ssim``: 11x11 Gaussian window (sigma 1.5),
   population covariances, K1 = 0.01, K2 = 0.03, data range 1.0
   (``skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5,
   use_sample_covariance=False)``).
5. Per-image values are averaged over the evaluation set (mean of per-frame PSNR, not the
   PSNR of the mean error).

LR inputs and the bicubic baseline come from ``hofvsr_lib.imaging`` (antialiased bicubic).
"""

from __future__ import annotations

import numpy as np
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity


def shave_border(scale: int = 4) -> int:
    """Pixels shaved from each side before PSNR/SSIM: 6 + scale, as in SOF-VSR TIP-2020."""
    return 6 + scale


def _as_plane(img: np.ndarray | torch.Tensor) -> np.ndarray:
    """(H, W), (1, H, W) or (1, 1, H, W) tensor/array -> float64 (H, W)."""
    if isinstance(img, torch.Tensor):
        img = img.detach().cpu().numpy()
    img = np.asarray(img, dtype=np.float64)
    img = img.reshape(img.shape[-2:]) if img.ndim > 2 and np.prod(img.shape[:-2]) == 1 else img
    if img.ndim != 2:
        raise ValueError(f"expected a single Y plane, got shape {img.shape}")
    return img


def _prepare(pred, target, shave: int) -> tuple[np.ndarray, np.ndarray]:
    p, t = np.clip(_as_plane(pred), 0.0, 1.0), _as_plane(target)
    if p.shape != t.shape:
        raise ValueError(f"prediction {p.shape} and target {t.shape} differ in size")
    if shave:
        p, t = p[shave:-shave, shave:-shave], t[shave:-shave, shave:-shave]
    return p, t


def psnr(pred, target, shave: int = 0) -> float:
    """PSNR in dB of a Y plane against its target (peak 1.0), ``shave`` pixels removed."""
    p, t = _prepare(pred, target, shave)
    return float(peak_signal_noise_ratio(t, p, data_range=1.0))


def ssim(pred, target, shave: int = 0) -> float:
    """SSIM of a Y plane against its target (Gaussian window, see the module docstring)."""
    p, t = _prepare(pred, target, shave)
    return float(structural_similarity(t, p, data_range=1.0, gaussian_weights=True, sigma=1.5,
                                       use_sample_covariance=False))
