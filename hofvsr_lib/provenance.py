"""Provenance of every result: profile, software versions, machine, seed, time."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import torch

if TYPE_CHECKING:
    from .profiles import Profile

PACKAGES = ("hofvsr", "torch", "torchvision", "numpy", "nni", "smac", "facenet-pytorch",
            "opencv-python-headless", "av", "onnxruntime", "scikit-image", "ptflops",
            "papermill", "jupyter-book")


def software_versions() -> dict[str, str]:
    """Installed versions of the packages the results depend on."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def machine_info() -> dict[str, Any]:
    """CPU, core count, load average (1, 5, 15 min), torch threads and GPU (if any) of this
    machine, now."""
    info = {"platform": platform.platform(), "processor": platform.processor() or
            platform.machine(), "cpu_model": _cpu_model(), "cpu_count": os.cpu_count(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "torch_threads": torch.get_num_threads(), "cuda": torch.cuda.is_available()}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def _cpu_model() -> str:
    """The CPU's model name (Linux), else the platform's processor string."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def git_commit() -> str:
    """The repository's HEAD commit, ``-dirty`` appended when the library's code differs from
    it (``unknown`` outside a git checkout)."""
    package = Path(__file__).parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True, cwd=package).stdout.strip()
        changed = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", "."],
                                 cwd=package).returncode != 0
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("-dirty" if changed else "")


def run_provenance(profile: str | Profile | None, **extra: Any) -> dict[str, Any]:
    """A provenance record for a run of ``profile`` (a name, or the settings themselves when
    a run changes some; None: outside any profile) started now."""
    from .profiles import get_profile

    if isinstance(profile, str):
        profile = get_profile(profile)
    return {"profile": profile.name if profile else None,
            "profile_settings": profile.to_dict() if profile else None,
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "commit": git_commit(), "versions": software_versions(), "machine": machine_info(),
            **extra}


def portable_path(path: str | Path) -> str:
    """``path`` as shown in messages and committed results: relative to the working directory
    when inside it, else under ``~`` when in the home folder, else as given (absolute)."""
    path = Path(path).absolute()
    if path.is_relative_to(Path.cwd()):
        return str(path.relative_to(Path.cwd()))
    if path.is_relative_to(Path.home()):
        return str(Path("~", path.relative_to(Path.home())))
    return str(path)


def describe(path: str | Path) -> pd.DataFrame:
    """A one-row-per-record summary of the provenance at ``path``: a JSON file (its
    ``provenance`` entry, or itself) or a folder of ``*/provenance.json`` (one per search)."""
    path = Path(path)
    files = [path] if path.is_file() else sorted(path.glob("*/provenance.json"))
    rows = []
    for file in files:
        data = json.loads(file.read_text())
        prov = data.get("provenance", data)
        versions, machine = prov.get("versions", {}), prov.get("machine", {})
        profile = prov.get("profile")
        first = (prov.get("sessions") or [{}])[0]  # a search: its first session
        rows.append({
            "record": str(file.parent.name if file.name == "provenance.json" else file.name),
            "profile": profile.get("name") if isinstance(profile, dict) else profile,
            "started": str(prov.get("started") or first.get("started") or "")[:10],
            "seed": prov.get("seed", ""),
            "machine": f"{machine.get('processor', '')}, {machine.get('cpu_count', '')} cores, "
                       f"{machine.get('torch_threads', '')} threads"
                       + (f", {machine['gpu']}" if machine.get("gpu") else ", no GPU"),
            "torch": versions.get("torch", ""), "nni": versions.get("nni", ""),
            "commit": str(prov.get("commit", ""))[:10],
        })
    table = pd.DataFrame(rows).set_index("record")
    return table.loc[:, (table != "").any()]  # columns no record fills are left out
