"""PyTorch dataset of 3-frame windows (T-1, T, T+1) of the face sequences, on the Y channel.

LR frames are made here, on the fly, from the stored HR crops with
:func:`hofvsr_lib.imaging.downscale` (antialiased bicubic / scale) applied to the Y of the
whole crop, before any patch is cut; Y is an affine function of RGB and the bicubic weights
sum to one, so this equals taking Y of the downscaled RGB crop (nothing is clipped or
quantised in between).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset, Subset

from hofvsr_lib.data.manifest import SPLITS, read_manifest
from hofvsr_lib.imaging import downscale, rgb_to_y


@dataclass(frozen=True)
class Window:
    """One sample: three consecutive crops of a sequence (paths relative to the root)."""

    pngs: tuple[str, str, str]
    sequence: str
    person: str
    frame: int  # source frame index of the centre


class FaceWindows(Dataset):
    """``(lr (3, 1, h, w), hr)`` samples of the ``split`` part ("train", "val", "test", or
    "all": every person) of the dataset in ``root``.

    ``hr`` is the HR centre frame (1, 4h, 4w), or all three HR frames (3, 1, 4h, 4w) when
    ``all_hr`` (the optical-flow loss needs them). Values: Y in [0, 1], float32.

    ``lr_patch``: crop LR to ``lr_patch`` x ``lr_patch`` (HR to ``scale`` x that, aligned);
    the crop is random when ``random_crop`` (default: ``augment``), else central.
    ``augment``: random horizontal flip, vertical flip and transpose, the same for the
    three frames and for LR and HR. Randomness comes from ``torch``'s generator (seed it, or
    a DataLoader's worker seeding, for repeatable runs). Windows are in manifest order.
    ``centre_only``: the LR input is the centre frame three times (the ablation that shows what
    the neighbouring frames bring); HR is unchanged.
    """

    def __init__(
        self,
        root: Path | str,
        split: str = "train",
        augment: bool = False,
        lr_patch: int | None = None,
        all_hr: bool = False,
        scale: int = 4,
        random_crop: bool | None = None,
        centre_only: bool = False,
    ) -> None:
        if split not in (*SPLITS, "all"):
            raise ValueError(f"split must be one of {', '.join(SPLITS)} or all, not {split!r}")
        self.root = Path(root)
        self.split = split
        self.augment = augment
        self.lr_patch = lr_patch
        self.all_hr = all_hr
        self.scale = scale
        self.random_crop = augment if random_crop is None else random_crop
        self.centre_only = centre_only
        df = read_manifest(self.root)
        if split != "all":
            df = df[df["split"] == split]
        df = df.sort_values(["sequence", "position"])
        self.windows: list[Window] = []
        for seq, g in df.groupby("sequence", sort=True):
            pngs, frames, person = list(g["png"]), list(g["frame"]), str(g["person"].iloc[0])
            for k in range(1, len(pngs) - 1):
                self.windows.append(Window((pngs[k - 1], pngs[k], pngs[k + 1]), str(seq),
                                           person, int(frames[k])))
        if not self.windows:
            raise ValueError(f"{self.root}: the {split!r} split has no 3-frame window")
        if lr_patch is not None:
            hr = self._read_rgb(self.windows[0].pngs[1]).shape[0]
            if lr_patch * scale > hr:
                raise ValueError(f"lr_patch {lr_patch} x {scale} exceeds the HR size {hr}")

    def __len__(self) -> int:
        return len(self.windows)

    def _read_rgb(self, rel: str) -> np.ndarray:
        img = cv2.imread(str(self.root / rel), cv2.IMREAD_COLOR)
        if img is None:
            raise FileNotFoundError(f"{self.root / rel}: missing or unreadable crop")
        return img[..., ::-1]

    def window_table(self, indices: list[int] | None = None) -> list[dict]:
        """person, sequence, window (index in this dataset) and frame of each window."""
        idx = range(len(self.windows)) if indices is None else indices
        return [{"person": self.windows[i].person, "sequence": self.windows[i].sequence,
                 "window": i, "frame": self.windows[i].frame} for i in idx]

    def rgb_centre(self, i: int) -> np.ndarray:
        """The HR centre crop of window ``i`` in colour (H, W, 3) uint8, unaugmented."""
        return np.ascontiguousarray(self._read_rgb(self.windows[i].pngs[1]))

    def hr_frames(self, i: int) -> torch.Tensor:
        """The three HR frames of window ``i`` as Y (3, 1, H, W), unaugmented and uncropped."""
        ys = [rgb_to_y(self._read_rgb(p).astype(np.float32) / 255.0)
              for p in self.windows[i].pngs]
        return torch.from_numpy(np.stack(ys)[:, None])

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        hr = self.hr_frames(i)  # (3, 1, H, W)
        lr = downscale(hr, self.scale)  # the whole crop, so a patch has no border effect
        if self.centre_only:  # the ablation without the video input: T, T, T
            lr = lr[[1, 1, 1]]
        if self.lr_patch is not None:
            lr, hr = self._crop(lr, hr)
        if self.augment:
            lr, hr = _dihedral(lr, hr)
        lr, hr = lr.contiguous(), hr.contiguous()
        return lr, (hr if self.all_hr else hr[1])

    def _crop(self, lr: torch.Tensor, hr: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s, p = self.scale, self.lr_patch
        h, w = lr.shape[-2:]
        if self.random_crop:
            y = int(torch.randint(0, h - p + 1, ()).item())
            x = int(torch.randint(0, w - p + 1, ()).item())
        else:
            y, x = (h - p) // 2, (w - p) // 2
        return (lr[..., y : y + p, x : x + p],
                hr[..., y * s : (y + p) * s, x * s : (x + p) * s])


def window_rows(windows: FaceWindows | Subset) -> list[dict]:
    """:meth:`FaceWindows.window_table` of a FaceWindows, or of a subset of one (in the
    subset's order)."""
    if isinstance(windows, Subset):
        return windows.dataset.window_table(list(windows.indices))
    return windows.window_table()


def _dihedral(*xs: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Random h-flip, v-flip and transpose of the last two dims, the same for every tensor
    (the bicubic downscale commutes with all three, so LR stays the downscale of HR)."""
    flips = torch.rand(3) < 0.5
    out = []
    for x in xs:
        if flips[0]:
            x = x.flip(-1)
        if flips[1]:
            x = x.flip(-2)
        if flips[2]:
            x = x.transpose(-1, -2)
        out.append(x)
    return tuple(out)
