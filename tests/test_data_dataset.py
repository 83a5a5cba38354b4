"""FaceWindows: 3-frame Y windows, LR made from HR, identical augmentation of every frame."""

import numpy as np
import pytest
import torch

from hofvsr_lib.data.dataset import FaceWindows
from hofvsr_lib.data.manifest import read_manifest
from hofvsr_lib.imaging import downscale, rgb_to_y


@pytest.fixture(scope="module")
def root(small_data):
    return small_data


def _dihedral_all(x):
    """The 8 flips/transposes of the last two dims."""
    out = []
    for t in (False, True):
        y = x.transpose(-1, -2) if t else x
        for fh in (False, True):
            for fv in (False, True):
                z = y.flip(-1) if fh else y
                out.append(z.flip(-2) if fv else z)
    return out


def test_shapes_ranges_and_lr_protocol(root):
    ev = FaceWindows(root, "test")
    lr, hr = ev[0]
    assert lr.shape == (3, 1, 36, 36) and hr.shape == (1, 144, 144)
    assert lr.dtype == hr.dtype == torch.float32
    assert 0 <= hr.min() and hr.max() <= 1 and 0 <= lr.min() and lr.max() <= 1
    full = FaceWindows(root, "test", all_hr=True)
    lr2, hr3 = full[0]
    assert hr3.shape == (3, 1, 144, 144)
    torch.testing.assert_close(hr3[1], hr)
    torch.testing.assert_close(lr2, downscale(hr3, 4))  # LR = bicubic /4 of HR, stated once
    y = rgb_to_y(full.rgb_centre(0).astype(np.float32) / 255)
    np.testing.assert_allclose(y, hr[0].numpy(), atol=1e-6)
    assert full.rgb_centre(0).shape == (144, 144, 3)


def test_windows_are_consecutive_frames_of_one_sequence_and_test_is_deterministic(root):
    m = read_manifest(root).set_index("png")
    ev = FaceWindows(root, "test")
    for w in ev.windows:
        rows = m.loc[list(w.pngs)]
        assert rows["sequence"].nunique() == 1
        assert list(np.diff(rows["frame"])) == [1, 1] and rows["frame"].iloc[1] == w.frame
    n_eval = sum(len(g) - 2 for _, g in m[m["split"] == "test"].groupby("sequence"))
    assert len(ev) == n_eval
    again = FaceWindows(root, "test")
    for i in (0, len(ev) // 2, len(ev) - 1):
        torch.testing.assert_close(ev[i][0], again[i][0])
        torch.testing.assert_close(ev[i][1], again[i][1])


def test_train_patches_and_augmentation_are_the_same_for_every_frame(root):
    plain = FaceWindows(root, "train", lr_patch=24, all_hr=True)
    aug = FaceWindows(root, "train", augment=True, lr_patch=24, all_hr=True, random_crop=False)
    torch.manual_seed(3)
    seen = set()
    for i in range(0, len(plain), max(1, len(plain) // 12)):
        lr0, hr0 = plain[i]
        lr, hr = aug[i]
        assert lr.shape == (3, 1, 24, 24) and hr.shape == (3, 1, 96, 96)
        matches = [k for k, (a, b) in enumerate(zip(_dihedral_all(lr0), _dihedral_all(hr0),
                                                     strict=True))
                   if torch.equal(a, lr) and torch.equal(b, hr)]
        assert matches, "LR, HR and the three frames must share one transform"
        seen.add(matches[0])
    assert len(seen) >= 3  # the transforms do vary


def test_random_crops_stay_aligned(root):
    ds = FaceWindows(root, "train", augment=True, lr_patch=16, all_hr=True)
    full = FaceWindows(root, "train", all_hr=True)
    torch.manual_seed(0)
    lr, hr = ds[5]
    lr_full, _ = full[5]
    # the LR patch is a window of the whole LR frame under one of the 8 transforms
    found = False
    for cand in _dihedral_all(lr_full):
        win = cand.unfold(-2, 16, 1).unfold(-2, 16, 1)  # (3,1,nh,nw,16,16)
        if (win == lr[:, :, None, None]).flatten(-2).all(-1).all(0).all(0).any():
            found = True
    assert found
    torch.testing.assert_close(downscale(hr, 4)[..., 3:-3, 3:-3], lr[..., 3:-3, 3:-3])


def test_no_person_on_two_sides_and_clear_errors(root, tmp_path):
    sides = {s: {w.person for w in FaceWindows(root, s).windows} for s in ("train", "val",
                                                                           "test")}
    assert all(sides.values())
    assert not sides["train"] & sides["val"] and not sides["train"] & sides["test"]
    assert not sides["val"] & sides["test"]
    every = FaceWindows(root, "all")
    assert {w.person for w in every.windows} == set().union(*sides.values())
    assert len(every) == sum(len(FaceWindows(root, s)) for s in sides)
    with pytest.raises(ValueError, match="split must be"):
        FaceWindows(root, "eval")
    with pytest.raises(FileNotFoundError, match="build the dataset first"):
        FaceWindows(tmp_path, "train")
    with pytest.raises(ValueError, match="exceeds the HR size"):
        FaceWindows(root, "train", lr_patch=40)


def test_centre_only_repeats_the_centre_frame(root):
    plain, centre = FaceWindows(root, "test"), FaceWindows(root, "test", centre_only=True)
    (lr, hr), (lr_c, hr_c) = plain[0], centre[0]
    for k in range(3):
        torch.testing.assert_close(lr_c[k], lr[1])
    torch.testing.assert_close(hr_c, hr)
