#!/usr/bin/env python3
"""Create or update the project environment ``.venv`` from the project's own files.

Run by both README commands (``make all`` and ``make test``). Standard library only, so it runs
with any Python 3.11 before the environment exists. Steps, skipped in seconds when the
fingerprint of ``pyproject.toml`` + ``requirements.lock`` matches the one stored in the venv:

1. ``python3.11 -m venv .venv`` (if missing);
2. the build tools of ``[tool.hofvsr] build-tools`` (swig, needed to compile smac's pyrfr);
3. ``pip install -c requirements.lock -e .[dev]`` (exact versions of every package);
4. the ``[tool.hofvsr] no-deps`` packages with ``--no-deps`` (facenet-pytorch pins torch<2.3).

Only the package registries are contacted (pip's configured index).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FINGERPRINT_FILES = ("pyproject.toml", "requirements.lock")


def fingerprint() -> str:
    digest = hashlib.sha256()
    for name in FINGERPRINT_FILES:
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def pip(venv_dir: Path, *args: str) -> None:
    env = dict(os.environ, PATH=f"{venv_dir / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    cmd = [str(venv_dir / "bin" / "python"), "-m", "pip", "install", "--quiet", *args]
    print("+", " ".join(cmd[2:]), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT, env=env)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=ROOT / ".venv")
    parser.add_argument("--force", action="store_true", help="reinstall even if up to date")
    args = parser.parse_args()
    stamp = args.venv / ".hofvsr-fingerprint"
    wanted = fingerprint()
    python = args.venv / "bin" / "python"
    if not args.force and python.exists() and stamp.exists() and stamp.read_text() == wanted:
        print(f"environment {args.venv} is up to date")
        return 0
    if sys.version_info[:2] != (3, 11):
        print(f"warning: creating the venv with Python {sys.version.split()[0]}; "
              "the project is pinned and tested on 3.11", file=sys.stderr)
    if not python.exists():
        print(f"creating {args.venv}", flush=True)
        venv.EnvBuilder(with_pip=True).create(args.venv)
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hofvsr"]
    pip(args.venv, *tool["build-tools"])
    pip(args.venv, "-c", "requirements.lock", "-e", ".[dev]")
    pip(args.venv, "--no-deps", *tool["no-deps"])
    stamp.write_text(wanted)
    print(f"environment {args.venv} ready")
    return 0


if __name__ == "__main__":
    sys.exit(main())
