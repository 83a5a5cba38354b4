"""Phone videos: landscape pixels plus a display matrix of 90, 180 or 270 degrees, made from a
real clip (carphone, upright) with PyAV (whose ``set_display_rotation`` writes the same MP4
track matrix as Debian ffmpeg's ``-metadata:s:v:0 rotate=90``). Both readers give upright
frames, ``hofvsr enhance`` finds the face in every frame and writes upright pixels without a
matrix, with the frame count and the audio kept, and ``hofvsr dataset build`` crops the
upright face."""

from __future__ import annotations

from fractions import Fraction
from functools import cache
from itertools import islice
from pathlib import Path

import av
import cv2
import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from hofvsr_lib.cli import main
from hofvsr_lib.data.sources import fetch_video
from hofvsr_lib.data.video import VideoReader
from hofvsr_lib.facevideo.enhance import enhance_video
from hofvsr_lib.facevideo.io import FrameDecoder, probe
from hofvsr_lib.imaging import upscale

N = 12  # frames of a test clip
FPS = Fraction(25)
ROTATIONS = [90, 180, 270]


@cache
def upright_frames() -> tuple[np.ndarray, ...]:
    """The first frames of carphone (176x144, a man's face about 60 px), RGB."""
    return tuple(f for _, f in islice(VideoReader(fetch_video("carphone")).frames(), N))


def phone_clip(path: Path, rotation: int) -> Path:
    """carphone's first frames stored as a phone would: pixels turned clockwise by
    ``rotation`` and a display matrix that turns them back; a 440 Hz tone as AAC audio."""
    with av.open(str(path), "w") as out:
        stored = [np.ascontiguousarray(np.rot90(f, -rotation // 90)) for f in upright_frames()]
        v = out.add_stream("libx264", rate=FPS)
        v.height, v.width = stored[0].shape[:2]
        v.pix_fmt, v.options = "yuv420p", {"crf": "10"}
        v.set_display_rotation(rotation)
        a = out.add_stream("aac", rate=16000, layout="mono")
        for i, f in enumerate(stored):
            frame = av.VideoFrame.from_ndarray(f, format="rgb24")
            frame.pts = i
            out.mux(v.encode(frame))
        out.mux(v.encode(None))
        samples = int(16000 * N / FPS)
        tone = (np.sin(2 * np.pi * 440 * np.arange(samples) / 16000) * 8000).astype(np.int16)
        af = av.AudioFrame.from_ndarray(tone[None], format="s16", layout="mono")
        af.sample_rate, af.pts = 16000, 0
        out.mux(a.encode(af))
        out.mux(a.encode(None))
    return path


def difference(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two images (inf when their shapes differ)."""
    return float(np.abs(a.astype(float) - b).mean()) if a.shape == b.shape else float("inf")


@pytest.mark.parametrize("rotation", ROTATIONS)
def test_both_readers_give_upright_frames(tmp_path, rotation):
    path = phone_clip(tmp_path / f"phone{rotation}.mp4", rotation)
    with av.open(str(path)) as c:  # the stored pixels are turned: the test means something
        raw = next(c.decode(video=0))
        assert raw.rotation % 360 == rotation % 360 or raw.rotation == rotation - 360
        stored = raw.to_ndarray(format="rgb24")
    info = probe(path)
    assert (info.width, info.height, info.rotation) == (176, 144, rotation)
    reader = VideoReader(path)
    assert (reader.info.width, reader.info.height) == (176, 144)
    for frames in (list(FrameDecoder(path)), [f for _, f in reader.frames()]):
        assert len(frames) == N
        for got, want in zip(frames, upright_frames(), strict=True):
            assert difference(got, want) < 4  # x264 (crf 10), yuv420p
        assert difference(frames[0], upright_frames()[0]) < difference(stored, frames[0])


class Bicubic(nn.Module):
    """A stub x4 network (bicubic of the centre frame): the splice without a network's cost
    and without random weights' noise in the face."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return upscale(x[:, 1, 0], 4)[:, None]


@pytest.mark.parametrize("rotation", ROTATIONS)
def test_enhance_plays_like_the_input(tmp_path, rotation):
    src = phone_clip(tmp_path / "phone.mp4", rotation)
    out = tmp_path / "phone_x4.mp4"
    result = enhance_video(src, out, Bicubic(), "cpu", progress=False)  # MTCNN + tracking
    assert result.times.faces == N  # the face, upright, found in every frame
    with av.open(str(out)) as c:
        v = c.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(v)]
        assert (v.width, v.height, v.average_rate, len(frames)) == (4 * 176, 4 * 144, FPS, N)
    with av.open(str(out)) as c:
        assert {f.rotation for f in c.decode(video=0)} == {0}  # upright pixels, no matrix
        [audio] = c.streams.audio
        assert float(audio.duration * audio.time_base) == pytest.approx(N / FPS, abs=0.1)
    for got, want in zip(frames, upright_frames(), strict=True):
        shrunk = cv2.resize(got, (176, 144), interpolation=cv2.INTER_AREA)
        assert difference(shrunk, want) < 6 < difference(shrunk, want[::-1, ::-1])


def test_dataset_build_crops_the_upright_face(tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    for rotation in ROTATIONS:
        phone_clip(videos / f"phone{rotation}.mp4", rotation)
    out = tmp_path / "data"
    assert main(["dataset", "build", "--videos", str(videos), "--out", str(out),
                 "--max-frames", str(N), "--device", "cpu", "--no-progress"]) == 0
    manifest = pd.read_csv(out / "manifest.csv")
    per_video = manifest.groupby("source").size()
    assert len(per_video) == 3 and (per_video == N).all()
    assert set(zip(manifest["width"], manifest["height"], strict=True)) == {(176, 144)}
    crops = {Path(s).stem: cv2.imread(str(out / p)) for s, p in
             manifest.groupby("source")["png"].first().items()}
    for rotation in (180, 270):  # the same face, cropped the same way up
        assert difference(crops[f"phone{rotation}"], crops["phone90"]) < 12
