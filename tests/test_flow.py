"""The flow nets learn motion: sub-pixel shifts of real face crops recovered, warp errors
measured against zero motion and OpenCV's DIS flow."""

import torch
from torch.utils.data import Dataset

from hofvsr_lib.data.dataset import FaceWindows
from hofvsr_lib.imaging import downscale
from hofvsr_lib.models import build_model
from hofvsr_lib.models.classical_flow import DISFlow
from hofvsr_lib.models.common import flow_warp
from hofvsr_lib.models.sofvsr_tip import OFRNet
from hofvsr_lib.profiles import TrainProfile
from hofvsr_lib.training.flow_quality import summarise, warp_errors
from hofvsr_lib.training.loops import pretrain_ofr

SCALE = 4
MAX_SHIFT = 0.5  # LR pixels


class ShiftedCrops(Dataset):
    """Real HR face crops whose neighbours are the centre moved by a known constant sub-pixel
    shift: T-1 by -d and T+1 by +d, ``d`` (LR px) drawn per item; the true flow of T-1 onto T
    is then +d (x, y), of T+1 onto T -d. Items as FaceWindows(all_hr=True) with an LR patch."""

    def __init__(self, windows: FaceWindows, items: list[int], seed: int, lr_patch: int = 16):
        g = torch.Generator().manual_seed(seed)
        self.windows, self.items, self.patch = windows, items, lr_patch
        self.shifts = (torch.rand(len(items), 2, generator=g) * 2 - 1) * MAX_SHIFT

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        centre = self.windows.hr_frames(self.items[i])[1:2]  # (1, 1, H, W)
        hr_shift = (self.shifts[i] * SCALE).view(1, 2, 1, 1)
        ones = torch.ones(1, 2, *centre.shape[-2:])
        hr = torch.cat([flow_warp(centre, ones * hr_shift), centre,
                        flow_warp(centre, -ones * hr_shift)])  # (3, 1, H, W)
        lr = downscale(hr, SCALE)
        p, h = self.patch, lr.shape[-1]
        y = x = (h - p) // 2  # the middle: away from the border the shift padded
        return (lr[..., y:y + p, x:x + p].contiguous(),
                hr[..., y * SCALE:(y + p) * SCALE, x * SCALE:(x + p) * SCALE].contiguous())

    def true_flow(self, i: int, neighbour: int) -> torch.Tensor:
        """The LR flow (x, y) bringing neighbour 0 (T-1) or 2 (T+1) onto the centre."""
        return -self.shifts[i] if neighbour == 0 else self.shifts[i]


def test_flow_net_recovers_known_subpixel_shifts(small_data):
    windows = FaceWindows(small_data, "all", all_hr=True)
    n = len(windows)
    train = ShiftedCrops(windows, list(range(0, n, 2)), seed=1)
    test = ShiftedCrops(windows, list(range(1, n, 8)), seed=2)
    model = build_model("tip")
    model.ofr = OFRNet(32)  # every width is an argument: a small net trains in seconds
    budget = TrainProfile(epochs=8, iters_per_epoch=50, batch_size=8, lr_patch=16, lr=2e-3)
    pretrain_ofr(model, train, budget, "cpu", seed=0)
    model.eval()
    errors = []
    with torch.no_grad():
        for i in range(len(test)):
            lr, _ = test[i]
            for k in (0, 2):
                flow = model.ofr(lr[k:k + 1], lr[1:2])[1][0]  # LR-level flow (2, p, p)
                inner = flow[:, 4:-4, 4:-4].mean(dim=(1, 2))
                errors.append((inner - test.true_flow(i, k)).abs().max())
    errors = torch.stack(errors)
    assert errors.mean() < 0.1, f"mean error {errors.mean():.3f} LR px"
    assert (errors < 0.1).float().mean() > 0.8


def test_dis_flow_recovers_the_same_shifts(small_data):
    """The classical reference on the same synthetic pairs (what the net is held against)."""
    windows = FaceWindows(small_data, "all", all_hr=True)
    test = ShiftedCrops(windows, list(range(1, len(windows), 8)), seed=2, lr_patch=32)
    dis = DISFlow()
    for i in range(len(test)):
        lr, _ = test[i]
        flow = dis.lr_flow(lr[0:1], lr[1:2])[0, :, 8:-8, 8:-8].mean(dim=(1, 2))
        assert (flow - test.true_flow(i, 0)).abs().max() < 0.1


def test_warp_errors_rank_zero_motion_dis_and_a_net(small_data):
    """On real windows DIS flow aligns better than zero motion; an untrained net's flow sits
    near zero motion; the summary's ratios are the ratios of the means."""
    windows = FaceWindows(small_data, "test", all_hr=True)
    errors = warp_errors(build_model("tip").ofr, windows, "cpu")
    assert set(errors["neighbour"]) == {-1, 1} and len(errors) == 2 * len(windows)
    overall = summarise(errors, None).iloc[0]
    assert overall["dis/zero"] < 0.9
    assert overall["dis/zero"] == errors["dis"].mean() / errors["zero"].mean()
    per_person = summarise(errors)
    assert set(per_person["person"]) == set(errors["person"])
