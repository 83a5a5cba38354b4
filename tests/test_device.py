"""The networks on a CUDA device: same output as on the CPU, a training step there, and a
checkpoint written from there that loads on a CPU-only machine.

CI has no GPU, so these are skipped there; on a GPU machine run ``pytest tests/test_device.py``.
"""

import pytest
import torch

from hofvsr_lib.models import MODELS, build_model, load_checkpoint, save_checkpoint
from hofvsr_lib.models.losses import sofvsr_loss

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


@pytest.fixture(autouse=True)
def _full_precision():
    """TF32 convolutions/matmuls would make CUDA differ from CPU by ~1e-3: compare in FP32."""
    old = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old


@pytest.mark.parametrize("name", sorted(MODELS))
def test_cuda_output_equals_cpu_output(name):
    model = build_model(name).eval()
    x = torch.rand(2, 3, 1, 36, 44)
    with torch.inference_mode():
        expected = model(x)
        got = model.to("cuda")(x.to("cuda"))
    assert got.device.type == "cuda"
    assert got.shape == expected.shape == (2, 1, 144, 176)
    torch.testing.assert_close(got.cpu(), expected, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_training_step_on_cuda_and_checkpoint_loads_on_cpu(name, tmp_path):
    model = build_model(name).to("cuda").train()
    lr, hr = torch.rand(4, 3, 1, 16, 16, device="cuda"), torch.rand(4, 3, 1, 64, 64, device="cuda")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(5):
        sr, flows = model(lr)
        loss, _ = sofvsr_loss(model, sr, hr[:, 1], flows, lr, hr)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert all(p.device.type == "cuda" and p.grad is not None for p in model.parameters())
    assert losses[-1] < losses[0]

    path = save_checkpoint(tmp_path / f"{name}.pt", model)
    loaded, meta = load_checkpoint(path, map_location="cpu")
    assert meta["model"] == name
    x = torch.rand(1, 3, 1, 20, 20)
    with torch.inference_mode():
        torch.testing.assert_close(loaded(x), model.eval()(x.to("cuda")).cpu(),
                                   atol=1e-4, rtol=1e-4)
