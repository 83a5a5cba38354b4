"""The GPU measurements of the face-video tool, as one command for a lent GPU machine.

Here (once): ``sh tools/gpu_prepare.sh`` puts what the GPU machine lacks in ``.whl/`` and the
clips in ``.gpu_cache/videos/`` (both git-ignored; carry both). There, as one command::

    mkdir -p /tmp/site && tar xJf .whl/av.tar.xz -C /tmp/site &&
    python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl &&
    PYTHONPATH=/tmp/site:. HOFVSR_CACHE=.gpu_cache python3 tools/gpu_check.py --out $OUT

writes ``$OUT/bench_cuda.json`` (``hofvsr bench --device cuda --half``, 48 pipeline frames) and
``$OUT/gpu_check.json``: ``enhance`` on the whole 640x360 bench clip and the 640x480 webcam clip
in fp32 and fp16 (frames/s, stages), and fp16 against fp32 PSNR on two test persons' clips.
``--device cpu --frames 3 --quick`` runs the same path here as a dry run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hofvsr_lib.atomic import write_json  # noqa: E402
from hofvsr_lib.data.sources import fetch_video  # noqa: E402
from hofvsr_lib.facevideo.bench import measure_all, write_bench  # noqa: E402
from hofvsr_lib.facevideo.enhance import DEFAULT_CHECKPOINT, enhance_video  # noqa: E402
from hofvsr_lib.facevideo.figure2 import precision_check  # noqa: E402
from hofvsr_lib.models import load_checkpoint  # noqa: E402
from hofvsr_lib.profiles import SpeedProfile  # noqa: E402
from hofvsr_lib.provenance import run_provenance  # noqa: E402

CLIPS = ("single_face", "jwp_intro")  # the bench clip (640x360), a webcam (640x480)
PRECISION_CLIPS = ("jwp_intro", "vlog")  # two of the dataset's test persons


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--device", default="cuda")
    p.add_argument("--frames", type=int, default=None, help="frames per clip (default: all)")
    p.add_argument("--quick", action="store_true", help="2 timing rounds, 36x36 only")
    args = p.parse_args()
    device = torch.device(args.device)
    checkpoint = ROOT / DEFAULT_CHECKPOINT
    half_ok = device.type == "cuda"
    speed = replace(SpeedProfile(), pipeline_frames=args.frames or 48)
    if args.quick:
        speed = replace(speed, repeats=2, sizes=(36,), cadence_frames=6)
    rows = measure_all([args.device], speed, checkpoint, half=half_ok)
    write_bench(args.out / f"bench_{device.type}.json", rows, speed=speed.__dict__)
    print("bench written", flush=True)

    model, _ = load_checkpoint(checkpoint, map_location=device)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for clip in CLIPS:
            for half in (False, True) if half_ok else (False,):
                result = enhance_video(fetch_video(clip), Path(tmp) / "out.mp4", model, device,
                                       max_frames=args.frames, half=half, progress=False)
                t = result.times.to_dict()
                runs.append({"clip": clip, "half": half, **t})
                print(f"{clip} half={half}: {t['fps']:.1f} frames/s", flush=True)
    precision = precision_check(model, device, PRECISION_CLIPS) if half_ok else []
    write_json(args.out / "gpu_check.json", {
        "provenance": run_provenance(None, checkpoint=str(DEFAULT_CHECKPOINT)),
        "enhance": runs, "precision": precision})
    print(precision, flush=True)


if __name__ == "__main__":
    main()
