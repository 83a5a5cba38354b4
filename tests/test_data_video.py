"""OpenCV decoding: frame selection, RGB order, and one clear error per kind of bad file."""

import cv2
import numpy as np
import pytest
from fixtures_data import video, write_bad_inputs, write_truncated

from hofvsr_lib.data.video import VideoError, VideoReader, frame_plan


def test_reads_the_wanted_frames_in_rgb():
    path = video("carphone")
    r = VideoReader(path)
    assert (r.info.width, r.info.height, r.info.n_frames) == (176, 144, 120)
    got = list(r.frames({0, 5, 6, 7, 119}))
    assert [i for i, _ in got] == [0, 5, 6, 7, 119]
    assert not r.truncated
    cap = cv2.VideoCapture(str(path))
    for _ in range(6):
        ok, bgr = cap.read()
    cap.release()
    np.testing.assert_array_equal(got[1][1], bgr[..., ::-1])  # frame 5, RGB
    assert got[1][1].dtype == np.uint8 and got[1][1].shape == (144, 176, 3)


def test_bad_files_raise_a_clear_error(tmp_path):
    expected = write_bad_inputs(tmp_path)
    for name in ("empty.mp4", "cut_index.mp4", "noise.mkv", "astronaut.png",
                 "photo_named_like_a_video.mov"):
        with pytest.raises(VideoError) as e:
            VideoReader(tmp_path / name)
        assert name in str(e.value) and expected[name] in e.value.reason
    with pytest.raises(VideoError, match="no such file"):
        VideoReader(tmp_path / "missing.mp4")


def test_truncated_stream_decodes_its_start_and_says_so(tmp_path):
    path = write_truncated(video("cap13"), tmp_path / "cut.mp4", keep=0.3)
    r = VideoReader(path)
    n = sum(1 for _ in r.frames())
    assert 20 < n < 0.5 * r.info.n_frames and r.truncated


def test_frame_plan():
    assert frame_plan(100, None) == list(range(100))
    assert frame_plan(100, 200) == list(range(100))
    assert frame_plan(100, None, step=2) == list(range(0, 100, 2))
    plan = frame_plan(4800, 300, chunk=48)
    assert len(plan) == 300 and plan == sorted(set(plan))
    assert plan[0] == 0 and plan[-1] == 4799  # spread over the whole video
    runs = np.split(np.array(plan), np.where(np.diff(plan) != 1)[0] + 1)
    assert len(runs) == 7 and min(len(r) for r in runs) >= 42
    assert frame_plan(0, 24) == list(range(24))  # unknown length: the first frames
