"""``hofvsr dataset build|fetch|pack|equivalent``: build the face video dataset, fetch the
default clips, pack a smaller copy of a dataset for a lent GPU machine, or declare a rebuild
on another machine equal to the dataset committed results were made on."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from hofvsr_lib.data.sources import DEFAULT_SOURCES, SOURCES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``build``, ``fetch`` and ``pack`` sub-commands to ``hofvsr dataset``."""
    sub = parser.add_subparsers(dest="dataset_command", metavar="ACTION", required=True)
    b = sub.add_parser(
        "build", help="videos -> face sequences (PNG crops) + manifest.csv",
        description="Detect, track and crop the main face of every video (one per person "
                    "in the default clips with several people) into aligned HR sequences, "
                    "split train/val/test by person, write OUT/manifest.csv. "
                    "Re-running resumes: videos already done with the same settings are "
                    "reused (keyed by content hash).")
    b.add_argument("--videos", type=Path, default=None,
                   help="a folder of videos (searched recursively; a first-level subfolder "
                        "names the person, else the file name does) or one video; default: "
                        "the project's real talking-head clips, fetched into the cache")
    b.add_argument("--out", type=Path, required=True, help="dataset folder to write")
    b.add_argument("--profile", default="cpu", help="smoke | cpu | paper (frames read per "
                   "video, HR size, scale); default: cpu")
    b.add_argument("--max-frames", type=int, default=None,
                   help="frames read per video (overrides the profile; 0 = all)")
    b.add_argument("--hr-size", type=int, default=None, help="HR crop side (profile: 144)")
    b.add_argument("--min-face", type=int, default=None,
                   help="smallest usable face, in source pixels (default 40)")
    b.add_argument("--margin", type=float, default=None,
                   help="margin around the face box on each side, fraction of its side "
                        "(default 0.25)")
    b.add_argument("--val-persons", default=None,
                   help="comma-separated persons for the validation split (default: ~20%% "
                        "of the persons, picked by a hash of their names)")
    b.add_argument("--test-persons", default=None,
                   help="comma-separated persons for the test split (default: ~20%%, as "
                        "above)")
    b.add_argument("--max-per-person", type=int, default=None,
                   help="crops kept per person (overrides the profile; 0 = all)")
    b.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: cuda if "
                   "available)")
    b.add_argument("--threads", type=int, default=1,
                   help="torch threads for face detection on the CPU (default 1: more help "
                        "only on an otherwise idle machine)")
    b.add_argument("--no-progress", action="store_true", help="no progress bars")
    f = sub.add_parser("fetch", help="download and verify the default clips, print their paths")
    f.add_argument("names", nargs="*", default=None,
                   help=f"clips to fetch (default: the dataset's sources); any of "
                        f"{', '.join(SOURCES)}")
    e = sub.add_parser("equivalent", help="measure a rebuild of the dataset (another machine) "
                       "against committed test scores; declare it equal when it is")
    e.add_argument("--data", type=Path, required=True, help="the rebuilt dataset")
    e.add_argument("--results", type=Path, default=Path("results"),
                   help="results folder whose dataset/equivalent.json gets the pair")
    e.add_argument("--scores", type=Path, default=None, help="a final run's test scores made "
                   "on the recorded dataset (default: those of each dataset the results' final "
                   "runs were made on)")
    from hofvsr_lib.data import pack

    pack.add_arguments(sub.add_parser(
        "pack", help="a smaller copy of a dataset (first crops per person, lossless WebP)",
        description=pack.__doc__.splitlines()[0]))


def run(args: argparse.Namespace) -> int:
    """Run ``hofvsr dataset ...``; exit code 1 only when nothing usable came out."""
    if args.dataset_command == "fetch":
        return _fetch(args.names or list(DEFAULT_SOURCES))
    if args.dataset_command == "equivalent":
        from hofvsr_lib.data.equivalence import declare_equivalent, declare_rebuild

        measured = declare_equivalent(args.data, args.results, args.scores) if args.scores \
            else declare_rebuild(args.data, args.results)
        print(json.dumps(measured, indent=1))
        return 0
    if args.dataset_command == "pack":
        from hofvsr_lib.data.pack import run as pack

        return pack(args)
    from hofvsr_lib.data.builder import BuildConfig, build_dataset
    from hofvsr_lib.profiles import get_profile

    profile = get_profile(args.profile)
    max_frames = args.max_frames if args.max_frames != 0 else None
    overrides = dict(hr_size=args.hr_size, min_face=args.min_face, margin=args.margin,
                     val_persons=_names(args.val_persons), test_persons=_names(args.test_persons))
    cfg = BuildConfig.from_profile(profile.dataset, **overrides)
    if args.max_frames is not None:
        cfg = BuildConfig(**{**cfg.__dict__, "max_frames": max_frames})
    if args.max_per_person is not None:
        cfg = BuildConfig(**{**cfg.__dict__, "max_per_person": args.max_per_person or None})
    if args.videos is not None and not args.videos.exists():
        print(f"error: --videos {args.videos}: no such file or folder")
        return 2
    report = build_dataset(args.videos, args.out, cfg, device=args.device,
                           progress=not args.no_progress, cpu_threads=args.threads)
    return 0 if report.ok else 1


def _names(text: str | None) -> tuple[str, ...] | None:
    return tuple(p.strip() for p in text.split(",") if p.strip()) if text else None


def _fetch(names: list[str]) -> int:
    from hofvsr_lib.data.sources import fetch_video

    for n in names:
        if n not in SOURCES:
            print(f"error: unknown clip {n!r}; choose from {', '.join(SOURCES)}")
            return 2
        src = SOURCES[n]
        print(f"{n:13s} {fetch_video(n)}  ({', '.join(src.persons) or 'no face'}; {src.note})")
    return 0
