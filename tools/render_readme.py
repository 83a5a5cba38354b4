"""Rewrite the README's generated blocks from the committed results:
``.venv/bin/python tools/render_readme.py`` (tests/test_committed.py checks they are current).

Each block sits between ``<!-- NAME:begin ... -->`` and ``<!-- NAME:end -->``: ``speed`` (the
speed tables, from ``results/bench/bench*.json``), ``evidence`` (Table 3's networks, from
``results/table3.*``), ``claims`` (the paper's claims, from ``results/``), ``flow`` (do the
committed flow nets align, from ``results/flow/``) and ``searches`` (the committed searches,
from ``results/search/``).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hofvsr_lib.report.claims import claims_markdown  # noqa: E402
from hofvsr_lib.report.figures import searches_markdown  # noqa: E402
from hofvsr_lib.report.flow import verdict as flow_markdown  # noqa: E402
from hofvsr_lib.report.speed import speed_markdown  # noqa: E402
from hofvsr_lib.report.table3 import readme_markdown  # noqa: E402

RESULTS = ROOT / "results"
BLOCKS: dict[str, Callable[[], str]] = {
    "speed": lambda: speed_markdown(sorted((RESULTS / "bench").glob("bench*.json"))),
    "evidence": lambda: readme_markdown(RESULTS),
    "claims": lambda: claims_markdown(RESULTS),
    "flow": lambda: flow_markdown(RESULTS) + "\n",
    "searches": lambda: searches_markdown(RESULTS),
}


def rendered(readme: str) -> str:
    """``readme`` with each generated block that it holds rendered from ``results/``."""
    for name, render in BLOCKS.items():
        block = re.compile(rf"(<!-- {name}:begin.*?-->\n).*?(<!-- {name}:end -->)", re.S)
        if block.search(readme):
            text = render()
            readme = block.sub(lambda m, text=text: m.group(1) + text + m.group(2), readme)
    return readme


if __name__ == "__main__":
    path = ROOT / "README.md"
    path.write_text(rendered(path.read_text()))
