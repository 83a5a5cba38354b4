"""Where networks run: the one place for choosing the device and for the ``--device`` and
``--threads`` command-line options."""

from __future__ import annotations

import argparse
import sys

import torch


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """``device`` if given, else CUDA when available, else CPU."""
    if device is not None:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def place(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """Move ``model`` to ``device``; on a CPU its 4-D weights go channels-last, so that oneDNN's
    convolutions take their faster path (training steps 1.1x to 1.7x faster on 2 cores, the
    losses equal to 6 digits: ``benchmarks/bench_layout.py``). Checkpoints load either way."""
    layout = torch.channels_last if device.type == "cpu" else torch.preserve_format
    return model.to(device, memory_format=layout)


def add_device_arguments(parser: argparse.ArgumentParser, threads: int | None = None,
                         extra_choices: tuple[str, ...] = ()) -> None:
    """``--device`` (default: CUDA when available, else CPU) and ``--threads`` (default
    ``threads``; None: PyTorch's choice)."""
    parser.add_argument("--device", default=None, metavar="DEVICE",
                        help="cpu, cuda, cuda:1 ... " + (f"or {', '.join(extra_choices)} "
                                                         if extra_choices else "")
                             + "(default: cuda when available, else cpu)")
    parser.add_argument("--threads", type=int, default=threads,
                        help=f"CPU threads for PyTorch (default: "
                             f"{threads or 'PyTorch' + chr(39) + 's choice'})")


def apply_device_arguments(args: argparse.Namespace, extra_choices: tuple[str, ...] = ()
                           ) -> bool:
    """Apply ``--threads`` and check ``--device``; False (with one line on stderr) when the
    device does not exist here."""
    if args.threads:
        if args.threads < 1:
            print("error: --threads must be at least 1", file=sys.stderr)
            return False
        torch.set_num_threads(args.threads)
    if args.device is None or args.device in extra_choices:
        return True
    try:
        device = torch.device(args.device)
    except RuntimeError:
        print(f"error: --device {args.device}: not a device (cpu, cuda, cuda:1 ...)",
              file=sys.stderr)
        return False
    if device.type == "cuda" and not torch.cuda.is_available():
        print(f"error: --device {args.device} but no CUDA device is available", file=sys.stderr)
        return False
    if device.type not in ("cpu", "cuda"):
        print(f"error: --device {args.device}: only cpu and cuda are supported",
              file=sys.stderr)
        return False
    return True
