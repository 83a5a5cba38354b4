"""Metrics and the LR protocol against known values."""

import numpy as np
import pytest
import torch

from hofvsr_lib.imaging import downscale, rgb_to_y, rgb_to_ycbcr, upscale, ycbcr_to_rgb
from hofvsr_lib.metrics import psnr, shave_border, ssim


def test_psnr_of_a_constant_error():
    target = np.full((32, 32), 0.5)
    assert psnr(target + 0.1, target) == pytest.approx(20.0)
    assert psnr(target + 0.01, target) == pytest.approx(40.0)


def test_psnr_shaves_the_border():
    target = np.zeros((30, 30))
    pred = target.copy()
    pred[:2] = 1.0  # wrong only inside the shaved border
    assert psnr(pred, target, shave=2) == float("inf")


def test_ssim_of_constant_images_matches_the_formula():
    a, b = np.full((32, 32), 0.2), np.full((32, 32), 0.6)
    c1 = (0.01 * 1.0) ** 2
    expected = (2 * 0.2 * 0.6 + c1) / (0.2**2 + 0.6**2 + c1)
    assert ssim(a, b) == pytest.approx(expected, rel=1e-6)
    assert ssim(b, b) == pytest.approx(1.0)


def test_metrics_accept_tensors_and_clip_the_prediction():
    target = torch.full((1, 24, 24), 1.0)
    assert psnr(target + 0.5, target) == float("inf")


def test_shave_is_six_plus_scale():
    assert shave_border(4) == 10


def test_luma_of_known_colours():
    assert rgb_to_y(np.array([0.0, 0.0, 0.0])) == pytest.approx(16 / 255)
    assert rgb_to_y(np.array([1.0, 1.0, 1.0])) == pytest.approx(16 / 255 + 0.859, abs=1e-6)
    rgb = np.random.default_rng(0).random((5, 5, 3))
    assert np.allclose(ycbcr_to_rgb(rgb_to_ycbcr(rgb)), rgb, atol=1e-5)


def test_bicubic_down_and_up_sizes_and_constant_preservation():
    hr = torch.full((1, 144, 144), 0.3)
    lr = downscale(hr, 4)
    assert lr.shape == (1, 36, 36)
    assert torch.allclose(lr, hr[..., :36, :36], atol=1e-6)
    assert upscale(lr, 4).shape == (1, 144, 144)
    with pytest.raises(ValueError, match="not a multiple"):
        downscale(torch.zeros(1, 10, 10), 4)


def test_antialiasing_removes_high_frequencies():
    stripes = torch.zeros(1, 64, 64)
    stripes[..., ::2] = 1.0  # Nyquist-frequency stripes
    lr = downscale(stripes, 4)
    interior = lr[..., 2:-2]  # the clipped kernel at the border renormalises
    assert interior.std() < 0.01 and interior.mean() == pytest.approx(0.5, abs=0.01)
