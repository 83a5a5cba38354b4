"""``hofvsr dataset pack``: a smaller copy of a built dataset that travels to a lent GPU machine.

The device tool copies at most 64 MiB (the repository included) and the machine there has no
face detector or clips, so the GPU run trains on a *pack*: the first ``max_per_person`` crops
of each person (:func:`.manifest.cap_per_person`, the same rule as the builder's cap, so whole
sequences in their order and every person in the split it had), each crop re-encoded as
lossless WebP (the same pixels, about 60% of the PNG's bytes). Its ``manifest.csv`` is that
subset with the crops' new file names (the ``png`` column names the crop file, whatever its
format: OpenCV reads both), so the pack is a dataset of its own, named by its own sha256, and
``build.json`` records the dataset it was cut from.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
from tqdm import tqdm

from ..atomic import replacing, write_csv, write_json
from .manifest import MANIFEST, cap_per_person, manifest_sha256, read_manifest

WEBP_LOSSLESS = [cv2.IMWRITE_WEBP_QUALITY, 101]  # OpenCV: quality above 100 is lossless


def pack_dataset(data: str | Path, out: str | Path, max_per_person: int) -> Path:
    """Write the pack of dataset ``data`` into ``out`` (module docstring); returns ``out``.
    Crops already packed are kept, so an interrupted pack resumes."""
    data, out = Path(data), Path(out)
    manifest = cap_per_person(read_manifest(data), max_per_person)
    packed = manifest.assign(png=manifest["png"].str.replace(r"\.png$", ".webp", regex=True))
    for source, target in tqdm(list(zip(manifest["png"], packed["png"], strict=True)),
                               desc="pack crops", unit="crop"):
        if (out / target).is_file():
            continue
        image = cv2.imread(str(data / source), cv2.IMREAD_UNCHANGED)
        if image is None:
            raise FileNotFoundError(f"{data / source}: missing or unreadable crop")
        ok, encoded = cv2.imencode(".webp", image, WEBP_LOSSLESS)
        if not ok:
            raise OSError(f"{data / source}: could not be encoded as WebP")
        with replacing(out / target) as tmp:
            tmp.write_bytes(encoded.tobytes())
    write_csv(packed, out / MANIFEST)
    build = json.loads((data / "build.json").read_text()) if (data / "build.json").is_file() \
        else {}
    write_json(out / "build.json", {**build, "packed_from": {
        "manifest_sha256": manifest_sha256(data), "max_per_person": max_per_person,
        "crops": len(packed), "format": "webp (lossless)"}})
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, required=True, help="dataset to cut the pack from")
    parser.add_argument("--out", type=Path, required=True, help="folder of the pack")
    parser.add_argument("--profile", default="gpu", help="the profile whose crops per person "
                        "the pack keeps (default: gpu)")
    parser.add_argument("--max-per-person", type=int, default=None,
                        help="crops kept per person, the first ones (overrides the profile)")


def run(args: argparse.Namespace) -> int:
    from ..profiles import get_profile

    cap = args.max_per_person or get_profile(args.profile).dataset.max_frames_per_person
    if cap is None:
        print(f"error: profile {args.profile!r} keeps every crop: give --max-per-person")
        return 2
    out = pack_dataset(args.data, args.out, cap)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"{out}: {len(read_manifest(out))} crops, {size / 2**20:.1f} MiB, manifest sha256 "
          f"{manifest_sha256(out)[:12]}")
    return 0
