"""``hofvsr search``: one NNI search (TPE, Random or SMAC) with a profile's budget.

The same launcher drives the three strategies with the same budget (a number of trials, each
trained for the same epochs; ``hofvsr_lib.profiles.SearchProfile``); the duration cap is a
safety net well above the expected time. Each strategy's tuner gets its own seed, derived from
the profile's seed and the strategy's name (``strategy_seed``); the trials' training seed is the
profile's, so a configuration trains the same way whichever tuner proposed it. An assessor
(NNI's Medianstop on the per-epoch validation PSNR) stops unpromising trials early where the
profile asks for one.

In the default ``cached`` mode the OFR net is trained once on the training split with its own
flow loss, frozen, and its draft cubes cached beside the dataset (``training.cached``: shared
by every search of that dataset and by the final training); each trial then trains only the SR
net on the cubes of its spec's flow (the paper's space: TIP-2020's, cached before the trials
start). ``joint`` mode trains the whole network in every trial, as SOF-VSR does.

The space is the paper's (``choice``, or ``ordinal``: the same 800 points as ranges) or the
whole network's (``whole``, :mod:`.space`): the flow searched too, with the budget and the
narrowed values of ``Profile.whole``; each candidate is timed before it is trained (the
search's ``latency.json``, :mod:`.latency`); SMAC optimises validation PSNR and latency
together (ParEGO), TPE and Random the declared score (:func:`.space.score`).

Records: ``<out>/<search>/trials.csv`` gets one row per finished trial, read from NNI's own
database (``nni/<id>/db/nni.sqlite`` under the same directory) while the search runs, with the
source of its configuration (``tuners``); ``provenance.json`` the profile, versions, machine,
seeds, mode and every session's cost. ``<search>`` is the strategy, with ``-ordinal`` (the
ordinal encoding of the space) or ``-whole`` (the whole network's space), ``-noassessor``
(assessor switched off) or ``-joint`` appended.

Resume: running the same command again continues a search. Trials finished in earlier sessions
(even ones that finished after the launcher was killed) are recovered from NNI's database, the
new experiment only gets the remaining trial count and time, and the tuner is told the earlier
results. A trial cancelled by the stop does not count against the budget. Interrupts (SIGINT,
SIGTERM) stop the NNI experiment; a manager left behind by a SIGKILL is stopped when the search
resumes. A busy web UI port is replaced by the next free one, said on screen.

The web UI (NNI's REST server: it can also stop the experiment) listens on 127.0.0.1 only,
unless ``ui_host`` is ``0.0.0.0`` (every interface, NNI's own behaviour) or trials run on other
machines, which report to it. NNI 3.0 has no option for this (its manager's REST server,
``nni_node/rest_server/index.js``, calls ``app.listen(port)``): :func:`ui_listening_on`
preloads a few lines into the manager's Node.js that give a server started without a host
the chosen one.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import tempfile
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path

from ..atomic import write_json
from ..data.manifest import MANIFEST, check_same_dataset, manifest_sha256
from ..devices import add_device_arguments, apply_device_arguments
from ..profiles import PROFILES, Profile, get_profile
from ..provenance import machine_info, software_versions
from ..spec import NetSpec
from ..vocabulary import STRATEGIES
from .latency import REFERENCE
from .nni_state import (
    FINISHED,
    alive,
    boot_id,
    free_port,
    read_nni_trials,
    stop_process_group,
)
from .records import TIMED_COLUMNS, TrialRecords, read_provenance
from .remote import load_machines, new_experiment, remote_python
from .space import (
    LATENCY_LAMBDA,
    OBJECTIVES,
    SPACES,
    TIMED_SPACES,
    narrowed,
    network_count,
    objective_metrics,
    space_size,
    validate_config,
)
from .trial import draft_cubes, network_cost
from .tuners import read_proposals, read_stops

MODES = ("cached", "joint")
DEFAULT_PORT = 8080
LATENCY_STORE = "latency.json"  # a timed search's timings, in its folder (:mod:`.latency`)
HANG_GRACE_S = 120  # beyond the NNI duration cap, the launcher stops a stalled experiment
NO_TRIAL_S = 300  # an experiment with no trial this long after its start has a dead tuner
LOCALHOST, ALL_INTERFACES = "127.0.0.1", "0.0.0.0"
# where the web UI listens; the only two that NNI's own clients (the launcher, the tuner, the
# trials: all of them call http://localhost:PORT) can reach
UI_HOSTS = (LOCALHOST, ALL_INTERFACES)
UI_HOST_ENV = "HOFVSR_UI_HOST"  # the default of ui_host (``hofvsr reproduce --ui-host`` sets it)
# Preloaded into NNI's manager (NODE_OPTIONS=--require): a server told to listen on a port and
# no host listens on HOST (an explicit host is left alone).
_LISTEN_JS = """const net = require('net');
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' && (args[1] == null || typeof args[1] === 'function')) {
    args.splice(1, args[1] == null ? 1 : 0, HOST);
  }
  return listen.apply(this, args);
};
"""


class SearchInterrupted(Exception):
    """SIGTERM/SIGINT received: stop the experiment and exit."""


def parse_duration(text: str) -> float:
    """NNI duration string (``90s``, ``20m``, ``32h``, ``1d``) -> seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", str(text))
    if not match:
        raise ValueError(f"bad duration {text!r}: use a number and one of s, m, h, d")
    return float(match[1]) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match[2]]


def search_name(strategy: str, mode: str = "cached", space: str = "choice",
                assessor: bool = True) -> str:
    """The name (and directory) of one search: the strategy, then ``-ordinal`` or ``-whole``
    (the space unless the paper's ``choice``), ``-noassessor`` and ``-joint`` for the
    variants."""
    return (strategy + ("" if space == "choice" else f"-{space}")
            + ("" if assessor else "-noassessor") + ("-joint" if mode == "joint" else ""))


def strategy_seed(seed: int, strategy: str) -> int:
    """The tuner seed of a strategy: the profile's seed offset by a hash of the strategy's name,
    so that two strategies never share a random stream (a variant of a search, e.g. without the
    assessor, keeps its strategy's seed and so its proposals)."""
    return (seed + zlib.crc32(strategy.encode())) % 2**31


def tuner_config(strategy: str, seed: int, n_trials: int, work_dir: Path, log: Path,
                 tpe_startup_trials: int = 20, objectives: dict[str, str] | None = None):
    """NNI tuner config of a strategy: NNI's TPE and Random and our SMAC3 wrapper, each logging
    the source of its proposals to ``log`` (``tuners``); ``objectives`` (result key -> maximize
    or minimize) make SMAC's search multi-objective, the others maximise ``default``."""
    from nni.experiment import CustomAlgorithmConfig

    smac_args = {"optimize_mode": "maximize", "seed": seed, "n_trials": n_trials,
                 "output_directory": str(work_dir / "smac3")}
    classes = {
        "tpe": ("tuners.TracedTPE", {"optimize_mode": "maximize", "seed": seed,
                                     "tpe_args": {"n_startup_jobs": tpe_startup_trials}}),
        "random": ("tuners.TracedRandom", {"seed": seed}),
        "smac": ("smac_tuner.SMACTuner",
                 {**smac_args, "objectives": objectives} if objectives else smac_args),
    }
    if strategy not in classes:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {STRATEGIES}")
    name, args = classes[strategy]
    return CustomAlgorithmConfig(class_name=f"hofvsr_lib.search.{name}",
                                 code_directory=_code_directory(),
                                 class_args={**args, "proposal_log": str(log)})


def _code_directory() -> str:
    """The directory holding ``hofvsr_lib`` (NNI imports custom tuners and assessors from it)."""
    import hofvsr_lib

    return str(Path(hofvsr_lib.__file__).parent.parent)


# --------------------------------------------------------------------------- records


def trial_row(trial: dict, experiment_id: str, session: int, search: str, strategy: str,
              mode: str, seed: int, sources: dict[int, str], stopped: set[str],
              cancelled: set[str] = frozenset(), space: str = "choice") -> dict:
    """One ``trials.csv`` row from a finished NNI trial of a search of ``space`` (see
    ``nni_state.read_nni_trials``); ``sources`` maps parameter ids to where the tuner got them
    (``tuners.read_proposals``), ``stopped`` holds the trials the assessor stopped
    (``tuners.read_stops``), ``cancelled`` those still running when the launcher stopped the
    experiment (NNI 3.0 records both kinds of kill as ``FAILED``). The PSNR is the metrics'
    ``psnr``, else (the paper's spaces) their ``default``."""
    params = trial["parameters"] or {}
    searched = SPACES[space]
    config = validate_config(params, searched) if all(k in params for k in searched) else {}
    final = trial["final"] if isinstance(trial["final"], dict) else None
    periodical = [p for p in trial["periodical"] if isinstance(p, dict)]
    status = trial["status"] if final is not None or trial["status"] != "SUCCEEDED" else "FAILED"
    if final is None and trial["trial_id"] in stopped:
        status = "EARLY_STOPPED"
    elif final is None and trial["trial_id"] in cancelled:
        status = "USER_CANCELED"
    cost = ({"params": final["params"], "gflops": final["gflops"]} if final
            else network_cost(NetSpec.of(config)) if config else {"params": "", "gflops": ""})
    timed = {c: _cell(final.get("default" if c == "score" else c, "")) for c in TIMED_COLUMNS
             } if final and space in TIMED_SPACES else {}
    return {
        "experiment_id": experiment_id, "trial_id": trial["trial_id"], "session": session,
        "search": search, "strategy": strategy, "mode": mode,
        "source": sources.get(trial["parameter_id"], ""), **config, **cost, **timed,
        "epochs_done": len(periodical),
        "epoch_psnr": json.dumps([p.get("psnr", p["default"]) for p in periodical]),
        "epoch_ssim": json.dumps([p.get("ssim") for p in periodical]),
        "epoch_loss": json.dumps([p.get("loss") for p in periodical]),
        "final_psnr": final.get("psnr", final["default"]) if final else "",
        "final_ssim": final["ssim"] if final else "",
        "final_loss": final["loss"] if final else "",
        "duration_s": ((trial["end"] - trial["start"]) / 1000.0
                       if trial["end"] and trial["start"] else ""),
        "status": status, "seed": final["seed"] if final else seed,
        "started": _iso(trial["start"]), "ended": _iso(trial["end"]),
    }


def _cell(value) -> object:
    """A record's cell: dicts and lists as JSON."""
    return json.dumps(value) if isinstance(value, dict | list) else value


def _iso(ms: int | None) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds") if ms else ""


def sync_records(records: TrialRecords, nni_dir: Path, experiment_id: str, session: int,
                 search: str, strategy: str, mode: str, seed: int,
                 cancelled: set[str] = frozenset()) -> int:
    """Add every finished trial of the experiment not yet in ``records``; returns how many.
    ``cancelled``: trials the launcher's stop interrupted (see ``trial_row``)."""
    sources = read_proposals(proposal_log(nni_dir, experiment_id))
    stopped = read_stops(stop_log(nni_dir, experiment_id))
    added = 0
    for trial in read_nni_trials(nni_dir / experiment_id / "db" / "nni.sqlite"):
        if trial["status"] in FINISHED and (experiment_id, trial["trial_id"]) not in records:
            records.add(trial_row(trial, experiment_id, session, search, strategy, mode, seed,
                                  sources, stopped, cancelled, records.space))
            added += 1
    return added


def proposal_log(nni_dir: Path, experiment_id: str) -> Path:
    """Where the tuner of one experiment logs its proposals (``tuners``)."""
    return nni_dir / f"proposals-{experiment_id}.jsonl"


def stop_log(nni_dir: Path, experiment_id: str) -> Path:
    """Where the assessor of one experiment logs the trials it stops (``tuners``)."""
    return nni_dir / f"early-stops-{experiment_id}.jsonl"


def _raise_interrupt(signum, _frame):
    raise SearchInterrupted(f"signal {signum}")


# --------------------------------------------------------------------------- cached mode


def trial_cubes(data: str | Path, profile: Profile, seed: int = 0,
                device: str | None = None) -> tuple[Path, dict]:
    """The cached input of the paper's space's trials (:func:`.trial.draft_cubes`, shared with
    the final training): the draft cubes of its networks' flow, ``NetSpec().flow``
    (TIP-2020's). Returns (cache file, its metadata)."""
    sp = profile.search
    return draft_cubes(NetSpec().flow, data, sp.ofr_pretrain, sp.trial.eval_windows, seed,
                       device)


# --------------------------------------------------------------------------- spaces


def profile_for(profile: Profile, space: str) -> Profile:
    """The profile a search of ``space`` runs with: a timed (whole-network) search takes its
    budget and its flow nets' pretraining from ``profile.whole``."""
    if space not in TIMED_SPACES:
        return profile
    whole = profile.whole
    if whole is None:
        raise ValueError(f"profile {profile.name} has no whole-network search (Profile.whole)")
    return replace(profile, search=replace(
        profile.search, max_trials=whole.max_trials, max_duration=whole.max_duration,
        ofr_pretrain=whole.flow_pretrain or profile.search.ofr_pretrain))


def searched_space(profile: Profile, space: str) -> dict[str, dict]:
    """The NNI space a search of ``space`` explores (a whole-network one: narrowed to its
    profile's values)."""
    if space not in TIMED_SPACES:
        return SPACES[space]
    return narrowed(SPACES[space], profile_for(profile, space).whole.values)


def _objective() -> dict:
    """A timed search's objectives, as its provenance records them."""
    return {"objectives": OBJECTIVES, "smac": "ParEGO over both objectives",
            "tpe_random": "score = psnr - lambda * log2(latency_ratio)",
            "lambda_db_per_2x": LATENCY_LAMBDA, "latency_reference": REFERENCE,
            "latency_store": LATENCY_STORE}


# --------------------------------------------------------------------------- the search


def run_search(strategy: str, profile: str | Profile, out: str | Path, data: str | Path | None,
               port: int = DEFAULT_PORT, mode: str | None = None, seed: int | None = None,
               device: str | None = None, threads: int | None = None, space: str = "choice",
               assessor: bool = True, machines: list[dict] | None = None,
               poll_s: float = 2.0, ui_host: str | None = None) -> dict:
    """Run (or resume) one search with a profile (name or object); returns its provenance.
    ``mode`` defaults to the profile's; ``space`` is ``choice`` (the paper's) or ``ordinal``;
    ``assessor=False`` switches the profile's assessor off; ``machines`` runs the trials on
    them through NNI's remote training service (``remote``) instead of on this host;
    ``ui_host``: where the web UI listens (:func:`ui_host_for`)."""
    profile = get_profile(profile) if isinstance(profile, str) else profile
    _check_choices(strategy, mode or profile.search.mode, space)
    profile = profile_for(profile, space)
    sp = profile.search
    shown_data = str(data) if data else None  # as given (provenance holds no machine paths)
    # NNI's dispatcher and the trials run in other directories: absolute paths from here on
    out, data = Path(out).resolve(), (Path(data).resolve() if data else None)
    mode = mode or sp.mode
    seed = profile.seed if seed is None else seed
    ui_host = ui_host_for(ui_host, machines)
    name = search_name(strategy, mode, space, assessor or not sp.assessor)  # suffix: switched off
    sdir = Path(out) / name
    sdir.mkdir(parents=True, exist_ok=True)
    prov_path = sdir / "provenance.json"
    # a missing dataset is the trials' error to report (each fails, the search goes on)
    manifest = manifest_sha256(data) if data and (data / MANIFEST).is_file() else None
    prov = _stored_provenance(prov_path, profile, mode, seed, manifest, data, space)
    records = TrialRecords(sdir / "trials.csv", space)
    nni_dir = sdir / "nni"
    sessions = prov.get("sessions", [])
    tag = (name, strategy, mode, seed)
    _recover_killed(prov, records, nni_dir, tag)

    remaining = sp.max_trials - records.completed()
    time_left = parse_duration(sp.max_duration) - sum(s.get("wall_s", 0.0) for s in sessions)
    if remaining <= 0 or time_left <= 0:  # done: keep the provenance of the runs that did it
        prov.update({"sessions": sessions, "running": None})
        write_json(prov_path, prov)
        print(f"{name}: search complete ({records.completed()} trials)")
        return prov

    tuner_seed = strategy_seed(seed, strategy)
    nni_space = searched_space(profile, space)
    timed = ({"networks": network_count(nni_space), "objective": _objective()}
             if space in TIMED_SPACES else {})
    prov.update({"search": name, "strategy": strategy, "mode": mode, "seed": seed,
                 "tuner_seed": tuner_seed, "space": space, "search_space": nni_space,
                 "space_size": space_size(nni_space), **timed,
                 "assessor": _assessor(sp, assessor),
                 **_setting(profile, shown_data, machines, manifest), "sessions": sessions,
                 "running": None})
    trial_cmd = _trial_command(prov, profile, data, mode, seed, device, threads,
                               python=remote_python(machines) if machines else sys.executable,
                               space=space, sdir=sdir)
    nni_dir.mkdir(parents=True, exist_ok=True)
    exp = new_experiment(machines)
    _configure(exp, name, profile, nni_dir, trial_cmd, strategy, nni_space, space, assessor,
               tuner_seed + 1000 * len(sessions), remaining, time_left,
               gpu=device == "cuda" if machines else device != "cpu")
    _run_session(exp, _port(port, name), prov, prov_path, records, nni_dir, tag,
                 sp.max_trials, time_left, poll_s, ui_host)
    return prov


def ui_host_for(ui_host: str | None, machines: list[dict] | None) -> str:
    """Where the web UI listens: ``ui_host`` (one of :data:`UI_HOSTS`), else
    ``$HOFVSR_UI_HOST``, else 127.0.0.1, or every interface when a trial machine is another
    host (its trials report to the manager's port)."""
    remote = any(str(m.get("host")) not in (LOCALHOST, "localhost", "::1")
                 for m in machines or [])
    host = ui_host or os.environ.get(UI_HOST_ENV) or (ALL_INTERFACES if remote else LOCALHOST)
    if host not in UI_HOSTS:
        raise ValueError(f"web UI host {host!r}: use {LOCALHOST} (this machine only) or "
                         f"{ALL_INTERFACES} (every interface)")
    return host


@contextmanager
def ui_listening_on(host: str) -> Iterator[None]:
    """While NNI's manager starts inside the block, its web UI is made to listen on ``host``:
    :data:`_LISTEN_JS` preloaded through ``NODE_OPTIONS`` (the manager's node inherits this
    process's environment, restored afterwards); ``0.0.0.0`` is NNI's own behaviour."""
    if host == ALL_INTERFACES:
        yield
        return
    before = os.environ.get("NODE_OPTIONS")
    with tempfile.TemporaryDirectory(prefix="hofvsr-nni-") as tmp:
        script = Path(tmp, "listen_host.js")
        script.write_text(_LISTEN_JS.replace("HOST", json.dumps(host)))
        os.environ["NODE_OPTIONS"] = f"{before or ''} --require {json.dumps(str(script))}".strip()
        try:
            yield
        finally:
            if before is None:
                os.environ.pop("NODE_OPTIONS", None)
            else:
                os.environ["NODE_OPTIONS"] = before


def _ui_line(name: str, experiment_id: str, port: int, host: str) -> str:
    """What the launcher says about the web UI when an experiment starts."""
    where = (f"this machine only (from another: ssh -L {port}:localhost:{port} THIS-HOST, "
             f"then open that URL there)" if host == LOCALHOST else
             f"WARNING: listening on every interface: whoever reaches this machine on port "
             f"{port} can watch and stop the search (--ui-host {LOCALHOST} keeps it here)")
    return f"{name}: NNI experiment {experiment_id}, web UI http://localhost:{port}, {where}"


def _run_session(exp, port: int, prov: dict, prov_path: Path, records: TrialRecords,
                 nni_dir: Path, tag: tuple, max_trials: int, time_left: float,
                 poll_s: float, ui_host: str = LOCALHOST) -> None:
    """One NNI experiment of a search, from start to stop: its session entry in ``prov``
    (written as it goes), the records synced at the end, Ctrl-C and SIGTERM turned into a
    clean stop (then re-raised as KeyboardInterrupt); the web UI on ``ui_host``."""
    sessions = prov["sessions"]
    session = len(sessions)
    remaining = exp.config.max_trial_number
    history = _history(records)
    info = {"session": session, "experiment_id": exp.id, "port": port, "ui_host": ui_host,
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "trials_before": records.completed(), "max_trial_number": remaining,
            "max_experiment_duration": exp.config.max_experiment_duration, "status": "RUNNING",
            "load_average_start": prov["machine"]["load_average"]}
    sessions.append(info)
    old_handlers = {s: signal.signal(s, _raise_interrupt) for s in (signal.SIGTERM, signal.SIGINT)}
    start = time.perf_counter()
    status = "RUNNING"
    try:
        with ui_listening_on(ui_host):
            exp.start(port)
        prov["running"] = {"pid": exp._proc.pid, "experiment_id": exp.id, "session": session,
                           "boot": boot_id()}
        write_json(prov_path, prov)
        print(_ui_line(tag[0], exp.id, port, ui_host), flush=True)
        status = _poll(exp, port, history, records, nni_dir, session, tag, max_trials,
                       time_left, poll_s)
    except SearchInterrupted:
        status = "INTERRUPTED"
    finally:
        cancelled = _unfinished(nni_dir, exp.id)
        _stop(exp, prov)
        for s, handler in old_handlers.items():
            signal.signal(s, handler)
        sync_records(records, nni_dir, exp.id, session, *tag, cancelled=cancelled)
        info.update({"status": status, "wall_s": time.perf_counter() - start,
                     "ended": datetime.now(UTC).isoformat(timespec="seconds"),
                     "trials_after": records.completed(),
                     "load_average_end": [round(x, 2) for x in machine_info()["load_average"]]})
        prov["running"] = None
        write_json(prov_path, prov)
    if status == "INTERRUPTED":
        raise KeyboardInterrupt


def _history(records: TrialRecords) -> list[dict]:
    """The earlier sessions' results for the tuner: each trial's parameters and its result as
    it reported it (a timed space's: the PSNR and latency metrics, else the PSNR)."""
    space = SPACES[records.space]
    return [{"parameter": validate_config(r, space),
             "value": objective_metrics(float(r["final_psnr"]), float(r["latency_ratio"]))
             if records.space in TIMED_SPACES else float(r["final_psnr"])}
            for r in records.succeeded()]


def _check_choices(strategy: str, mode: str, space: str) -> None:
    for value, valid, what in ((strategy, STRATEGIES, "strategy"), (mode, MODES, "mode"),
                               (space, tuple(SPACES), "space")):
        if value not in valid:
            raise ValueError(f"unknown {what} {value!r}; choose one of {valid}")


def _setting(profile: Profile, data: str | None, machines: list[dict] | None,
             manifest: str | None) -> dict:
    """Where a session runs: profile, software, machine, dataset (as given, and its manifest's
    sha256) and trial hosts."""
    return {"profile": profile.to_dict(), "versions": software_versions(),
            "machine": machine_info(), "data": data, "manifest_sha256": manifest,
            "trial_hosts": [m["host"] for m in machines] if machines else ["localhost"]}


def _stored_provenance(path: Path, profile: Profile, mode: str, seed: int,
                       manifest: str | None, data: Path | None, space: str = "choice") -> dict:
    """The stored provenance of a search, checked to be this one's: a profile whose search
    settings (a timed space's: and its ``whole`` ones) are another's (evidence extends cpu)
    shares its search; a setting added since the search ran (absent from its record) does not
    count; a search on another dataset (manifest) is never resumed."""
    prov = read_provenance(path)
    parts = ("search", "whole") if space in TIMED_SPACES else ("search",)
    settings = json.loads(json.dumps({k: profile.to_dict()[k] for k in parts}))
    same = _holds(settings, {k: prov.get("profile", {}).get(k, {}) for k in parts})
    if prov and (not same or prov.get("mode") != mode or prov.get("seed") != seed):
        raise ValueError(f"{path.parent} holds a search with profile {prov['profile']['name']}, "
                         f"mode {prov.get('mode')}, seed {prov.get('seed')}: use another --out")
    if prov and manifest is not None:
        check_same_dataset(prov.get("manifest_sha256"), data, path.parent)
    return prov


def _holds(settings: dict, recorded: dict) -> bool:
    """Whether ``settings`` has every value of ``recorded``, at every depth (a setting added to
    a profile after a search ran is absent from its record and does not count)."""
    return all(_holds(settings.get(k), v) if isinstance(v, dict) and
               isinstance(settings.get(k), dict) else settings.get(k) == v
               for k, v in recorded.items())


def _recover_killed(prov: dict, records: TrialRecords, nni_dir: Path, tag: tuple) -> None:
    """A previous session killed hard: stop its manager (if it ran under this boot of this
    machine: a committed search resumed elsewhere names another machine's process id), then
    recover its finished trials."""
    stale = prov.get("running")
    if not stale:
        return
    cancelled = _unfinished(nni_dir, stale["experiment_id"])
    if stale.get("boot") == boot_id() and alive(stale["pid"]):
        stop_process_group(stale["pid"])
    sync_records(records, nni_dir, stale["experiment_id"], stale["session"], *tag,
                 cancelled=cancelled)
    sessions = prov.get("sessions", [])
    if sessions and sessions[-1].get("experiment_id") == stale["experiment_id"]:
        sessions[-1]["status"] = "KILLED"


ASSESSORS = {"Medianstop": "hofvsr_lib.search.tuners.TracedMedianstop",
             "StepMedianstop": "hofvsr_lib.search.tuners.StepMedianstop"}


def _assessor(sp, enabled: bool) -> dict | None:
    if not (enabled and sp.assessor):
        return None
    if sp.assessor not in ASSESSORS:
        raise ValueError(f"unknown assessor {sp.assessor!r}; choose one of {sorted(ASSESSORS)}")
    return {"name": sp.assessor,
            "class_args": {"optimize_mode": "maximize", "start_step": sp.assessor_start_step,
                           "last_step": sp.trial.epochs}}


def _trial_command(prov: dict, profile: Profile, data, mode: str, seed: int,
                   device: str | None, threads: int | None, python: str,
                   space: str = "choice", sdir: Path | None = None) -> str:
    """The trial's command line. Cached mode: each trial finds (or builds) the cubes of its
    spec's flow; the paper's space's, TIP-2020's, are built here first. A timed space's: its
    latency settings and the search's timings file (in ``sdir``)."""
    import shlex

    cmd = [python, "-m", "hofvsr_lib.search.trial", "--mode", mode, "--space", space,
           "--train", json.dumps(vars(profile.search.trial)), "--seed", str(seed)]
    if data is None:
        raise ValueError(f"{mode} mode needs --data")
    cmd += ["--data", str(data)]
    if mode == "cached":
        cmd += ["--ofr-pretrain", json.dumps(vars(profile.search.ofr_pretrain))]
    if mode == "cached" and space not in TIMED_SPACES:
        cache, meta = trial_cubes(data, profile, seed, device)
        prov["ofr_cache"] = {"file": cache.name,
                             **{k: v for k, v in meta.items() if k != "ofr_history"}}
    if space in TIMED_SPACES:
        cmd += ["--latency", json.dumps(asdict(profile.whole.latency)),
                "--latency-store", str(Path(sdir) / LATENCY_STORE)]
    cmd += ["--threads", str(threads)] if threads else []
    cmd += ["--device", device] if device else []
    return " ".join(shlex.quote(a) for a in cmd)


def _configure(exp, name: str, profile: Profile, nni_dir: Path, trial_cmd: str, strategy: str,
               nni_space: dict, space: str, assessor: bool, tuner_seed: int, remaining: int,
               time_left: float, gpu: bool = True) -> None:
    """The experiment's config: NNI's own example, with our tuners, the profile's budget and
    ``nni_space`` (what a search of ``space`` explores: :func:`searched_space`)."""
    import torch
    from nni.experiment import CustomAlgorithmConfig

    sp = profile.search
    cfg = exp.config
    cfg.experiment_name = f"hofvsr-{name}-{profile.name}"
    cfg.trial_command = trial_cmd
    code = nni_dir / "trial_code"  # NNI uploads it to remote machines: keep it small
    code.mkdir(exist_ok=True)
    (code / "README.txt").write_text("The trials run `python -m hofvsr_lib.search.trial` from "
                                     "the installed project; NNI needs a non-empty folder.\n")
    cfg.trial_code_directory = str(code)
    cfg.search_space = nni_space
    cfg.tuner = tuner_config(strategy, tuner_seed, sp.max_trials, nni_dir,
                             proposal_log(nni_dir, exp.id), sp.tpe_startup_trials,
                             OBJECTIVES if space in TIMED_SPACES else None)
    chosen = _assessor(sp, assessor)
    if chosen:
        cfg.assessor = CustomAlgorithmConfig(
            class_name=ASSESSORS[chosen["name"]], code_directory=_code_directory(),
            class_args={**chosen["class_args"], "stop_log": str(stop_log(nni_dir, exp.id))})
    cfg.max_trial_number = remaining
    cfg.trial_concurrency = sp.trial_concurrency
    cfg.max_experiment_duration = f"{max(60, int(time_left))}s"
    cfg.experiment_working_directory = str(nni_dir)
    cfg.trial_gpu_number = 1 if gpu and torch.cuda.is_available() else 0
    if cfg.trial_gpu_number and cfg.training_service.platform == "local":
        cfg.training_service.use_active_gpu = True
    if strategy == "smac":  # validate here: a tuner raising inside NNI hangs the experiment
        from .smac_tuner import build_configspace

        build_configspace(nni_space, tuner_seed)


def _port(port: int, name: str) -> int:
    chosen = free_port(port)
    if chosen != port:
        print(f"{name}: port {port} is in use; the NNI web UI takes port {chosen}", flush=True)
    return chosen


def _poll(exp, port: int, history: list[dict], records: TrialRecords, nni_dir: Path,
          session: int, tag: tuple, max_trials: int, time_left: float, poll_s: float) -> str:
    """Wait for the experiment, recording trials as they finish; returns its last status."""
    start = time.perf_counter()
    while True:
        time.sleep(poll_s)
        try:
            status = exp.get_status()
        except OSError as exc:  # requests' ConnectionError: the NNI manager has gone
            print(f"{tag[0]}: the NNI manager stopped answering ({exc.__class__.__name__}); "
                  f"see {nni_dir / exp.id / 'log' / 'nnimanager.log'}", file=sys.stderr)
            return "ERROR"
        if history and exp.list_trial_jobs():  # the tuner is up: posting earlier hangs NNI
            _import_history(port, history)
            history = []
        if sync_records(records, nni_dir, exp.id, session, *tag):
            print(f"{tag[0]}: {records.completed()}/{max_trials} trials recorded", flush=True)
        if status in ("DONE", "STOPPED", "ERROR"):
            return status
        elapsed = time.perf_counter() - start
        if elapsed > time_left + HANG_GRACE_S:
            return "TIMEOUT"
        if elapsed > NO_TRIAL_S and not exp.list_trial_jobs():
            print(f"{tag[0]}: no trial started in {NO_TRIAL_S} s; the tuner failed? See "
                  f"{nni_dir / exp.id / 'log' / 'dispatcher.log'}", file=sys.stderr)
            return "ERROR"


def _unfinished(nni_dir: Path, experiment_id: str) -> set[str]:
    """Trials of the experiment not finished yet (those a stop now interrupts)."""
    return {t["trial_id"] for t in read_nni_trials(nni_dir / experiment_id / "db" / "nni.sqlite")
            if t["status"] not in FINISHED}


def _stop(exp, prov: dict) -> None:
    """Stop the experiment and make sure its manager's process group is gone."""
    try:
        exp.stop()
    finally:
        if exp._proc is not None and alive(exp._proc.pid):
            stop_process_group(exp._proc.pid)
        elif prov.get("running"):
            stop_process_group(prov["running"]["pid"], timeout=2)


def _import_history(port: int, history: list[dict]) -> None:
    """Tell the tuner the earlier sessions' results (TPE and SMAC use them; Random ignores
    them, a resumed session reseeds it instead). A failure only costs the tuner its memory."""
    from nni.experiment import rest

    try:
        rest.post(port, "/experiment/import-data", history)
    except Exception as exc:  # noqa: BLE001 (NNI raises requests' errors)
        print(f"warning: could not import earlier results into the tuner: {exc}",
              file=sys.stderr)


# --------------------------------------------------------------------------- CLI


def add_ui_host_argument(parser: argparse.ArgumentParser) -> None:
    """``--ui-host``, for ``hofvsr search`` and ``hofvsr reproduce``."""
    parser.add_argument("--ui-host", choices=UI_HOSTS, default=None,
                        help=f"where NNI's web UI listens: {LOCALHOST} (default: this machine "
                             f"only; forward the port over SSH to watch from another) or "
                             f"{ALL_INTERFACES} (every interface: anyone who reaches the port "
                             f"can stop the search; the default when trials run on other "
                             f"machines)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--strategy", choices=STRATEGIES, required=True)
    parser.add_argument("--profile", default="cpu", choices=sorted(PROFILES),
                        help="default cpu")
    parser.add_argument("--out", default="results/search",
                        help="output root; records go to OUT/<search>/ (default results/search)")
    parser.add_argument("--data", default="data/faces", help="dataset directory (manifest.csv)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="NNI web UI port")
    add_ui_host_argument(parser)
    parser.add_argument("--mode", choices=MODES, default=None,
                        help="cached: trials train the SR net on frozen OFR draft cubes; "
                             "joint: trials train the whole network (default: the profile's)")
    parser.add_argument("--space", choices=tuple(SPACES), default="choice",
                        help="choice: the paper's space (default); ordinal: the same 800 points "
                             "as quniform ranges; whole: the whole network, flow included, "
                             "against measured latency (the profile's whole-network budget)")
    parser.add_argument("--no-assessor", action="store_true",
                        help="switch the profile's assessor (early stopping) off")
    parser.add_argument("--machines", default=None,
                        help="YAML/JSON list of SSH machines (NNI RemoteMachineConfig fields): "
                             "run the trials there through NNI's remote training service")
    parser.add_argument("--seed", type=int, default=None, help="default: the profile's seed")
    add_device_arguments(parser)  # for the trials


def run(args: argparse.Namespace) -> int:
    if not apply_device_arguments(args):
        return 2
    try:
        machines = load_machines(args.machines) if args.machines else None
        prov = run_search(args.strategy, args.profile, args.out, args.data, args.port, args.mode,
                          args.seed, args.device, args.threads, args.space,
                          assessor=not args.no_assessor, machines=machines,
                          ui_host=args.ui_host)
    except KeyboardInterrupt:  # other errors: one line from hofvsr_lib.cli.main
        print("search interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    last = prov["sessions"][-1] if prov["sessions"] else {}
    print(json.dumps({"search": prov.get("search", args.strategy),
                      "status": last.get("status", "COMPLETE"),
                      "trials": last.get("trials_after")}))
    return 0 if last.get("status", "DONE") in ("DONE", "STOPPED", "COMPLETE") else 1
