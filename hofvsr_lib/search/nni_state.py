"""What the launcher reads from and does to NNI outside its Python API: the experiment's sqlite
database, the manager's process group, and the web UI port."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import time
from pathlib import Path

FINISHED = ("SUCCEEDED", "FAILED", "USER_CANCELED", "SYS_CANCELED", "EARLY_STOPPED")


def read_nni_trials(db_path: str | Path) -> list[dict]:
    """Trials of one NNI experiment from its sqlite database: id, parameter id, parameters, last
    status, start/end (ms), intermediate metrics (in order) and final metric (dicts)."""
    db_path = Path(db_path)
    if not db_path.exists():
        return []
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
    try:
        trials: dict[str, dict] = {}
        for ts, tid, event, data in con.execute(
                "SELECT timestamp, trialJobId, event, data FROM TrialJobEvent ORDER BY timestamp"):
            if not tid:  # IMPORT_DATA and other experiment-level events
                continue
            t = trials.setdefault(tid, {"trial_id": tid, "parameter_id": None,
                                        "parameters": None, "status": event, "start": ts,
                                        "end": None, "periodical": [], "final": None})
            t["status"] = event
            payload = json.loads(data) if data else None
            if isinstance(payload, dict) and t["parameters"] is None:
                t["parameters"] = payload.get("parameters")
                t["parameter_id"] = payload.get("parameter_id")
            if event == "RUNNING":
                t["start"] = ts
            if event in FINISHED:
                t["end"] = ts
        for tid, kind, data in con.execute(
                "SELECT trialJobId, type, data FROM MetricData ORDER BY timestamp, sequence"):
            if tid not in trials:
                continue
            value = json.loads(json.loads(data))  # NNI encodes metric data twice
            if kind == "PERIODICAL":
                trials[tid]["periodical"].append(value)
            elif kind == "FINAL":
                trials[tid]["final"] = value
    finally:
        con.close()
    return list(trials.values())


def boot_id() -> str:
    """This machine's current boot (Linux's ``boot_id``; the host name elsewhere): a process id
    recorded under another boot (another machine, or before a restart) names another process."""
    path = Path("/proc/sys/kernel/random/boot_id")
    return path.read_text().strip() if path.is_file() else socket.gethostname()


def alive(pid: int) -> bool:
    """Whether a process with this id exists (zombies included)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_process_group(pid: int, timeout: float = 10.0) -> None:
    """Stop an NNI manager and its trials (its own process group: NNI starts it with
    ``setpgrp``): SIGTERM, then SIGKILL after ``timeout``."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)


def port_free(port: int) -> bool:
    """Whether a server could listen on ``port`` (NNI's web UI listens on all interfaces)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("", port))
        except OSError:
            return False
    return True


def free_port(port: int, tries: int = 50) -> int:
    """``port`` if free, else the next free one above it (ValueError after ``tries``)."""
    for candidate in range(port, port + tries):
        if port_free(candidate):
            return candidate
    raise ValueError(f"ports {port}-{port + tries - 1} are all in use: pass another --port")
