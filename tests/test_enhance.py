"""``hofvsr enhance`` on real clips: the device pipeline (YUV 4:2:0 out), the H.264 file with
its audio, and one clear message per kind of bad input. Networks are a randomly initialised
HO-FVSR (speed and structure, not quality, are what it can show) or stubs that make the
splice and the frame order visible."""

from __future__ import annotations

from fractions import Fraction
from functools import cache
from itertools import islice

import av
import cv2
import numpy as np
import pytest
import torch
from torch import nn

from hofvsr_lib.cli import main
from hofvsr_lib.data.sources import fetch_video
from hofvsr_lib.data.video import VideoReader
from hofvsr_lib.facevideo.enhance import enhance_video
from hofvsr_lib.facevideo.io import H264Writer, probe
from hofvsr_lib.facevideo.pipeline import (
    BRIDGE_MISSES,
    FaceEnhancer,
    bicubic_yuv420,
    bucketed_crop,
    feather_mask,
    tracked_boxes,
)
from hofvsr_lib.imaging import rgb_to_ycbcr, upscale
from hofvsr_lib.models import build_model, save_checkpoint


@cache
def frames(name: str, n: int) -> tuple[np.ndarray, ...]:
    """The first ``n`` RGB frames of a default clip."""
    return tuple(f for _, f in islice(VideoReader(fetch_video(name)).frames(), n))


@cache
def model() -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model("hofvsr").eval()


class Constant(nn.Module):
    """A stub x4 network whose output is one grey level."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.full((x.shape[0], 1, 4 * x.shape[-2], 4 * x.shape[-1]), 0.5)


class Recorder(nn.Module):
    """A stub x4 network that keeps its inputs and returns bicubic of the centre frame."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.inputs.append(x.clone())
        return upscale(x[:, 1, 0], 4)[:, None]


def planes(yuv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Y (H, W) and the chroma planes (2, H/2, W/2) of a packed yuv420p frame."""
    h, w = yuv.shape[0] * 2 // 3, yuv.shape[1]
    return yuv[:h], yuv[h:].reshape(2, h // 2, w // 2)


def read_back(path) -> dict:
    """Frames, rate, size, codecs and durations of a written video (decoded with PyAV)."""
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        out = {"codec": v.codec_context.name, "pix_fmt": v.codec_context.pix_fmt,
               "rate": v.average_rate, "size": (v.width, v.height),
               "frames": sum(1 for _ in c.decode(v))}
    with av.open(str(path)) as c:
        out["audio"] = [(a.codec_context.name, float(a.duration * a.time_base) if a.duration
                         else c.duration / 1e6) for a in c.streams.audio]
    return out


def with_audio(tmp_path, name="talk.mp4", audio_codec="aac", n=12) -> tuple:
    """A real clip (carphone's first ``n`` frames) with a 440 Hz tone as its audio track."""
    path = tmp_path / name
    fps = Fraction(25)
    with av.open(str(path), "w") as out:
        v = out.add_stream("libx264", rate=fps)
        v.width, v.height, v.pix_fmt = 176, 144, "yuv420p"
        a = out.add_stream(audio_codec, rate=16000, layout="mono")
        for i, f in enumerate(frames("carphone", n)):
            frame = av.VideoFrame.from_ndarray(f, format="rgb24")
            frame.pts = i
            out.mux(v.encode(frame))
        samples = int(16000 * n / fps)
        tone = (np.sin(2 * np.pi * 440 * np.arange(samples) / 16000) * 8000).astype(np.int16)
        af = av.AudioFrame.from_ndarray(tone[None], format="s16", layout="mono")
        af.sample_rate, af.pts = 16000, 0
        out.mux(a.encode(af))
        out.mux(a.encode(None))
        out.mux(v.encode(None))
    return path, n / fps


def test_bicubic_frame_is_imaging_bicubic_in_yuv420():
    f = frames("carphone", 1)[0]
    y, c = planes(bicubic_yuv420(f))
    ycc = torch.from_numpy(rgb_to_ycbcr(f / 255.0)).permute(2, 0, 1)
    assert y.shape == (4 * 144, 4 * 176) and c.shape == (2, 2 * 144, 2 * 176)
    assert np.abs(y - (upscale(ycc[0], 4) * 255).round().clamp(0, 255).numpy()).max() <= 1
    assert np.abs(c - (upscale(ycc[1:], 2) * 255).round().clamp(0, 255).numpy()).max() <= 1


def test_feather_mask_is_one_inside_and_fades_at_the_seam():
    m = feather_mask(40, 60, feather=0.25).numpy()
    assert m.shape == (40, 60)
    assert m[20, 30] == 1.0 and m[0, 0] < 0.01 and m[0, 30] < 0.1
    assert np.allclose(m, m[::-1, ::-1])


def test_crops_are_bucketed_and_stay_in_the_frame():
    x0, y0, s = bucketed_crop(np.array([50.0, 40, 90, 85]), (144, 176), margin=0.2, bucket=16)
    assert s % 16 == 0 and s >= 1.4 * 45 and 0 <= x0 <= 176 - s and 0 <= y0 <= 144 - s
    assert bucketed_crop(np.array([0.0, 0, 170, 140]), (144, 176))[2] == 144  # frame-limited


@pytest.mark.parametrize("n", [1, 2, 5])
def test_stream_keeps_the_frame_count(n):
    enhancer = FaceEnhancer(None)
    fr = frames("carphone", 5)[:n]
    outs = list(enhancer.stream((f, np.zeros((0, 4))) for f in fr))
    assert len(outs) == n and enhancer.times.frames == n
    for f, o in zip(fr, outs, strict=True):
        assert np.array_equal(o, bicubic_yuv420(f))


def test_splice_sets_luma_inside_and_keeps_chroma_and_outside():
    f = frames("carphone", 1)[0]
    box = np.array([60.0, 40, 100, 80])
    out = list(FaceEnhancer(Constant(), feather=0.15).stream([(f, box[None])]))[0]
    ref = bicubic_yuv420(f)
    (y, c), (y_ref, c_ref) = planes(out), planes(ref)
    assert np.array_equal(c, c_ref)  # chroma stays bicubic
    x0, y0, s = (4 * v for v in bucketed_crop(box, f.shape))
    inner = int(0.15 * s) + 1
    assert (y[y0 + inner:y0 + s - inner, x0 + inner:x0 + s - inner] == 128).all()
    outside = np.ones_like(y, bool)
    outside[y0:y0 + s, x0:x0 + s] = False
    assert np.array_equal(y[outside], y_ref[outside])


def test_network_sees_frames_t_minus_1_t_t_plus_1():
    fr = [np.full((48, 64, 3), 40 * i + 20, np.uint8) for i in range(4)]
    net = Recorder()
    box = np.array([[10.0, 10, 40, 40]])
    outs = list(FaceEnhancer(net, margin=0.0).stream((f, box) for f in fr))
    assert len(outs) == 4
    y = [float(rgb_to_ycbcr(f[0, 0] / 255.0)[0]) for f in fr]
    seen = [[round(float(x[0, k].mean()), 4) for k in range(3)] for x in net.inputs]
    expected = [[y[max(t - 1, 0)], y[t], y[min(t + 1, 3)]] for t in range(4)]
    assert seen == [[round(v, 4) for v in e] for e in expected]


def test_faces_are_spliced_only_in_their_region():
    fr = frames("carphone", 3)
    boxes_for = tracked_boxes("cpu")
    enhancer = FaceEnhancer(model())
    outs = list(enhancer.stream((f, boxes_for(f)) for f in fr))
    assert enhancer.times.faces == 3  # the man is found in every frame
    box = tracked_boxes("cpu")(fr[1])[0]
    cx, cy = 4 * (box[0] + box[2]) / 2, 4 * (box[1] + box[3]) / 2
    diff = np.abs(planes(outs[1])[0].astype(int) - planes(bicubic_yuv420(fr[1]))[0])
    assert diff[int(cy) - 20:int(cy) + 20, int(cx) - 20:int(cx) + 20].mean() > 1
    changed = np.argwhere(diff > 0)
    side = 4 * max(box[2] - box[0], box[3] - box[1]) * 1.4 + 4 * 16  # margins + bucket
    assert np.abs(changed[:, 1] - cx).max() <= side / 2 + 4
    assert np.abs(changed[:, 0] - cy).max() <= side / 2 + 4


def test_several_faces_entering_and_leaving():
    """Real faces side by side: two, then one, then none (the cartoon of no_face)."""
    cp = frames("carphone", 6)
    cartoon = cv2.resize(frames("no_face", 1)[0], (176, 144), interpolation=cv2.INTER_AREA)
    seq = [np.concatenate(pair, 1) for pair in
           [(cp[0], cp[1]), (cp[1], cp[2]), (cp[2], cartoon), (cp[3], cartoon),
            (cartoon, cartoon), (cartoon, cartoon), (cartoon, cartoon), (cartoon, cartoon)]]
    enhancer = FaceEnhancer(model())
    boxes_for = tracked_boxes("cpu")
    per_frame, outs = [], []
    for out in enhancer.stream((f, boxes_for(f)) for f in seq):
        per_frame.append(enhancer.times.faces - sum(per_frame))
        outs.append(out)
    assert len(outs) == len(seq)
    # a face stays super-resolved for BRIDGE_MISSES frames after its last detection
    gap = BRIDGE_MISSES
    assert per_frame == [2, 2] + [2] * gap + [1] * (2 - gap) + [1] * gap + [0] * (4 - gap)
    assert np.array_equal(outs[-1], bicubic_yuv420(seq[-1]))
    right = planes(outs[4])[0][:, 4 * 176:].astype(int) - planes(bicubic_yuv420(seq[4]))[0][
        :, 4 * 176:]
    assert np.abs(right).max() == 0  # the half whose face has left is plain bicubic again


def test_detect_every_k_runs_the_detector_on_every_kth_frame(monkeypatch):
    from hofvsr_lib.data.faces import FaceDetector

    calls = []
    real = FaceDetector.detect
    monkeypatch.setattr(FaceDetector, "detect",
                        lambda self, fr, *a, **k: calls.append(1) or real(self, fr, *a, **k))
    boxes_for = tracked_boxes("cpu", every=3)
    boxes = [boxes_for(f) for f in frames("carphone", 7)]
    assert len(calls) == 3 and all(len(b) == 1 for b in boxes)  # frames 0, 3, 6


def test_max_face_scales_big_crops_for_the_network():
    f = frames("carphone", 2)
    enhancer = FaceEnhancer(model(), max_face=32)
    box = np.array([[40.0, 30, 120, 110]])
    outs = list(enhancer.stream((x, box) for x in f))
    assert enhancer.scaled == 2 and planes(outs[0])[0].shape == (4 * 144, 4 * 176)


def test_cli_writes_h264_with_the_same_frames_rate_and_audio(tmp_path, capsys):
    src, seconds = with_audio(tmp_path)
    ckpt = save_checkpoint(tmp_path / "random.pt", model(), note="random weights, test")
    out = tmp_path / "talk_x4.mp4"
    assert main(["enhance", str(src), str(out), "--checkpoint", str(ckpt),
                 "--device", "cpu"]) == 0, capsys.readouterr().err
    got = read_back(out)
    assert got["codec"] == "h264" and got["pix_fmt"] == "yuv420p"
    assert (got["frames"], got["rate"], got["size"]) == (12, 25, (4 * 176, 4 * 144))
    [(codec, duration)] = got["audio"]
    assert codec == "aac" and duration == pytest.approx(float(seconds), abs=0.1)
    assert "12 face crops" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["random.pt", "talk.mp4",
                                                          "talk_x4.mp4"]


def test_audio_the_container_cannot_hold_is_reencoded_to_aac(tmp_path):
    src, _ = with_audio(tmp_path, "talk.mov", audio_codec="pcm_s16le", n=6)
    enhance_video(src, tmp_path / "x4.mp4", None, progress=False)
    assert [c for c, _ in read_back(tmp_path / "x4.mp4")["audio"]] == ["aac"]
    enhance_video(src, tmp_path / "x4.mkv", None, progress=False)
    assert [c for c, _ in read_back(tmp_path / "x4.mkv")["audio"]] == ["pcm_s16le"]


def test_video_without_audio_and_max_frames(tmp_path):
    out = tmp_path / "x4.mkv"
    assert main(["enhance", str(fetch_video("carphone")), str(out), "--checkpoint", "none",
                 "--max-frames", "3"]) == 0
    got = read_back(out)
    assert got["frames"] == 3 and got["audio"] == []
    assert float(got["rate"]) == pytest.approx(VideoReader(fetch_video("carphone")).info.fps)


def test_no_face_video_is_plain_bicubic_with_the_same_frame_count(tmp_path, capsys):
    ckpt = save_checkpoint(tmp_path / "random.pt", model(), note="random weights, test")
    out = tmp_path / "x4.mp4"
    assert main(["enhance", str(fetch_video("no_face")), str(out), "--checkpoint", str(ckpt),
                 "--max-frames", "4"]) == 0
    assert "plain bicubic" in capsys.readouterr().out and read_back(out)["frames"] == 4


def test_interrupted_run_leaves_no_output(tmp_path):
    seen = []

    def boxes_for(frame):
        if len(seen) == 5:
            raise KeyboardInterrupt
        seen.append(1)
        return np.zeros((0, 4))

    with pytest.raises(KeyboardInterrupt):
        enhance_video(fetch_video("carphone"), tmp_path / "x4.mp4", model(),
                      boxes_for=boxes_for, progress=False)
    assert list(tmp_path.iterdir()) == []


def still_image(tmp_path):
    path = tmp_path / "photo.png"
    cv2.imwrite(str(path), frames("carphone", 1)[0])
    return path


def renamed_still(tmp_path):
    path = tmp_path / "photo.mp4"
    path.write_bytes(still_image(tmp_path).read_bytes())
    return path


def text_file(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("not a video\n" * 100)
    return path


def random_bytes(tmp_path):
    path = tmp_path / "broken.mp4"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 20_000, np.uint8).tobytes())
    return path


def cut_in_half(tmp_path):
    path = tmp_path / "cut.mp4"
    data = fetch_video("carphone").read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


@pytest.mark.parametrize("make", [still_image, renamed_still, text_file, random_bytes,
                                  cut_in_half, lambda p: p / "missing.mp4"])
def test_bad_input_gives_one_line_naming_the_file(tmp_path, capsys, make):
    src = make(tmp_path)
    before = set(tmp_path.iterdir())
    assert main(["enhance", str(src), str(tmp_path / "out.mp4"), "--checkpoint", "none"]) == 2
    err = capsys.readouterr().err
    assert str(src) in err and "Traceback" not in err and err.count("\n") == 1
    assert set(tmp_path.iterdir()) == before


def test_stream_broken_part_way_keeps_the_frames_before_it(tmp_path, capsys):
    """A Matroska file cut short: the frames before the cut are written, exit status 1."""
    full = tmp_path / "full.mkv"
    with av.open(str(full), "w") as out:
        v = out.add_stream("mjpeg", rate=25)
        v.width, v.height, v.pix_fmt = 176, 144, "yuvj420p"
        for i, f in enumerate(frames("carphone", 20)):
            frame = av.VideoFrame.from_ndarray(f, format="rgb24")
            frame.pts = i
            out.mux(v.encode(frame))
        out.mux(v.encode(None))
    cut = tmp_path / "cut.mkv"
    data = full.read_bytes()
    cut.write_bytes(data[: int(len(data) * 0.6)])
    out = tmp_path / "x4.mp4"
    rc = main(["enhance", str(cut), str(out), "--checkpoint", "none"])
    err = capsys.readouterr().err
    n = read_back(out)["frames"]
    assert rc in (0, 1) and 8 <= n < 20
    if rc == 1:
        assert str(cut) in err and "stopped after" in err


@pytest.mark.parametrize("name", ["no_such_folder/out.mp4", "out.txt", "out.avi"])
def test_bad_output_path_errors_name_the_file(tmp_path, capsys, name):
    out = tmp_path / name
    assert main(["enhance", str(fetch_video("carphone")), str(out), "--checkpoint", "none"]) == 2
    assert str(out) in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_corrupt_checkpoint_is_named(tmp_path, capsys):
    ckpt = save_checkpoint(tmp_path / "net.pt", model(), note="test")
    ckpt.write_bytes(ckpt.read_bytes()[:5000])
    assert main(["enhance", str(fetch_video("carphone")), str(tmp_path / "o.mp4"),
                 "--checkpoint", str(ckpt)]) == 2
    err = capsys.readouterr().err
    assert str(ckpt) in err and "Traceback" not in err and not (tmp_path / "o.mp4").exists()


def test_missing_default_checkpoint_says_how_to_get_one(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["enhance", str(fetch_video("carphone")), str(tmp_path / "o.mp4")]) == 2
    err = capsys.readouterr().err
    assert "hofvsr train" in err and "--checkpoint none" in err


@pytest.mark.parametrize("flag", ["--max-face", "--detect-every", "--max-frames"])
def test_bad_numbers_are_refused(tmp_path, capsys, flag):
    assert main(["enhance", str(fetch_video("carphone")), str(tmp_path / "o.mp4"),
                 "--checkpoint", "none", flag, "0"]) == 2
    assert flag in capsys.readouterr().err


def test_writer_publishes_only_when_finished(tmp_path):
    with pytest.raises(RuntimeError), H264Writer(tmp_path / "x.mp4", 64, 48, Fraction(25)) as w:
        w.write(np.zeros((72, 64), np.uint8))
        raise RuntimeError("stop")
    assert list(tmp_path.iterdir()) == []
    with H264Writer(tmp_path / "x.mp4", 64, 48, Fraction(25)) as w:
        for _ in range(3):
            w.write(np.full((72, 64), 128, np.uint8))
        w.finish()
    assert [p.name for p in tmp_path.iterdir()] == ["x.mp4"]
    assert probe(tmp_path / "x.mp4").width == 64
