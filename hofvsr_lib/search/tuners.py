"""The three strategies as NNI tuners that say where every proposal came from, and the
assessor that says which trials it stopped.

NNI's TPE and Random tuners, extended here, and our SMAC3 tuner (:mod:`.smac_tuner`) append
one JSON line per proposal to a log (``proposal_log``): the parameter id NNI gave it, the
configuration and its *source*:

* ``startup``: a random start-up proposal (TPE before ``n_startup_jobs`` results, SMAC's
  initial design);
* ``model``: the tuner's model chose it (TPE's Parzen estimators, SMAC's random forest and
  acquisition maximiser);
* ``random``: a plain random draw (the Random tuner, SMAC's interleaved random configurations);
* ``fallback``: the tuner proposed a configuration already tried and NNI's deduplicator
  replaced it by the next unseen point of a grid over the space (``nni.common.hpo_utils.dedup``).

The launcher joins the log to NNI's trials by parameter id (``trials.csv``'s ``source``).

Assessors: NNI's Medianstop (``TracedMedianstop``) and ``StepMedianstop``, the median rule on
the value at the same epoch. NNI 3.0's local training service records a trial killed by the
assessor as ``FAILED``, like a crash; both log each trial they stop (``stop_log``), and the
launcher records those as ``EARLY_STOPPED``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from nni.algorithms.hpo.medianstop_assessor import MedianstopAssessor
from nni.algorithms.hpo.random_tuner import RandomTuner
from nni.algorithms.hpo.tpe_tuner import TpeTuner
from nni.assessor import AssessResult
from nni.common.hpo_utils import deformat_parameters
from nni.utils import extract_scalar_history, extract_scalar_reward


def append_proposal(path: str | Path | None, parameter_id: int, source: str,
                    parameters: dict) -> None:
    """Append one proposal to the log."""
    _append_line(path, {"parameter_id": parameter_id, "source": source,
                        "parameters": {k: plain_value(v) for k, v in parameters.items()}})


def _append_line(path: str | Path | None, entry: dict) -> None:
    """Append one JSON line (flushed and synced: NNI's dispatcher may be killed any time)."""
    if not path:
        return
    with open(path, "a") as f:
        f.write(json.dumps(entry) + "\n")
        f.flush()
        os.fsync(f.fileno())


def _read_lines(path: str | Path) -> list[dict]:
    path = Path(path)
    if not path.exists():
        return []
    entries = []
    for line in path.read_text().splitlines():
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:  # a line cut by a kill
            continue
    return entries


def read_proposals(path: str | Path) -> dict[int, str]:
    """parameter id -> source, from a proposal log (empty if there is none yet)."""
    return {int(e["parameter_id"]): e["source"] for e in _read_lines(path)}


def read_stops(path: str | Path) -> set[str]:
    """Trial ids the assessor stopped, from its log (empty if there is none yet)."""
    return {e["trial_id"] for e in _read_lines(path)}


def plain_value(value: Any) -> Any:
    """numpy scalars -> Python numbers (NNI serialises parameters as JSON)."""
    return value.item() if hasattr(value, "item") else value


class _WatchedDedup:
    """NNI's deduplicator, remembering whether its last call replaced the proposal."""

    def __init__(self, dedup):
        self.inner, self.replaced = dedup, False

    def __call__(self, params):
        out = self.inner(params)
        self.replaced = out is not params
        return out

    def add_history(self, params) -> None:
        self.inner.add_history(params)


class TracedTPE(TpeTuner):
    """NNI's TPE; logs ``startup``, ``model`` or ``fallback`` per proposal. A trial that ends
    without a result (stopped early by the assessor or crashed: NNI 3.0 passes the tuner no
    value for it) is recorded as the worst result so far, as the SMAC tuner does; NNI's TPE
    would forget it, stay in its start-up phase longer and, with few results, keep proposing
    the best trial again."""

    def __init__(self, optimize_mode: str = "maximize", seed: int | None = None,
                 tpe_args: dict | None = None, proposal_log: str | None = None):
        super().__init__(optimize_mode, seed, tpe_args)
        self.proposal_log = proposal_log
        self.worst: float | None = None

    def receive_trial_result(self, parameter_id, parameters, value, **kwargs):
        reward = extract_scalar_reward(value)
        if self.worst is None or (reward < self.worst) == (self.optimize_mode.value == "maximize"):
            self.worst = reward
        super().receive_trial_result(parameter_id, parameters, value, **kwargs)

    def trial_end(self, parameter_id, success, **kwargs):
        if parameter_id in self._running_params and self.worst is not None:
            params = deformat_parameters(self._running_params[parameter_id], self.space)
            self.receive_trial_result(parameter_id, params, self.worst)
        super().trial_end(parameter_id, success, **kwargs)

    def update_search_space(self, space):
        super().update_search_space(space)
        self.dedup = _WatchedDedup(self.dedup)

    def generate_parameters(self, parameter_id, **kwargs):
        # TPE's own test (tpe_tuner.suggest_parameter): results known per parameter, counting
        # the liar's stand-ins for running trials
        known = max((len(h) for h in self._history.values()), default=0)
        if self.liar and self._running_params:
            known += len(self._running_params)
        params = super().generate_parameters(parameter_id, **kwargs)
        source = ("fallback" if self.dedup.replaced
                  else "startup" if known < self.args.n_startup_jobs else "model")
        append_proposal(self.proposal_log, parameter_id, source, params)
        return params

    def validate_class_args(self, **kwargs):
        pass


class TracedRandom(RandomTuner):
    """NNI's Random tuner; logs ``random`` or ``fallback`` per proposal."""

    def __init__(self, seed: int | None = None, optimize_mode: str | None = None,
                 proposal_log: str | None = None):
        super().__init__(seed, optimize_mode)
        self.proposal_log = proposal_log

    def update_search_space(self, space):
        super().update_search_space(space)
        self.dedup = _WatchedDedup(self.dedup)

    def generate_parameters(self, parameter_id, **kwargs):
        params = super().generate_parameters(parameter_id, **kwargs)
        source = "fallback" if self.dedup.replaced else "random"
        append_proposal(self.proposal_log, parameter_id, source, params)
        return params

    def validate_class_args(self, **kwargs):
        pass



class TracedMedianstop(MedianstopAssessor):
    """NNI's Medianstop assessor; logs every trial it stops, with the step. It never stops a
    trial at its ``last_step`` (the trial's last epoch: nothing left to save, and stopping it
    would throw its result away)."""

    def __init__(self, optimize_mode: str = "maximize", start_step: int = 0,
                 last_step: int | None = None, stop_log: str | None = None):
        super().__init__(optimize_mode, start_step)
        self.last_step, self.stop_log = last_step, stop_log

    def assess_trial(self, trial_job_id, trial_history):
        if self.last_step is not None and len(trial_history) >= self.last_step:
            # still record the history, as Medianstop does for a running trial
            super().assess_trial(trial_job_id, trial_history)
            return AssessResult.Good
        result = super().assess_trial(trial_job_id, trial_history)
        if result is AssessResult.Bad:
            _append_line(self.stop_log, {"trial_id": trial_job_id, "step": len(trial_history)})
        return result


class StepMedianstop(TracedMedianstop):
    """The median stopping rule on the value at the same step: stop a trial at step s when its
    validation PSNR after epoch s is below the median of the finished trials' PSNR after epoch
    s. NNI's Medianstop compares the trial's best value so far with the finished trials'
    *running averages*; on learning curves that rise every epoch, as ours do, the running
    average trails the curve and almost no trial falls below it (measured: notebook
    ``02_search_studies``). Same arguments, logging and last-step rule as
    ``TracedMedianstop``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._values: dict[str, list[float]] = {}
        self._finished: dict[str, list[float]] = {}

    def trial_end(self, trial_job_id, success):
        values = self._values.pop(trial_job_id, None)
        if success and values:
            self._finished[trial_job_id] = values

    def assess_trial(self, trial_job_id, trial_history):
        values = extract_scalar_history(trial_history)
        self._values[trial_job_id] = values
        step = len(values)
        if step < self._start_step or (self.last_step is not None and step >= self.last_step):
            return AssessResult.Good
        reference = sorted(v[step - 1] for v in self._finished.values() if len(v) >= step)
        if not reference:
            return AssessResult.Good
        median = reference[(len(reference) - 1) // 2]
        worse = values[-1] < median if self._high_better else values[-1] > median
        if not worse:
            return AssessResult.Good
        _append_line(self.stop_log, {"trial_id": trial_job_id, "step": step})
        return AssessResult.Bad
