"""The ``hofvsr`` command line: one sub-command per module, imported only when used.

Every sub-command ends through one handler (:func:`main`): an expected error (a missing or bad
input, a bad option value, an unwritable or full disk, a refused permission) is one line on
stderr and exit status 2, Ctrl-C is one line and 130, anything else one line naming the
exception and 1. ``--debug`` (before or after the sub-command) or ``HOFVSR_DEBUG=1`` shows the
traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# sub-command -> (module, one-line help). Each module provides
# ``add_arguments(parser: argparse.ArgumentParser) -> None`` and ``run(args) -> int``.
COMMANDS: dict[str, tuple[str, str]] = {
    "info": ("hofvsr_lib.complexity", "parameters and GFLOPs of the Table 3 networks"),
    "dataset": ("hofvsr_lib.data.cli", "build the face video dataset"),
    "search": ("hofvsr_lib.search.launcher", "run an NNI search (tpe, random, smac)"),
    "train": ("hofvsr_lib.training.final", "train a network on the dataset"),
    "evaluate": ("hofvsr_lib.training.evaluate", "PSNR/SSIM of a checkpoint and of bicubic"),
    "enhance": ("hofvsr_lib.facevideo.enhance", "super-resolve the faces of a video (Figure 2)"),
    "bench": ("hofvsr_lib.facevideo.bench", "speed of the networks and of the enhance pipeline"),
    "reproduce": ("hofvsr_lib.reproduce", "run every notebook in order and build the HTML book"),
}
DEBUG_ENV = "HOFVSR_DEBUG"
# the errors a user can cause or fix (VideoError, torch's checkpoint and PyAV's errors derive
# from these); any other exception is a bug, still one line unless debugging
EXPECTED = (ValueError, OSError)


def error_line(err: BaseException) -> str:
    """What went wrong, in one line: the first line of the message; an OS error raised by the
    system (errno and strerror set) as ``file: reason``."""
    if isinstance(err, OSError) and err.strerror:
        text = f"{err.filename}: {err.strerror}" if err.filename else err.strerror
    else:
        text = str(err).strip()
    lines = text.splitlines()
    return lines[0].strip() if lines else type(err).__name__


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``hofvsr`` console script."""
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="hofvsr", description=__doc__)
    debug_help = f"show the traceback of an error (or set {DEBUG_ENV}=1)"
    parser.add_argument("--debug", action="store_true", help=debug_help)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help=debug_help)
        if name == chosen:  # import only the module that runs
            importlib.import_module(module).add_arguments(p)
    args = parser.parse_args(argv)
    debug = args.debug or os.environ.get(DEBUG_ENV, "") not in ("", "0")
    try:
        module = importlib.import_module(COMMANDS[args.command][0])
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        if debug:
            raise
        print(f"hofvsr {args.command}: interrupted", file=sys.stderr)
        return 130
    except EXPECTED as err:
        if debug:
            raise
        print(f"error: {error_line(err)}", file=sys.stderr)
        return 2
    except Exception as err:  # noqa: BLE001 (a bug: one line, the traceback on request)
        if debug:
            raise
        print(f"error: unexpected {type(err).__name__}: {error_line(err)} (the traceback: "
              f"--debug or {DEBUG_ENV}=1)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
