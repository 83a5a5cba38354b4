"""``hofvsr search``: one NNI search (TPE, Random or SMAC) with a profile's budget.

The same launcher drives the three strategies with the same budget (trial count, duration cap,
epochs per trial: ``hofvsr_lib.profiles.SearchProfile``). In the default ``cached`` mode the
OFR net is trained once on the training split with its own flow loss, frozen, and its draft
cubes cached (shared by all strategies of an output directory); each trial then trains only the
SR net on the cache. ``joint`` mode trains the whole network in every trial, as SOF-VSR does.

Records: ``<out>/<strategy>[-joint]/trials.csv`` gets one row per finished trial, read from
NNI's own database (``nni/<id>/db/nni.sqlite`` under the same directory) while the search runs,
and ``provenance.json`` the profile, versions, machine, seed, mode and every session's cost.

Resume: running the same command again continues a search. Trials finished in earlier sessions
(even ones that finished after the launcher was killed) are recovered from NNI's database, the
new experiment only gets the remaining trial count and time, and the tuner is told the earlier
results. Interrupts (SIGINT/SIGTERM) stop the NNI experiment; a manager left behind by a
SIGKILL is stopped when the search resumes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sqlite3
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock

from ..profiles import Profile, get_profile
from ..provenance import machine_info, software_versions
from ..provenance import write_json as _write_provenance
from .records import FINISHED, TrialRecords, read_provenance
from .space import SEARCH_SPACE, space_size
from .trial import network_cost

STRATEGIES = ("tpe", "random", "smac")
MODES = ("cached", "joint")
DEFAULT_PORT = 8080
HANG_GRACE_S = 120  # beyond the NNI duration cap, the launcher stops a stalled experiment


class SearchInterrupted(Exception):
    """SIGTERM/SIGINT received: stop the experiment and exit."""


def parse_duration(text: str) -> float:
    """NNI duration string (``90s``, ``20m``, ``32h``, ``1d``) -> seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", str(text))
    if not match:
        raise ValueError(f"bad duration {text!r}: use a number and one of s, m, h, d")
    return float(match[1]) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match[2]]


def strategy_dir(out: str | Path, strategy: str, mode: str) -> Path:
    """Where one strategy's records go: ``<out>/<strategy>`` (``-joint`` appended in joint mode)."""
    return Path(out) / (strategy if mode == "cached" else f"{strategy}-joint")


def tuner_config(strategy: str, seed: int, n_trials: int, work_dir: Path,
                 tpe_startup_trials: int = 20):
    """NNI tuner config of a strategy: TPE and Random are NNI's, SMAC our SMAC3 wrapper."""
    from nni.experiment import AlgorithmConfig, CustomAlgorithmConfig

    if strategy == "tpe":
        return AlgorithmConfig(name="TPE", class_args={
            "optimize_mode": "maximize", "seed": seed,
            "tpe_args": {"n_startup_jobs": tpe_startup_trials}})
    if strategy == "random":
        return AlgorithmConfig(name="Random", class_args={"seed": seed})
    if strategy == "smac":
        import hofvsr_lib

        return CustomAlgorithmConfig(
            class_name="hofvsr_lib.search.smac_tuner.SMACTuner",
            code_directory=str(Path(hofvsr_lib.__file__).parent.parent),
            class_args={"optimize_mode": "maximize", "seed": seed, "n_trials": n_trials,
                        "output_directory": str(work_dir / "smac3")})
    raise ValueError(f"unknown strategy {strategy!r}; choose one of {STRATEGIES}")


# --------------------------------------------------------------------------- NNI's database


def read_nni_trials(db_path: str | Path) -> list[dict]:
    """Trials of one NNI experiment from its sqlite database: id, parameters, last status,
    start/end (ms), intermediate metrics (in order) and final metric (dicts)."""
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
            t = trials.setdefault(tid, {"trial_id": tid, "parameters": None, "status": event,
                                        "start": ts, "end": None, "periodical": [],
                                        "final": None})
            t["status"] = event
            payload = json.loads(data) if data else None
            if isinstance(payload, dict) and t["parameters"] is None:
                t["parameters"] = payload.get("parameters")
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


def trial_row(trial: dict, experiment_id: str, session: int, strategy: str, mode: str,
              seed: int) -> dict:
    """One ``trials.csv`` row from a finished NNI trial (see :func:`read_nni_trials`)."""
    params = trial["parameters"] or {}
    config = {k: int(params[k]) for k in SEARCH_SPACE if k in params}
    final = trial["final"] if isinstance(trial["final"], dict) else None
    periodical = [p for p in trial["periodical"] if isinstance(p, dict)]
    status = trial["status"] if final is not None or trial["status"] != "SUCCEEDED" else "FAILED"
    cost = ({"params": final["params"], "gflops": final["gflops"]} if final
            else network_cost(config) if len(config) == 3 else {"params": "", "gflops": ""})
    row = {
        "experiment_id": experiment_id, "trial_id": trial["trial_id"], "session": session,
        "strategy": strategy, "mode": mode, **config, **cost,
        "epochs_done": len(periodical),
        "epoch_psnr": json.dumps([p["default"] for p in periodical]),
        "epoch_ssim": json.dumps([p.get("ssim") for p in periodical]),
        "epoch_loss": json.dumps([p.get("loss") for p in periodical]),
        "final_psnr": final["default"] if final else "",
        "final_ssim": final["ssim"] if final else "",
        "final_loss": final["loss"] if final else "",
        "duration_s": ((trial["end"] - trial["start"]) / 1000.0
                       if trial["end"] and trial["start"] else ""),
        "status": status, "seed": final["seed"] if final else seed,
        "started": _iso(trial["start"]), "ended": _iso(trial["end"]),
    }
    return row


def _iso(ms: int | None) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds") if ms else ""


def sync_records(records: TrialRecords, db_path: Path, experiment_id: str, session: int,
                 strategy: str, mode: str, seed: int) -> int:
    """Add every finished trial of the experiment not yet in ``records``; returns how many."""
    added = 0
    for trial in read_nni_trials(db_path):
        if trial["status"] in FINISHED and (experiment_id, trial["trial_id"]) not in records:
            records.add(trial_row(trial, experiment_id, session, strategy, mode, seed))
            added += 1
    return added


# --------------------------------------------------------------------------- processes


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_process_group(pid: int, timeout: float = 10.0) -> None:
    """Stop the NNI manager started by a previous session (its own process group: NNI starts
    it with ``setpgrp``): SIGTERM, then SIGKILL after ``timeout``."""
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


def _raise_interrupt(signum, _frame):
    raise SearchInterrupted(f"signal {signum}")


# --------------------------------------------------------------------------- cached mode


def prepare_cube_cache(data: str | Path, profile: Profile, out: str | Path, seed: int = 0,
                       device: str | None = None) -> tuple[Path, dict]:
    """Train the OFR net once (``profile.search.ofr_pretrain``), freeze it and cache the draft
    cubes of the train split and of the validation windows the trials use. Reused when the dataset
    manifest, the profile and the seed are unchanged. Returns (cache path, its metadata)."""
    from ..data.dataset import FaceWindows
    from ..data.sources import sha256_file
    from ..models import HOFVSR, save_checkpoint
    from ..training import (
        cache_draft_cubes,
        evenly_spaced,
        load_cube_cache,
        pretrain_ofr,
        save_cube_cache,
        seed_everything,
    )

    data = Path(data)
    manifest = data / "manifest.csv"
    if not manifest.is_file():
        raise FileNotFoundError(f"{manifest} not found: build the dataset first "
                                f"(hofvsr dataset build --out {data})")
    key = {"manifest_sha256": sha256_file(manifest),
           "ofr_pretrain": vars(profile.search.ofr_pretrain),
           "eval_windows": profile.search.trial.eval_windows, "seed": seed}
    cache_dir = Path(out) / "ofr_cache" / f"{profile.name}-seed{seed}"
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / "cubes.pt"
    with FileLock(str(cache_dir / ".lock")):
        if path.exists():
            _, meta = load_cube_cache(path)
            if meta.get("key") == key:
                return path, meta
        seed_everything(seed)
        model = HOFVSR()
        start = time.perf_counter()
        train_windows = FaceWindows(data, "train", augment=True,
                                    lr_patch=profile.search.ofr_pretrain.lr_patch, all_hr=True)
        history = pretrain_ofr(model, train_windows, profile.search.ofr_pretrain, device, seed)
        pretrain_s = time.perf_counter() - start
        save_checkpoint(cache_dir / "ofr.pt", model, stage="ofr_pretrain", history=history,
                        **key)
        start = time.perf_counter()
        splits = {
            "train": cache_draft_cubes(model, FaceWindows(data, "train", augment=False,
                                                          lr_patch=None), device=device,
                                       desc="cache train cubes"),
            "val": cache_draft_cubes(model, evenly_spaced(
                FaceWindows(data, "val", augment=False, lr_patch=None),
                profile.search.trial.eval_windows), device=device, desc="cache val cubes"),
        }
        meta = {"key": key, "ofr_history": history, "ofr_pretrain_s": pretrain_s,
                "cache_s": time.perf_counter() - start, "data": str(data),
                "windows": {k: len(v["cubes"]) for k, v in splits.items()}}
        save_cube_cache(path, splits, meta)
    return path, meta


# --------------------------------------------------------------------------- the search


def run_search(strategy: str, profile: str | Profile, out: str | Path, data: str | Path | None,
               port: int = DEFAULT_PORT, mode: str = "cached", seed: int | None = None,
               device: str | None = None, threads: int | None = None,
               poll_s: float = 2.0) -> dict:
    """Run (or resume) one search with a profile (name or object); returns its provenance."""
    from nni.experiment import Experiment

    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {STRATEGIES}")
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; choose one of {MODES}")
    profile = get_profile(profile) if isinstance(profile, str) else profile
    seed = profile.seed if seed is None else seed
    sp = profile.search
    sdir = strategy_dir(out, strategy, mode)
    sdir.mkdir(parents=True, exist_ok=True)
    prov_path = sdir / "provenance.json"
    prov = read_provenance(prov_path)
    # a profile whose search settings are another's (evidence extends cpu) shares its search;
    # a setting added since the search ran (absent from its record) does not count
    settings = json.loads(json.dumps(asdict(sp)))
    same_search = all(settings.get(k) == v
                      for k, v in prov.get("profile", {}).get("search", {}).items())
    if prov and (not same_search or prov.get("mode") != mode or prov.get("seed") != seed):
        raise ValueError(f"{sdir} holds a search with profile {prov['profile']['name']}, mode "
                         f"{prov.get('mode')}, seed {prov.get('seed')}: use another --out")
    records = TrialRecords(sdir / "trials.csv")
    nni_dir = sdir / "nni"
    sessions = prov.get("sessions", [])

    # a previous session killed hard: stop its manager, then recover its finished trials
    stale = prov.get("running")
    if stale:
        if _alive(stale["pid"]):
            stop_process_group(stale["pid"])
        sync_records(records, nni_dir / stale["experiment_id"] / "db" / "nni.sqlite",
                     stale["experiment_id"], stale["session"], strategy, mode, seed)
        if sessions and sessions[-1].get("experiment_id") == stale["experiment_id"]:
            sessions[-1]["status"] = "KILLED"

    remaining = sp.max_trials - len(records)
    spent = sum(s.get("wall_s", 0.0) for s in sessions)
    time_left = parse_duration(sp.max_duration) - spent
    if remaining <= 0 or time_left <= 0:  # done: keep the provenance of the runs that did it
        prov.update({"sessions": sessions, "running": None})
        _write_provenance(prov_path, prov)
        print(f"{strategy}: search complete ({len(records)} trials recorded)")
        return prov

    prov.update({"strategy": strategy, "mode": mode, "seed": seed, "profile": profile.to_dict(),
                 "search_space": SEARCH_SPACE, "space_size": space_size(),
                 "versions": software_versions(), "machine": machine_info(),
                 "data": str(data) if data else None, "sessions": sessions, "running": None})
    if mode == "cached":
        if data is None:
            raise ValueError("cached mode needs --data to train the OFR net once")
        cache, cache_meta = prepare_cube_cache(data, profile, out, seed, device)
        prov["ofr_cache"] = {"path": str(cache), **{k: v for k, v in cache_meta.items()
                                                     if k != "ofr_history"}}
    elif data is None:
        raise ValueError("joint mode needs --data")

    session = len(sessions)
    trial_cmd = [sys.executable, "-m", "hofvsr_lib.search.trial", "--mode", mode,
                 "--train", json.dumps(vars(sp.trial)), "--seed", str(seed)]
    trial_cmd += ["--cache", str(cache)] if mode == "cached" else ["--data", str(data)]
    if threads:
        trial_cmd += ["--threads", str(threads)]
    if device:
        trial_cmd += ["--device", device]
    nni_dir.mkdir(parents=True, exist_ok=True)
    exp = Experiment("local")
    cfg = exp.config
    cfg.experiment_name = f"hofvsr-{strategy}-{profile.name}-{mode}"
    cfg.trial_command = " ".join(_quote(a) for a in trial_cmd)
    cfg.trial_code_directory = str(nni_dir)
    cfg.search_space = SEARCH_SPACE
    cfg.tuner = tuner_config(strategy, seed + 1000 * session, sp.max_trials, nni_dir,
                             sp.tpe_startup_trials)
    cfg.max_trial_number = remaining
    cfg.trial_concurrency = sp.trial_concurrency
    cfg.max_experiment_duration = f"{max(60, int(time_left))}s"
    cfg.experiment_working_directory = str(nni_dir)
    import torch

    cfg.trial_gpu_number = 1 if torch.cuda.is_available() and device != "cpu" else 0
    if cfg.trial_gpu_number:
        cfg.training_service.use_active_gpu = True
    if strategy == "smac":  # validate here: a tuner raising inside NNI hangs the experiment
        from .smac_tuner import build_configspace

        build_configspace(SEARCH_SPACE, seed)

    history = [{"parameter": {k: int(r[k]) for k in SEARCH_SPACE}, "value": float(r["final_psnr"])}
               for r in records.succeeded()]
    info = {"session": session, "experiment_id": exp.id, "port": port,
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "trials_before": len(records), "max_trial_number": remaining,
            "max_experiment_duration": cfg.max_experiment_duration, "status": "RUNNING"}
    sessions.append(info)
    old_handlers = {s: signal.signal(s, _raise_interrupt) for s in (signal.SIGTERM, signal.SIGINT)}
    start = time.perf_counter()
    db = nni_dir / exp.id / "db" / "nni.sqlite"
    status = "RUNNING"
    try:
        exp.start(port)
        prov["running"] = {"pid": exp._proc.pid, "experiment_id": exp.id, "session": session}
        _write_provenance(prov_path, prov)
        print(f"{strategy}: NNI experiment {exp.id}, web UI http://localhost:{port}", flush=True)
        while True:
            time.sleep(poll_s)
            status = exp.get_status()
            if history and exp.list_trial_jobs():  # the tuner is up: posting earlier hangs NNI
                _import_history(port, history)
                history = []
            if sync_records(records, db, exp.id, session, strategy, mode, seed):
                print(f"{strategy}: {len(records)}/{sp.max_trials} trials recorded", flush=True)
            if status in ("DONE", "STOPPED", "ERROR"):
                break
            if time.perf_counter() - start > time_left + HANG_GRACE_S:
                status = "TIMEOUT"
                break
    except SearchInterrupted:
        status = "INTERRUPTED"
    finally:
        try:
            exp.stop()
        finally:
            if exp._proc is not None and _alive(exp._proc.pid):
                stop_process_group(exp._proc.pid)
            elif prov.get("running"):
                stop_process_group(prov["running"]["pid"], timeout=2)
            for s, handler in old_handlers.items():
                signal.signal(s, handler)
        sync_records(records, db, exp.id, session, strategy, mode, seed)
        info.update({"status": status, "wall_s": time.perf_counter() - start,
                     "ended": datetime.now(UTC).isoformat(timespec="seconds"),
                     "trials_after": len(records)})
        prov["running"] = None
        _write_provenance(prov_path, prov)
    if status == "INTERRUPTED":
        raise KeyboardInterrupt
    return prov


def _import_history(port: int, history: list[dict]) -> None:
    """Tell the tuner the earlier sessions' results (TPE and SMAC use them; Random ignores
    them, a resumed session reseeds it instead). A failure only costs the tuner its memory."""
    from nni.experiment import rest

    try:
        rest.post(port, "/experiment/import-data", history)
    except Exception as exc:  # noqa: BLE001 (NNI raises requests' errors)
        print(f"warning: could not import earlier results into the tuner: {exc}",
              file=sys.stderr)


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)


# --------------------------------------------------------------------------- CLI


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--strategy", choices=STRATEGIES, required=True)
    parser.add_argument("--profile", default="cpu", help="smoke, cpu or paper (default cpu)")
    parser.add_argument("--out", default="results/search",
                        help="output root; records go to OUT/<strategy>/ (default results/search)")
    parser.add_argument("--data", default="data/faces", help="dataset directory (manifest.csv)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="NNI web UI port")
    parser.add_argument("--mode", choices=MODES, default="cached",
                        help="cached: trials train the SR net on frozen OFR draft cubes "
                             "(default); joint: trials train the whole network")
    parser.add_argument("--seed", type=int, default=None, help="default: the profile's seed")
    parser.add_argument("--device", default=None, help="default: cuda if available, else cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads per trial")


def run(args: argparse.Namespace) -> int:
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    try:
        prov = run_search(args.strategy, args.profile, args.out, args.data, args.port, args.mode,
                          args.seed, args.device, args.threads)
    except KeyboardInterrupt:
        print("search interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    last = prov["sessions"][-1] if prov["sessions"] else {}
    print(json.dumps({"strategy": args.strategy, "status": last.get("status", "COMPLETE"),
                      "trials": last.get("trials_after")}))
    return 0 if last.get("status", "DONE") in ("DONE", "STOPPED", "COMPLETE") else 1
