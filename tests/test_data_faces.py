"""MTCNN detection on a real photo, multi-face tracking, stable square boxes."""

import cv2
import numpy as np
import pytest
import skimage.data

from hofvsr_lib.data.faces import (
    FaceDetector,
    FaceTracker,
    crop_resize,
    crop_square,
    iou,
    smooth_boxes,
    square_of,
)

ASTRONAUT_BOX = np.array([181, 62, 268, 172])  # MTCNN on skimage's astronaut (verified)


@pytest.fixture(scope="module")
def detector():
    return FaceDetector(device="cpu", min_face=40)


def test_detects_the_astronaut_and_maps_shrunk_boxes_back(detector):
    img = skimage.data.astronaut()
    big = cv2.resize(img, (1024, 1024), interpolation=cv2.INTER_CUBIC)  # detected at 640
    (b1, p1), (b2, p2) = detector.detect([img])[0], detector.detect([big])[0]
    assert b1.shape == (1, 4) and p1.shape == (1,) and p1[0] > 0.99
    np.testing.assert_allclose(b1[0], ASTRONAUT_BOX, atol=6)
    np.testing.assert_allclose(b2[0], 2 * ASTRONAUT_BOX, atol=12)
    assert p2[0] > 0.99


def test_batch_of_mixed_sizes_and_an_empty_frame(detector):
    img = skimage.data.astronaut()
    blank = np.full((200, 300, 3), 128, np.uint8)
    dets = detector.detect([img, blank, img])
    assert [len(b) for b, _ in dets] == [1, 0, 1]
    assert dets[1][0].shape == (0, 4) and dets[1][1].shape == (0,)


def _box(cx, cy, s):
    return [cx - s / 2, cy - s / 2, cx + s / 2, cy + s / 2]


def test_tracker_keeps_ids_through_motion_exits_and_entries():
    tr = FaceTracker(max_missed=2)
    ids = []
    for t in range(30):
        boxes = [_box(100 + 3 * t, 100, 60)]  # face A walks right
        if 5 <= t < 20:
            boxes.append(_box(400, 200 - 2 * t, 80))  # face B visible for 15 frames
        if t >= 25:
            boxes.append(_box(250, 300, 50))  # face C enters late
        active = tr.update((np.array(boxes), np.full(len(boxes), 0.999)))
        ids.append(sorted(t_.id for t_ in active))
    assert ids[0] == [0] and ids[10] == [0, 1] and ids[22] == [0] and ids[29] == [0, 2]
    assert all(0 in i for i in ids)  # A never lost


def test_tracker_follows_fast_motion_by_centre_and_survives_a_missed_frame():
    tr = FaceTracker(max_missed=3)
    tr.update((np.array([_box(100, 100, 60)]), np.ones(1)))
    tr.update((np.zeros((0, 4)), np.zeros(0)))  # missed
    assert tr.update((np.zeros((0, 4)), np.zeros(0))) == [] and len(tr.tracks) == 1
    # a 25 px jump: IoU 0.41 -> the same face; then 20 px right and down: IoU 0.29, but the
    # centre moved 0.47 x the side -> still the same face; far away: a new face
    assert [t.id for t in tr.update((np.array([_box(125, 100, 60)]), np.ones(1)))] == [0]
    assert [t.id for t in tr.update((np.array([_box(145, 120, 60)]), np.ones(1)))] == [0]
    assert [t.id for t in tr.update((np.array([_box(245, 120, 60)]), np.ones(1)))] == [1]


def test_tracker_cuts_crossing_faces_rather_than_swapping_them():
    """Two faces walk through each other: where both could continue either track, the
    tracks end; no track ever holds boxes of both faces."""
    tr = FaceTracker()
    path = {}  # track id -> which face (by the direction it moves) its boxes came from
    for t in range(40):
        boxes = [_box(100 + 6 * t, 100, 60), _box(340 - 6 * t, 104, 60)]  # A right, B left
        for trk in tr.update((np.array(boxes), np.full(2, 0.999))):
            face = int(np.argmin([np.abs(trk.raw_box - b).sum() for b in boxes]))
            assert path.setdefault(trk.id, face) == face, (t, trk.id)
    assert len(path) > 2  # the crossing ended both tracks; new ones followed
    assert set(path.values()) == {0, 1}


def test_tracker_smooths_jitter():
    rng = np.random.default_rng(0)
    tr = FaceTracker()
    raw, smooth = [], []
    for _ in range(100):
        b = np.array(_box(200, 150, 80)) + rng.normal(0, 3, 4)
        (t,) = tr.update((b[None], np.ones(1)))
        raw.append(square_of(t.raw_box))
        smooth.append(square_of(t.box))
        assert t.box[2] - t.box[0] == pytest.approx(t.box[3] - t.box[1])  # square
    raw, smooth = np.array(raw[10:]), np.array(smooth[10:])
    assert smooth[:, 2].std() < 0.6 * raw[:, 2].std()
    assert smooth[:, :2].std(0).max() < raw[:, :2].std(0).max()


def test_offline_smoothing_has_no_lag_and_removes_jitter():
    t = np.arange(40.0)
    clean = np.stack([_box(100 + 2 * k, 80, 60) for k in t])
    noisy = clean + np.random.default_rng(1).normal(0, 2, clean.shape)
    out = smooth_boxes(clean)
    np.testing.assert_allclose(out[2:-2], clean[2:-2], atol=1e-6)  # linear motion kept exactly
    assert np.abs(smooth_boxes(noisy) - clean).mean() < np.abs(noisy - clean).mean()


def test_crop_square_stays_inside_the_frame():
    shape = (144, 176, 3)
    for box in ([0, 0, 60, 60], [150, 100, 190, 150], [-20, -20, 300, 300]):
        x0, y0, side = crop_square(np.array(box, float), 0.25, shape)
        assert 0 <= x0 and 0 <= y0 and x0 + side <= 176 and y0 + side <= 144
    x0, y0, side = crop_square(np.array([60, 40, 100, 80], float), 0.25, shape)
    assert side == 60 and (x0, y0) == (50, 30)
    frame = np.zeros(shape, np.uint8)
    assert crop_resize(frame, (x0, y0, side), 144).shape == (144, 144, 3)


def test_iou():
    a = np.array([[0, 0, 10, 10]])
    np.testing.assert_allclose(iou(a, np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]])),
                               [[1.0, 1 / 3, 0.0]])
