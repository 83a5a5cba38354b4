"""The ``hofvsr`` command line: one sub-command per module, imported only when used."""

from __future__ import annotations

import argparse
import importlib
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


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``hofvsr`` console script."""
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="hofvsr", description=__doc__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:  # import only the module that runs
            importlib.import_module(module).add_arguments(p)
    args = parser.parse_args(argv)
    module = importlib.import_module(COMMANDS[args.command][0])
    return int(module.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
