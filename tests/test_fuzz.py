"""Corruption fuzz: 20 damaged copies of a real clip (single_face's first 12 frames at half
size, H.264 + its MP3 audio, the index first so that a cut file still decodes up to the cut);
with a fixed seed, cut at random points or random bytes changed in the header (the index) or
in the middle (the frames). Fed to ``hofvsr enhance`` and ``hofvsr dataset build``, each run ends
within a time limit with one clear line or a valid output, never a traceback, never a file
under its final name that does not play (or, for the dataset, a crop that does not read).

The runs happen in a child process (a hang or a crash in FFmpeg then fails the test instead of
stopping the suite): this file is also its script, ``python tests/test_fuzz.py enhance DIR``.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import tempfile
import time
from functools import cache
from itertools import islice
from pathlib import Path

import av
import cv2
import numpy as np
import pandas as pd

from hofvsr_lib.data.sources import fetch_video

N_COPIES = 20
SEED = 0
FRAMES = 12  # of the clip, all of them decoded by every run
RUN_LIMIT_S = 60  # one enhance run (about 1 s when the machine is idle)
BUILD_LIMIT_S = 300  # the dataset build over the 20 copies


@cache
def small_clip() -> bytes:
    """single_face's first ``FRAMES`` frames at half size (320x180), H.264, with its MP3 audio
    of that time (packets copied), the index (moov) first so that a cut copy still decodes up
    to the cut; made once per session. (libx264 through PyAV does not give the same bytes in
    every process here, so the damaged copies vary a little between sessions; a failing run's
    copies stay in pytest's tmp_path.)"""
    with tempfile.TemporaryDirectory() as tmp:
        return _write_small_clip(Path(tmp, "clip.mp4")).read_bytes()


def _write_small_clip(dst: Path) -> Path:
    with av.open(str(fetch_video("single_face"))) as inp, \
            av.open(str(dst), "w", options={"movflags": "faststart"}) as out:
        v_in, a_in = inp.streams.video[0], inp.streams.audio[0]
        v = out.add_stream("libx264", rate=25)
        v.width, v.height, v.pix_fmt = 320, 180, "yuv420p"
        a = out.add_stream_from_template(a_in)
        for i, frame in enumerate(islice(inp.decode(v_in), FRAMES)):
            small = cv2.resize(frame.to_ndarray(format="rgb24"), (320, 180),
                               interpolation=cv2.INTER_AREA)
            f = av.VideoFrame.from_ndarray(small, format="rgb24")
            f.pts = i
            out.mux(v.encode(f))
        out.mux(v.encode(None))
        inp.seek(0)
        end = FRAMES / 25
        for packet in inp.demux(a_in):
            if packet.dts is not None and packet.dts * packet.time_base < end:
                packet.stream = a
                out.mux(packet)
    return dst


def corrupted_copies(data: bytes, folder: Path) -> list[Path]:
    """``N_COPIES`` damaged copies of the clip ``data`` in ``folder``: in turn cut at a random
    point, 8 random bytes changed in the header (before the frame data), 32 in the middle
    third."""
    header_end = data.index(b"mdat")
    rng = np.random.default_rng(SEED)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(N_COPIES):
        kind = ("cut", "header", "middle")[i % 3]
        damaged = bytearray(data)
        if kind == "cut":
            damaged = damaged[: int(rng.integers(len(data) // 50, len(data)))]
        else:
            lo, hi, n = (0, header_end, 8) if kind == "header" else \
                (len(data) // 3, 2 * len(data) // 3, 32)
            for pos in rng.integers(lo, hi, n):
                damaged[pos] ^= int(rng.integers(1, 256))
        path = folder / f"{i:02d}_{kind}.mp4"
        path.write_bytes(bytes(damaged))
        paths.append(path)
    return paths


def plays(path: Path) -> int:
    """How many video frames ``path`` decodes, every packet of every stream read without an
    error (an AssertionError naming the file otherwise)."""
    try:
        with av.open(str(path)) as c:
            n = sum(1 for _ in c.decode(video=0))
        with av.open(str(path)) as c:
            for packet in c.demux():
                packet.decode()
    except av.FFmpegError as err:
        raise AssertionError(f"{path} does not play: {err}") from err
    return n


def run_enhance_all(folder: Path) -> list[dict]:
    """The child's work: ``hofvsr enhance`` on every file of ``folder`` (bicubic only) in this
    process; per run its exit status, stderr and time."""
    from hofvsr_lib.cli import main

    runs = []
    for src in sorted(folder.glob("*.mp4")):
        err, start = io.StringIO(), time.perf_counter()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            rc = main(["enhance", str(src), str(folder / "out" / f"{src.stem}_x4.mp4"),
                       "--checkpoint", "none"])
        runs.append({"input": src.name, "rc": rc, "stderr": err.getvalue(),
                     "seconds": time.perf_counter() - start})
    return runs


def child(args: list[str], limit: float) -> subprocess.CompletedProcess:
    """``args`` in a child process that must end within ``limit`` seconds."""
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired as err:
        raise AssertionError(f"{args[1:3]} still running after {limit} s: a hang") from err


def test_enhance_on_corrupted_copies(tmp_path):
    folder = tmp_path / "inputs"
    copies = corrupted_copies(small_clip(), folder)
    (folder / "out").mkdir()
    proc = child([sys.executable, __file__, "enhance", str(folder)], N_COPIES * RUN_LIMIT_S)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    runs = json.loads(proc.stdout.splitlines()[-1])
    assert [r["input"] for r in runs] == [p.name for p in copies]
    for r in runs:
        out = folder / "out" / f"{Path(r['input']).stem}_x4.mp4"
        assert r["seconds"] < RUN_LIMIT_S and "Traceback" not in r["stderr"], r
        said = [line for line in r["stderr"].splitlines()
                if line.startswith(("error:", "warning:"))]
        assert all(r["input"] in line for line in said), r
        if r["rc"] == 2:  # refused: one line naming the file, nothing written
            assert len(said) == 1 and said[0].startswith("error:") and not out.exists(), r
        else:  # written, whole (0) or up to where the input breaks off (1, said in a line);
            # damaged audio packets left out are said too
            assert r["rc"] in (0, 1) and all(s.startswith("warning:") for s in said), r
            assert len(said) >= r["rc"] and 1 <= plays(out) <= FRAMES, r
    assert sorted(p.name for p in (folder / "out").iterdir()) == sorted(
        f"{Path(r['input']).stem}_x4.mp4" for r in runs if r["rc"] != 2)  # no hidden partials
    outcomes = {r["rc"] for r in runs}
    assert {0, 2} <= outcomes, runs  # the copies reach both outcomes (the fuzz bites)


def test_dataset_build_on_corrupted_copies(tmp_path):
    folder = tmp_path / "inputs"
    copies = corrupted_copies(small_clip(), folder)
    out = tmp_path / "data"
    hofvsr = Path(sys.executable).with_name("hofvsr")
    proc = child([str(hofvsr), "dataset", "build", "--videos", str(folder), "--out", str(out),
                  "--max-frames", str(FRAMES), "--device", "cpu", "--no-progress"], BUILD_LIMIT_S)
    text = proc.stdout + proc.stderr
    assert proc.returncode in (0, 1) and "Traceback" not in text, text[-2000:]
    manifest = pd.read_csv(out / "manifest.csv")
    skipped = pd.read_csv(out / "skipped.csv")
    used = {Path(s).name for s in manifest["source"]}
    refused = {Path(f).name for f in skipped["file"]}
    assert used | refused == {p.name for p in copies} and not used & refused
    assert skipped["reason"].str.len().gt(0).all()
    for png in manifest["png"]:
        assert cv2.imread(str(out / png)) is not None, png
    assert not list(out.rglob("*.part")) and not list(out.rglob("*.tmp"))


if __name__ == "__main__":
    if sys.argv[1] == "enhance":
        print(json.dumps(run_enhance_all(Path(sys.argv[2]))))
