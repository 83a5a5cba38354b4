"""The dataset builder on real clips: aligned 144x144 face crops, bad inputs, resume, split."""

import shutil
import time

import cv2
import numpy as np
import pandas as pd
import pytest
from fixtures_data import SMALL_CONFIG, video, write_bad_inputs, write_truncated

from hofvsr_lib.cli import main as hofvsr
from hofvsr_lib.data.builder import BuildConfig, VideoInput, build_dataset
from hofvsr_lib.data.manifest import COLUMNS, assign_splits, cap_per_person, read_manifest
from hofvsr_lib.data.sources import (
    DEFAULT_SOURCES,
    DEFAULT_TEST_PERSONS,
    DEFAULT_VAL_PERSONS,
    SOURCES,
)


def _quiet(*_):
    pass


@pytest.fixture(scope="module")
def carphone_build(tmp_path_factory):
    """carphone (48 frames) next to every bad input, built through the CLI."""
    root = tmp_path_factory.mktemp("build")
    videos = root / "videos"
    expected = write_bad_inputs(videos)
    shutil.copy(video("carphone"), videos / "carphone.mp4")
    code = hofvsr(["dataset", "build", "--videos", str(videos), "--out", str(root / "out"),
                   "--profile", "smoke", "--max-frames", "48", "--no-progress",
                   "--device", "cpu"])
    return root, expected, code


def test_real_clip_gives_aligned_144px_face_crops(carphone_build):
    root, _, code = carphone_build
    assert code == 0
    m = read_manifest(root / "out")
    assert list(m.columns) == COLUMNS
    assert len(m) == 48 and m["sequence"].nunique() == 1 and (m["prob"] > 0.99).all()
    assert list(m["frame"]) == list(range(48)) and list(m["position"]) == list(range(48))
    assert m["sha256"].iloc[0] == SOURCES["carphone"].sha256
    crops = [cv2.imread(str(root / "out" / p)) for p in m["png"]]
    assert all(c.shape == (144, 144, 3) for c in crops)
    # every crop holds the face: the detected box lies inside the crop, centred
    cx = (m["x0"] + m["x1"]) / 2 - m["crop_x0"]
    cy = (m["y0"] + m["y1"]) / 2 - m["crop_y0"]
    assert (cx / m["crop_side"]).between(0.35, 0.65).all()
    assert (cy / m["crop_side"]).between(0.3, 0.7).all()
    # consecutive crops are aligned: the crop box barely moves and the images correlate
    side = m["crop_side"].to_numpy(float)
    step = np.hypot(np.diff(m["crop_x0"]), np.diff(m["crop_y0"])) / side[1:]
    assert step.max() < 0.06 and np.ptp(side) / side.mean() < 0.1
    grey = [cv2.cvtColor(c, cv2.COLOR_BGR2GRAY).astype(float).ravel() for c in crops]
    corr = [np.corrcoef(a, b)[0, 1] for a, b in zip(grey, grey[1:], strict=False)]
    assert min(corr) > 0.85 and np.median(corr) > 0.95


def test_each_bad_input_is_named_with_its_reason(carphone_build):
    root, expected, _ = carphone_build
    skipped = pd.read_csv(root / "out" / "skipped.csv")
    reasons = {f.split("/")[-1]: r for f, r in zip(skipped["file"], skipped["reason"],
                                                   strict=True)}
    assert set(reasons) == set(expected)
    for name, phrase in expected.items():
        assert phrase in reasons[name], (name, reasons[name])


def test_cartoon_face_is_not_taken_for_a_real_one(tmp_path):
    report = build_dataset([VideoInput(video("bigbuckbunny"), "bunny")], tmp_path,
                           BuildConfig(max_frames=48), device="cpu", progress=False,
                           log=_quiet)
    assert not report.ok
    ((file, reason),) = report.skipped
    assert file.endswith("bigbuckbunny.mp4") and "no real face" in reason


def test_nothing_usable_exits_non_zero(tmp_path, capsys):
    write_bad_inputs(tmp_path / "bad")
    code = hofvsr(["dataset", "build", "--videos", str(tmp_path / "bad"),
                   "--out", str(tmp_path / "out"), "--profile", "smoke", "--no-progress"])
    out = capsys.readouterr().out
    assert code == 1 and "Nothing usable came out" in out
    assert "SKIP" in out and "empty.mp4: empty file (0 bytes)" in out


def test_rerun_reuses_done_videos_and_an_interrupted_one_is_redone(tmp_path):
    src = tmp_path / "videos"
    src.mkdir()
    shutil.copy(video("carphone"), src / "a.mp4")
    shutil.copy(video("single_face"), src / "b.mp4")
    cfg = BuildConfig(max_frames=24)
    first = build_dataset(src, tmp_path / "out", cfg, device="cpu", progress=False, log=_quiet)
    assert first.ok and not first.reused
    # simulate an interruption while b was being written: its folder is half there
    (b_dir,) = (tmp_path / "out" / "faces").glob("b-*")
    b_dir.rename(b_dir.with_name(b_dir.name + ".part"))
    t0 = time.time()
    second = build_dataset(src, tmp_path / "out", cfg, device="cpu", progress=False, log=_quiet)
    assert second.reused == [str(src / "a.mp4")] and second.frames_read == 24
    pd.testing.assert_frame_equal(first.manifest, second.manifest)
    assert not list((tmp_path / "out" / "faces").glob("*.part"))
    third = build_dataset(src, tmp_path / "out", cfg, device="cpu", progress=False, log=_quiet)
    assert len(third.reused) == 2 and third.frames_read == 0 and time.time() - t0 < 60
    # other settings: nothing reused
    fourth = build_dataset(src, tmp_path / "out", BuildConfig(max_frames=24, margin=0.3),
                           device="cpu", progress=False, log=_quiet)
    assert not fourth.reused


def test_split_by_person_never_leaks(small_data):
    m = read_manifest(small_data)
    assert set(m["person"]) == {"car", "pyfeat", "webcam"}
    sides = m.groupby("person")["split"].nunique()
    assert (sides == 1).all()
    assert set(m["split"]) == {"train", "val", "test"}  # three persons: one on each side
    assert m.groupby("video")["split"].nunique().max() == 1
    assert len(m) == 3 * SMALL_CONFIG.max_frames  # every frame of the three clips has a face


def test_assign_splits():
    persons = [f"p{i}" for i in range(10)]
    s = assign_splits(persons)
    assert sum(v == "val" for v in s.values()) == 2 and sum(v == "test" for v in s.values()) == 2
    assert assign_splits(list(reversed(persons)) + ["p3"]) == s  # order and repeats don't matter
    assert assign_splits(["a", "b", "c"], ["b"], ["c"]) == {"a": "train", "b": "val", "c": "test"}
    assert assign_splits(["a", "b"]) in ({"a": "train", "b": "test"}, {"a": "test", "b": "train"})
    assert assign_splits(["solo"]) == {"solo": "train"}  # cannot split one person
    assert "train" in assign_splits(["a", "b"], test_persons=["a", "b"]).values()
    named = assign_splits(persons, val_persons=["p0"])  # the test side is still filled
    assert named["p0"] == "val" and sum(v == "test" for v in named.values()) == 2


def test_cap_per_person_takes_evenly_from_each_video():
    rows = [{"person": p, "video": v, "sequence": f"{v}/seq000", "position": i}
            for p, v, n in (("a", "a1", 10), ("a", "a2", 3), ("b", "b1", 4)) for i in range(n)]
    capped = cap_per_person(pd.DataFrame(rows), 8)
    assert capped.groupby("video").size().to_dict() == {"a1": 5, "a2": 3, "b1": 4}
    assert capped[capped["video"] == "a1"]["position"].tolist() == [0, 1, 2, 3, 4]


def test_default_sources_smoke_build(face_data):
    """The default clips with the smoke profile (the session's dataset): at least 18
    persons, every person on one side, the named validation and test persons there."""
    m = read_manifest(face_data)
    skipped = list(pd.read_csv(face_data / "skipped.csv").itertuples(index=False))
    assert set(m.loc[m["split"] == "val", "person"]) == set(DEFAULT_VAL_PERSONS)
    assert set(m.loc[m["split"] == "test", "person"]) == set(DEFAULT_TEST_PERSONS)
    assert m["person"].nunique() >= 18
    assert m.loc[m["split"] == "train", "person"].nunique() >= 8
    assert (m.groupby("person")["split"].nunique() == 1).all()  # no person crosses splits
    assert (m.groupby("video")["split"].nunique() == 1).all()  # nor does a clip's scene
    assert {"width", "height", "fps"} <= set(m.columns) and m["fps"].gt(0).all()
    # the borderline clip (guitar: tilted face, MTCNN's median probability under 0.99) may be
    # skipped, with its reason named; every other clip gives sequences
    assert m["video"].nunique() + len(skipped) == len(DEFAULT_SOURCES)
    assert all("guitar" in f and "face" in r for f, r in skipped), skipped


def test_a_multi_person_clip_gives_one_track_per_person(tmp_path):
    """table (three people seated) and obama (Obama, Biden behind him): each seat is a
    person of its own, followed in its band of the frame, one crop per frame at most."""
    inputs = [VideoInput(video(n), n, SOURCES[n].seats) for n in ("table", "obama")]
    report = build_dataset(inputs, tmp_path, BuildConfig(max_frames=16), device="cpu",
                           progress=False, log=_quiet)
    m = report.manifest
    assert not report.skipped
    persons = {v: set(g["person"]) for v, g in m.groupby(m["video"].str[:5])}
    assert persons == {"table": set(SOURCES["table"].persons),
                       "obama": set(SOURCES["obama"].persons)}
    assert (m.groupby("sequence")["person"].nunique() == 1).all()
    assert not m.duplicated(["person", "frame"]).any()  # one track per person and frame
    for name in ("table", "obama"):
        width = int(m.loc[m["video"].str.startswith(name), "width"].iloc[0])
        for seat in SOURCES[name].seats:
            rows = m[m["person"] == seat.person]
            assert len(rows) == 16, seat.person  # followed through every frame read
            centre = (rows["x0"] + rows["x1"]) / 2 / width
            assert centre.between(seat.x_from, seat.x_to).all(), seat.person
    # Biden's face (~46 px in MTCNN's box) is above the builder's 40 px minimum: kept
    biden = m.loc[m["person"] == "biden", "face_px"]
    assert 40 <= biden.median() < 52


def test_truncated_video_is_used_up_to_its_cut_and_named(tmp_path, capsys):
    cut = write_truncated(video("cap13"), tmp_path / "cut.mp4", keep=0.1)
    code = hofvsr(["dataset", "build", "--videos", str(cut), "--out", str(tmp_path / "out"),
                   "--profile", "smoke", "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0 and len(read_manifest(tmp_path / "out")) == 24  # the start is fine
    assert f"Warning {cut}: truncated or damaged: the header promises 765 frames" in out


def test_a_face_leaving_its_seat_is_not_given_to_the_next_one():
    """Position-based identity: a face that walks from the left seat into the right one's
    band stops being the left person's and never becomes the right person's."""
    from hofvsr_lib.data.builder import _seat_face
    from hofvsr_lib.data.faces import FaceTracker
    from hofvsr_lib.data.sources import Seat

    seats = (Seat("left", 0.0, 0.5), Seat("right", 0.5, 1.0))
    tracker, state = FaceTracker(), {"main": [None, None], "owner": {}}
    who = []
    for t in range(30):
        x = 100 + 20 * t  # crosses the middle of a 1000 px wide frame at t = 20
        active = {k.id: k for k in tracker.update((np.array([[x - 40, 100, x + 40, 180]]),
                                                   np.ones(1)))}
        alive = {k.id for k in tracker.tracks}
        who.append([_seat_face(k, s, active, alive, state, 1000) is not None
                    for k, s in enumerate(seats)])
    assert who[:20] == [[True, False]] * 20 and who[20:] == [[False, False]] * 10
