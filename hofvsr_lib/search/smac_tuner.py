"""SMAC3 (``smac`` 2.x, random-forest Bayesian optimisation) as a custom NNI tuner (ask/tell).

NNI's built-in SMAC depends on the abandoned ``smac4nni``, which builds only with old setuptools
and Cython and fails at run time on numpy 2 (``np.float``, ``np.NaN``). This tuner drives
SMAC3's ask/tell interface instead: ``generate_parameters`` asks, ``receive_trial_result``
tells the cost (the negated metric when maximising), a trial that ends without a final result
(crashed, or stopped early by the assessor: NNI 3.0 passes no result for it) is told the worst
cost seen so far, and ``import_data`` tells earlier results (a resumed search). Used through
``CustomAlgorithmConfig(class_name="hofvsr_lib.search.smac_tuner.SMACTuner", ...)``.

With ``objectives`` (result key -> ``maximize`` or ``minimize``, e.g. the whole-network
search's validation PSNR and log latency ratio, :data:`.space.OBJECTIVES`) the search is
multi-objective: one cost per objective, SMAC's ParEGO scalarising them with new random weights
at every proposal, and the intensifier keeping up to ``n_trials`` incumbents (SMAC's default
cap of 10 would cut the Pareto front). A trial without a result is then told the worst cost
seen so far of each objective.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ConfigSpace import (
    CategoricalHyperparameter,
    Configuration,
    ConfigurationSpace,
    OrdinalHyperparameter,
    UniformIntegerHyperparameter,
)
from nni.tuner import Tuner
from nni.utils import extract_scalar_reward

from .tuners import append_proposal, plain_value

_log = logging.getLogger(__name__)


def build_configspace(search_space: dict[str, dict], seed: int = 0) -> ConfigurationSpace:
    """NNI search space -> ConfigSpace: numeric ``choice`` -> ordinal, other ``choice`` ->
    categorical, ``randint`` [low, high) -> integer. Anything else raises ValueError (called by
    the launcher before NNI starts, since a tuner raising inside NNI hangs the experiment)."""
    cs = ConfigurationSpace(seed=seed)
    for name, spec in search_space.items():
        kind, values = spec.get("_type"), spec.get("_value")
        if kind == "choice" and all(isinstance(v, int | float) for v in values):
            cs.add(OrdinalHyperparameter(name, sorted(values)))
        elif kind == "choice":
            cs.add(CategoricalHyperparameter(name, list(values)))
        elif kind == "randint":
            cs.add(UniformIntegerHyperparameter(name, int(values[0]), int(values[1]) - 1))
        else:
            raise ValueError(f"SMAC tuner: parameter {name!r} has unsupported type {kind!r}")
    return cs


class SMACTuner(Tuner):
    """SMAC3 hyper-parameter optimisation facade behind NNI's Tuner interface."""

    def __init__(self, optimize_mode: str = "maximize", seed: int = 0, n_trials: int = 40,
                 n_initial: int | None = None, output_directory: str | None = None,
                 crash_metric: float = 0.0, proposal_log: str | None = None,
                 objectives: dict[str, str] | None = None):
        modes = objectives.values() if objectives else [optimize_mode]
        if not set(modes) <= {"maximize", "minimize"}:
            raise ValueError(f"optimize modes must be maximize or minimize, got {list(modes)}")
        self.sign = -1.0 if optimize_mode == "maximize" else 1.0
        self.objectives = objectives
        self.signs = {k: -1.0 if m == "maximize" else 1.0 for k, m in (objectives or {}).items()}
        self.seed, self.n_trials = seed, n_trials
        self.n_initial = n_initial if n_initial is not None else max(1, n_trials // 4)
        self.output_directory = output_directory
        # before any result (a multi-objective search: every objective's metric at it)
        self.crash_cost = self._cost(crash_metric if not objectives
                                     else dict.fromkeys(objectives, crash_metric))
        self.worst_cost: float | list[float] | None = None
        self.proposal_log = proposal_log
        self.smac = None
        self.space: ConfigurationSpace | None = None
        self._running: dict[int, Any] = {}

    def update_search_space(self, search_space: dict[str, dict]) -> None:
        from smac import HyperparameterOptimizationFacade as Facade
        from smac import Scenario
        from smac.multi_objective.parego import ParEGO

        self.space = build_configspace(search_space, self.seed)
        out = Path(self.output_directory or "smac3_output")
        several = {"objectives": list(self.objectives)} if self.objectives else {}
        scenario = Scenario(self.space, deterministic=True, n_trials=self.n_trials,
                            seed=self.seed, output_directory=out, **several)
        design = Facade.get_initial_design(scenario, n_configs=self.n_initial)
        front = {"multi_objective_algorithm": ParEGO(scenario),
                 "intensifier": Facade.get_intensifier(scenario, max_incumbents=self.n_trials)
                 } if self.objectives else {}
        self.smac = Facade(scenario, _never_called, initial_design=design, overwrite=True,
                           logging_level=logging.WARNING, **front)

    def generate_parameters(self, parameter_id: int, **kwargs: Any) -> dict:
        info = self.smac.ask()
        self._running[parameter_id] = info
        params = {k: plain_value(v) for k, v in dict(info.config).items()}
        append_proposal(self.proposal_log, parameter_id, proposal_source(info.config), params)
        return params

    def receive_trial_result(self, parameter_id: int, parameters: dict, value: Any,
                             **kwargs: Any) -> None:
        from smac.runhistory import TrialValue

        info = self._running.pop(parameter_id, None)
        if info is None:
            _log.warning("SMAC tuner: result for unknown parameter id %s ignored", parameter_id)
            return
        cost = self._cost(value)
        self.worst_cost = cost if self.worst_cost is None else _worse(self.worst_cost, cost)
        self.smac.tell(info, TrialValue(cost=cost))

    def trial_end(self, parameter_id: int, success: bool, **kwargs: Any) -> None:
        from smac.runhistory import StatusType, TrialValue

        info = self._running.pop(parameter_id, None)  # still here: no final result came
        if info is not None:  # as bad as the worst result so far (a stop or a crash)
            cost = self.crash_cost if self.worst_cost is None else self.worst_cost
            self.smac.tell(info, TrialValue(cost=cost, status=StatusType.CRASHED))

    def import_data(self, data: list[dict]) -> None:
        from smac.runhistory import TrialInfo, TrialValue

        for record in data:
            config = Configuration(self.space, values=record["parameter"])
            cost = self._cost(record["value"])
            self.smac.tell(TrialInfo(config, seed=self.seed), TrialValue(cost=cost))
        _log.info("SMAC tuner: imported %d earlier results", len(data))


    def _cost(self, value: Any) -> float | list[float]:
        """SMAC's cost of a trial's metric: the negated ``default`` when maximising, or one
        cost per objective read from the metric dict."""
        if not self.objectives:
            return self.sign * float(extract_scalar_reward(value))
        return [self.signs[k] * float(value[k]) for k in self.objectives]


def _worse(a: float | list[float], b: float | list[float]) -> float | list[float]:
    """The worse of two costs, objective by objective."""
    return [max(x, y) for x, y in zip(a, b, strict=True)] if isinstance(a, list) else max(a, b)


def proposal_source(config: Configuration) -> str:
    """``startup`` (initial design), ``model`` (acquisition maximiser) or ``random`` (SMAC's
    interleaved random configurations), from SMAC's ``Configuration.origin``."""
    origin = (config.origin or "").lower()
    if origin.startswith("initial"):
        return "startup"
    return "model" if origin.startswith("acquisition") else "random"


def _never_called(config: Configuration, seed: int = 0) -> float:
    raise RuntimeError("the NNI SMAC tuner only uses ask/tell; trials run under NNI")
