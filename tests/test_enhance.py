"""``hofvsr enhance`` on real clips with a randomly initialised HO-FVSR (speed and structure,
not quality, are what a random network can show)."""

from __future__ import annotations

from functools import cache
from itertools import islice

import cv2
import numpy as np
import pytest
import torch

from hofvsr_lib.cli import main
from hofvsr_lib.data.sources import fetch_video
from hofvsr_lib.data.video import VideoReader
from hofvsr_lib.enhance import (
    BRIDGE_MISSES,
    FaceEnhancer,
    bicubic_frame,
    feather_mask,
    tracked_boxes,
)
from hofvsr_lib.imaging import upscale
from hofvsr_lib.models import build_model, save_checkpoint


@cache
def frames(name: str, n: int) -> tuple[np.ndarray, ...]:
    """The first ``n`` RGB frames of a default clip."""
    return tuple(f for _, f in islice(VideoReader(fetch_video(name)).frames(), n))


@cache
def model() -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model("hofvsr").eval()


def read_back(path) -> tuple[int, float, int, int]:
    """(frames decoded, fps, width, height) of a written video."""
    cap = cv2.VideoCapture(str(path))
    n = 0
    while cap.grab():
        n += 1
    info = (n, cap.get(cv2.CAP_PROP_FPS), int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
            int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    cap.release()
    return info


def test_bicubic_frame_is_the_imaging_bicubic():
    f = frames("carphone", 1)[0]
    ref = upscale(torch.from_numpy(f).permute(2, 0, 1).float() / 255, 4)
    ref = (ref.clamp(0, 1) * 255).round().permute(1, 2, 0).numpy()
    out = bicubic_frame(f)
    assert out.shape == (4 * 144, 4 * 176, 3) and out.dtype == np.uint8
    assert np.abs(out.astype(float) - ref).max() <= 1  # float rounding only


def test_feather_mask_is_one_inside_and_fades_at_the_seam():
    m = feather_mask(40, 60, feather=0.25)
    assert m.shape == (40, 60)
    assert m[20, 30] == 1.0 and m[0, 0] < 0.01 and m[0, 30] < 0.1
    assert np.allclose(m, m[::-1, ::-1])


@pytest.mark.parametrize("n", [1, 2, 5])
def test_stream_keeps_the_frame_count(n):
    enhancer = FaceEnhancer(None, None)
    outs = list(enhancer.stream(frames("carphone", 5)[:n]))
    assert len(outs) == n and enhancer.times.frames == n
    for f, o in zip(frames("carphone", 5)[:n], outs, strict=True):
        assert np.array_equal(o, bicubic_frame(f))


def test_faces_are_spliced_only_in_their_region():
    fr = frames("carphone", 3)
    enhancer = FaceEnhancer(model(), tracked_boxes("cpu"))
    outs = list(enhancer.stream(fr))
    assert enhancer.times.faces == 3  # the man is found in every frame
    box = tracked_boxes("cpu")(fr[1])[0]
    cx, cy = 4 * (box[0] + box[2]) / 2, 4 * (box[1] + box[3]) / 2
    bic = bicubic_frame(fr[1])
    diff = np.abs(outs[1].astype(int) - bic).max(axis=2)
    assert diff[int(cy) - 20:int(cy) + 20, int(cx) - 20:int(cx) + 20].mean() > 1
    changed = np.argwhere(diff > 0)
    side = 4 * max(box[2] - box[0], box[3] - box[1]) * 1.6  # crop with its margins
    assert np.abs(changed[:, 1] - cx).max() <= side / 2 + 4
    assert np.abs(changed[:, 0] - cy).max() <= side / 2 + 4


def test_several_faces_entering_and_leaving():
    """Real faces side by side: two, then one, then none (the cartoon of no_face)."""
    cp = frames("carphone", 6)
    cartoon = cv2.resize(frames("no_face", 1)[0], (176, 144), interpolation=cv2.INTER_AREA)
    seq = [np.concatenate(pair, 1) for pair in
           [(cp[0], cp[1]), (cp[1], cp[2]), (cp[2], cartoon), (cp[3], cartoon),
            (cartoon, cartoon), (cartoon, cartoon), (cartoon, cartoon), (cartoon, cartoon)]]
    enhancer = FaceEnhancer(model(), tracked_boxes("cpu"))
    per_frame, outs = [], []
    for out in enhancer.stream(seq):
        per_frame.append(enhancer.times.faces - sum(per_frame))
        outs.append(out)
    assert len(outs) == len(seq)
    # a face stays super-resolved for BRIDGE_MISSES frames after its last detection
    gap = BRIDGE_MISSES
    assert per_frame == [2, 2] + [2] * gap + [1] * (2 - gap) + [1] * gap + [0] * (4 - gap)
    assert np.array_equal(outs[-1], bicubic_frame(seq[-1]))
    right = np.abs(outs[4][:, 4 * 176:].astype(int) - bicubic_frame(seq[4])[:, 4 * 176:])
    assert right.max() == 0  # the half whose face has left is plain bicubic again


def test_no_face_video_is_plain_bicubic():
    fr = frames("no_face", 3)
    enhancer = FaceEnhancer(model(), tracked_boxes("cpu"))
    outs = list(enhancer.stream(fr))
    assert enhancer.times.faces == 0
    for f, o in zip(fr, outs, strict=True):
        assert np.array_equal(o, bicubic_frame(f))


def test_cli_writes_a_4x_video_with_the_same_frames_and_rate(tmp_path, capsys):
    ckpt = save_checkpoint(tmp_path / "random.pt", model(), note="random weights, test")
    out = tmp_path / "carphone_x4.mp4"
    rc = main(["enhance", str(fetch_video("carphone")), str(out), "--checkpoint", str(ckpt),
               "--max-frames", "4", "--device", "cpu"])
    assert rc == 0, capsys.readouterr().err
    n, fps, w, h = read_back(out)
    assert (n, w, h) == (4, 4 * 176, 4 * 144)
    assert fps == pytest.approx(VideoReader(fetch_video("carphone")).info.fps, rel=1e-3)
    assert "4 face crops" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["carphone_x4.mp4", "random.pt"]


def test_checkpoint_none_writes_plain_bicubic(tmp_path):
    out = tmp_path / "x4.avi"
    assert main(["enhance", str(fetch_video("carphone")), str(out), "--checkpoint", "none",
                 "--max-frames", "2"]) == 0
    assert read_back(out)[0] == 2


def test_corrupt_and_missing_input_errors_name_the_file(tmp_path, capsys):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(np.random.default_rng(0).integers(0, 256, 20_000, dtype=np.uint8).tobytes())
    for src in (bad, tmp_path / "missing.mp4"):
        assert main(["enhance", str(src), str(tmp_path / "out.mp4"), "--checkpoint", "none"]) == 2
        assert str(src) in capsys.readouterr().err
    assert not (tmp_path / "out.mp4").exists()


@pytest.mark.parametrize("name", ["no_such_folder/out.mp4", "out.txt"])
def test_bad_output_path_errors_name_the_file(tmp_path, capsys, name):
    out = tmp_path / name
    assert main(["enhance", str(fetch_video("carphone")), str(out), "--checkpoint", "none"]) == 2
    assert str(out) in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_missing_default_checkpoint_says_how_to_get_one(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["enhance", str(fetch_video("carphone")), str(tmp_path / "o.mp4")]) == 2
    err = capsys.readouterr().err
    assert "hofvsr train" in err and "--checkpoint none" in err
