"""Every sub-command against bad inputs: one clear line, a non-zero exit, no traceback and
nothing half-written (hofvsr_lib.cli.main is the one handler). The full disk is a real 256 KiB
tmpfs where this runs as root and may mount one (else the writer raises ENOSPC in-process);
Ctrl-C is a real SIGINT to a running ``hofvsr enhance``."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hofvsr_lib import complexity
from hofvsr_lib.cli import main
from hofvsr_lib.data.sources import fetch_video


def run_cli(argv: list[str], capsys) -> tuple[int, list[str]]:
    """Exit status and the printed lines (stdout and stderr) of ``hofvsr argv``."""
    try:
        rc = main(argv)
    except SystemExit as exit_:  # argparse's own errors
        rc = exit_.code
    out = capsys.readouterr()
    return rc, (out.out + out.err).splitlines()


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def error_lines(lines: list[str]) -> list[str]:
    """The lines saying what went wrong (the handler's, argparse's, the builder's)."""
    return [ln for ln in lines if "error:" in ln or ln.startswith("SKIP")]


# (name, arguments with {empty}: a folder without manifest.csv, {file}: a plain file,
#  {json}: a JSON file named .pt, {clip}: a real clip, {out}: a fresh path; what the line says)
CASES = [
    ("search: no manifest", "search --strategy tpe --data {empty} --out {out}", "manifest.csv"),
    ("search: bad profile", "search --strategy tpe --profile bogus --data {empty}",
     "invalid choice: 'bogus'"),
    ("train: bad profile", "train --profile bogus --data {empty}", "invalid choice: 'bogus'"),
    ("train: no manifest", "train --data {empty} --out {out}", "manifest.csv not found"),
    ("train: data is a file", "train --data {file} --out {out}", "manifest.csv not found"),
    ("evaluate: JSON named .pt", "evaluate --checkpoint {json} --data {empty}",
     "not a PyTorch weights file"),
    ("evaluate: no checkpoint", "evaluate --checkpoint {out}.pt --data {empty}",
     "does not exist"),
    ("dataset: no videos", "dataset build --videos {out} --out {out}", "no such file"),
    ("dataset: bad profile", "dataset build --profile bogus --out {out}", "unknown profile"),
    ("dataset: output under a file", "dataset build --videos {clip} --out {file}/data "
     "--max-frames 4 --device cpu --no-progress", "Not a directory"),
    ("enhance: not a video", "enhance {file} {out}.mp4 --checkpoint none", "notes.txt"),
    ("enhance: output under a file", "enhance {clip} {file}/x4.mp4 --checkpoint none",
     "does not exist"),
    ("reproduce: bad profile", "reproduce --profile bogus", "invalid choice: 'bogus'"),
    ("reproduce: results under a file", "reproduce --results {file}/results --only 99",
     "Not a directory"),
    ("bench: bad device", "bench --device bogus", "not a device"),
    ("info: bad size", "info --size 0 36", "at least 1"),
]


@pytest.fixture
def inputs(tmp_path) -> dict[str, str]:
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.txt").write_text("not a video, not a dataset\n")
    (tmp_path / "net.pt").write_text('{"model": "hofvsr"}\n')
    return {"empty": str(tmp_path / "empty"), "file": str(tmp_path / "notes.txt"),
            "json": str(tmp_path / "net.pt"), "clip": str(fetch_video("carphone")),
            "out": str(tmp_path / "out")}


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line(case, inputs, tmp_path, capsys):
    _, args, phrase = case
    before = files_under(tmp_path)
    rc, lines = run_cli(args.format(**inputs).split(), capsys)
    said = error_lines(lines)
    assert rc != 0 and not any("Traceback" in ln for ln in lines), lines
    assert len(said) == 1 and phrase in said[0], lines
    assert files_under(tmp_path) == before  # nothing written, half or whole


@pytest.fixture
def full_disk(tmp_path, monkeypatch) -> Path:
    """A folder whose disk is full after 256 KiB: a real tmpfs (root), else the video writer
    raising ENOSPC after its first frame."""
    folder = tmp_path / "small_disk"
    folder.mkdir()
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)],
        capture_output=True).returncode == 0
    if not mounted:
        from hofvsr_lib.facevideo.io import H264Writer

        real = H264Writer.write

        def write(self, yuv):
            if self.frames:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.partial))
            real(self, yuv)

        monkeypatch.setattr(H264Writer, "write", write)
    yield folder
    if mounted:
        subprocess.run(["umount", str(folder)], check=True)


def test_enhance_on_a_full_disk(full_disk, capsys):
    out = full_disk / "x4.mp4"
    rc, lines = run_cli(["enhance", str(fetch_video("single_face")), str(out),
                         "--checkpoint", "none"], capsys)
    assert rc == 2 and error_lines(lines) == [f"error: {out}: No space left on device"], lines
    assert list(full_disk.iterdir()) == []  # the partial file is removed


def test_dataset_build_on_a_full_disk(full_disk, capsys):
    if not os.path.ismount(full_disk):
        pytest.skip("needs the real small disk (root, tmpfs)")
    out = full_disk / "data"
    rc, lines = run_cli(["dataset", "build", "--videos", str(fetch_video("carphone")), "--out",
                         str(out), "--max-frames", "24", "--device", "cpu", "--no-progress"],
                        capsys)
    assert rc != 0 and not any("Traceback" in ln for ln in lines), lines
    assert any(ln.startswith("SKIP") and "carphone" in ln for ln in lines), lines
    assert not [p for p in files_under(out) if ".part" not in str(p) and p.suffix == ".png"]


def test_ctrl_c_is_one_line_and_leaves_no_output(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    hofvsr = Path(sys.executable).with_name("hofvsr")
    # franck: 4,800 frames, so the run is still going when its partial output appears (the
    # 472 frames of wolfgang were sometimes all written before the signal came, on a busy CPU);
    # the child's output goes to files: a pipe nobody reads fills up with the progress bar and
    # blocks it. Its SIGINT starts at the default: a test run started in the background (`&` in
    # a script) ignores SIGINT, the child would inherit that, and Python keeps an ignored SIGINT
    with open(tmp_path / "stdout", "w") as out, open(tmp_path / "stderr", "w") as err:
        proc = subprocess.Popen([str(hofvsr), "enhance", str(fetch_video("franck")),
                                 str(folder / "x4.mp4"), "--checkpoint", "none"],
                                stdout=out, stderr=err, text=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        deadline = time.time() + 120
        while not list(folder.glob(".*partial*")) and time.time() < deadline:
            time.sleep(0.2)  # until frames are being written
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    stderr = (tmp_path / "stderr").read_text()
    assert proc.returncode == 130 and "Traceback" not in stderr, stderr[-2000:]
    assert stderr.splitlines()[-1] == "hofvsr enhance: interrupted"
    assert list(folder.iterdir()) == []


def test_a_bug_is_one_line_unless_debugging(monkeypatch, capsys):
    def broken(args):
        raise TypeError("a bug")

    monkeypatch.setattr(complexity, "run", broken)
    monkeypatch.delenv("HOFVSR_DEBUG", raising=False)
    rc, lines = run_cli(["info"], capsys)
    assert rc == 1 and lines == ["error: unexpected TypeError: a bug (the traceback: --debug "
                                 "or HOFVSR_DEBUG=1)"]
    for argv in (["--debug", "info"], ["info", "--debug"]):
        with pytest.raises(TypeError):
            main(argv)
    monkeypatch.setenv("HOFVSR_DEBUG", "1")
    with pytest.raises(TypeError):
        main(["info"])


def test_keyboard_interrupt_anywhere_is_one_line(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(complexity, "run", interrupted)
    assert run_cli(["info"], capsys) == (130, ["hofvsr info: interrupted"])
