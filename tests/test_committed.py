"""What the repository commits is readable anywhere: no path of the machine that made it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEXT = {".json", ".csv", ".ipynb", ".md", ".yml", ".yaml", ".txt", ".cff"}
MACHINE_PATH = re.compile(r"(/root/|/home/\w+/|/work/main|/tmp/|/private/var/|C:\\\\Users)")


def committed_files() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files", "results", "book", "notebooks", "README.md"],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [ROOT / f for f in out.split() if Path(f).suffix in TEXT and (ROOT / f).is_file()]


def test_no_machine_paths_in_committed_results_notebooks_and_book():
    found = {}
    for path in committed_files():
        match = MACHINE_PATH.search(path.read_text(errors="replace"))
        if match:
            found[str(path.relative_to(ROOT))] = match.group(0)
    assert not found, found


def test_readme_tables_are_rendered_from_the_committed_results():
    """The speed, evidence and claims tables of the README are the committed results'."""
    import sys

    sys.path.insert(0, str(ROOT / "tools"))
    from render_readme import BLOCKS, rendered

    readme = (ROOT / "README.md").read_text()
    assert all(f"<!-- {name}:begin" in readme for name in BLOCKS)
    assert rendered(readme) == readme, "run .venv/bin/python tools/render_readme.py"
