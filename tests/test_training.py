"""Training helpers: draft-cube augmentation is exact (phase channels permuted correctly); on a
CPU the weights train channels-last and their checkpoint loads in the default layout."""

import itertools

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset

from hofvsr_lib.models import HOFVSR, SOFVSR_ACCV
from hofvsr_lib.training.loops import CubeDataset, augment_cube, batch_stream, evenly_spaced


class GradientFlow(nn.Module):
    """A flip/transpose-equivariant stand-in for the OFR net: the HR flow is the spatial gradient
    of the bilinearly upsampled frame difference (so it varies between sub-pixel phases)."""

    def forward(self, neighbour, centre):
        hr = F.interpolate(neighbour - centre, scale_factor=4, mode="bilinear",
                           align_corners=False)
        p = F.pad(hr, (1, 1, 1, 1), mode="replicate")
        gx = (p[..., 1:-1, 2:] - p[..., 1:-1, :-2]) / 2
        gy = (p[..., 2:, 1:-1] - p[..., :-2, 1:-1]) / 2
        return None, None, 40 * torch.cat((gx, gy), 1)


def _spatial(t, hflip, vflip, transpose):
    if transpose:
        t = t.transpose(-1, -2)
    if hflip:
        t = t.flip(-1)
    if vflip:
        t = t.flip(-2)
    return t


@pytest.mark.parametrize("make_model", [lambda: HOFVSR(32, 1, 32), SOFVSR_ACCV],
                         ids=["tip-cube-33ch", "accv-cube-35ch"])
@pytest.mark.parametrize("hflip,vflip,transpose",
                         [c for c in itertools.product((False, True), repeat=3) if any(c)])
def test_augmented_cube_equals_cube_of_augmented_frames(make_model, hflip, vflip, transpose):
    model = make_model()
    model.ofr = GradientFlow()
    frames = F.avg_pool2d(torch.rand(3, 1, 20, 24), 2).reshape(1, 3, 1, 10, 12)
    cube = model.draft_cube(frames)[0][0]
    hr = torch.rand(1, 40, 48)
    expected = model.draft_cube(_spatial(frames, hflip, vflip, transpose))[0][0]
    got, got_hr = augment_cube(cube, hr, hflip, vflip, transpose)
    assert torch.allclose(got, expected, atol=1e-5)
    assert torch.equal(got_hr, _spatial(hr, hflip, vflip, transpose))
    # a plain spatial flip of the cube (phases not permuted) is wrong: the test is sensitive
    assert not torch.allclose(_spatial(cube, hflip, vflip, transpose), expected, atol=1e-3)


def test_cube_dataset_crops_matching_hr_and_rejects_bad_cubes():
    cubes, hr = torch.rand(4, 33, 12, 12).half(), torch.rand(4, 1, 48, 48).half()
    cube, target = CubeDataset(cubes, hr, lr_patch=8, augment=True)[0]
    assert cube.shape == (33, 8, 8) and target.shape == (1, 32, 32)
    assert cube.dtype == torch.float32
    with pytest.raises(ValueError, match="channels"):
        augment_cube(torch.rand(30, 4, 4), torch.rand(1, 16, 16), True, False, False)
    assert len(evenly_spaced(CubeDataset(cubes, hr), 2)) == 2


class _RandomItems(Dataset):
    """Items drawn from torch's generator, as FaceWindows' crops and flips are."""

    def __len__(self) -> int:
        return 10

    def __getitem__(self, i: int) -> torch.Tensor:
        return torch.tensor([float(i), float(torch.rand(()))])


@pytest.mark.parametrize("workers", [0, 2])
def test_batch_stream_is_reproducible_with_loading_processes(workers):
    def first_batches(seed):
        torch.manual_seed(seed)  # as seed_everything does before every training
        stream = batch_stream(_RandomItems(), 4, seed, workers)
        return torch.stack([next(stream) for _ in range(3)])

    a, b = first_batches(0), first_batches(0)
    assert torch.equal(a, b)
    assert not torch.equal(a, first_batches(1))


def test_a_network_placed_on_the_cpu_trains_channels_last_and_its_checkpoint_loads_anywhere(
        tmp_path):
    from hofvsr_lib.devices import place
    from hofvsr_lib.models import build_model, load_checkpoint, save_checkpoint

    model = place(build_model("hofvsr", res_channels=32, n_res_blocks=1, up_channels=32),
                  torch.device("cpu"))
    convs = [m.weight for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert convs and all(w.is_contiguous(memory_format=torch.channels_last) for w in convs)
    x = torch.rand(2, 3, 1, 16, 20)
    loss = model(x)[0].mean()
    loss.backward()  # a training step's gradients in the same layout
    assert all(w.grad.is_contiguous(memory_format=torch.channels_last) for w in convs)
    save_checkpoint(tmp_path / "net.pt", model)
    loaded, _ = load_checkpoint(tmp_path / "net.pt")  # the default layout, the same network
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model.eval()(x), atol=1e-5, rtol=1e-5)
