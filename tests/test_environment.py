"""pyproject.toml is the source of truth; environment.yml and requirements.lock follow it."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _pinned(specs: list[str]) -> dict[str, str]:
    out = {}
    for spec in specs:
        name, _, version = spec.partition("==")
        out[name.lower()] = version if version else spec
    return out


def test_environment_yml_matches_pyproject():
    project = _pyproject()["project"]
    wanted = _pinned(project["dependencies"] + project["optional-dependencies"]["dev"])
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = lines.index("  - pip:")
    conda_pip = _pinned([ln.strip()[2:] for ln in lines[start + 1:] if ln.startswith("      - ")])
    assert conda_pip == wanted


def test_lock_agrees_with_every_exact_pin():
    project = _pyproject()["project"]
    tool = _pyproject()["tool"]["hofvsr"]
    specs = project["dependencies"] + project["optional-dependencies"]["dev"] + tool["no-deps"]
    lock = _pinned((ROOT / "requirements.lock").read_text().split())
    for name, version in _pinned(specs).items():
        if "==" not in f"{name}=={version}" or any(c in version for c in "<>,"):
            continue
        assert lock.get(name) == version, f"{name}: pyproject {version}, lock {lock.get(name)}"
