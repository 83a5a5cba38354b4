"""Rewrite the README's generated block (the speed tables) from the committed results:
``.venv/bin/python tools/render_readme.py`` (tests/test_committed.py checks it is current)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hofvsr_lib.report.speed import speed_markdown  # noqa: E402

BLOCK = re.compile(r"(<!-- speed:begin.*?-->\n).*?(<!-- speed:end -->)", re.S)


def rendered(readme: str) -> str:
    """``readme`` with its speed block rendered from ``results/bench/bench*.json``."""
    benches = sorted((ROOT / "results" / "bench").glob("bench*.json"))
    tables = speed_markdown(benches).replace("\\", "\\\\")
    return BLOCK.sub(lambda m: m.group(1) + tables + m.group(2), readme)


if __name__ == "__main__":
    path = ROOT / "README.md"
    path.write_text(rendered(path.read_text()))
