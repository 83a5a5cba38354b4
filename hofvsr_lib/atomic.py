"""Files that appear complete or not at all: each is written beside its final name and renamed
over it only once fully written, so an interrupted run never leaves half a file."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd


@contextmanager
def replacing(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; renamed to ``path`` when the block ends
    without an error, removed otherwise (the parent folder is created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: str | Path, text: str) -> Path:
    with replacing(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def write_json(path: str | Path, data: Any, indent: int = 2) -> Path:
    """JSON (values it cannot encode written as their ``str``), with a final newline."""
    return write_text(path, json.dumps(data, indent=indent, default=str) + "\n")


def write_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """A table without its index, floats to 6 significant digits."""
    with replacing(path) as tmp:
        df.to_csv(tmp, index=False, float_format="%.6g")
    return Path(path)
