"""The search spaces in NNI's format, from the study's searched fields (:mod:`hofvsr_lib.spec`):
the paper's 10 x 8 x 10 = 800 SR-net configurations, and the whole network's (the flow too).

All are ``choice`` parameters (NNI: uniform prior over the listed values), as in the paper.
The SMAC tuner maps sorted numeric choices to ordinal hyper-parameters, so its model sees their
order; NNI's TPE treats a ``choice`` as unordered categories. ``ORDINAL_SEARCH_SPACE`` holds the
same points as ``quniform`` ranges, which TPE models as numbers (a study beside the faithful
space: notebook ``02_search_studies``).

``WHOLE_SEARCH_SPACE`` (:data:`~hofvsr_lib.spec.WHOLE_DIMENSIONS`) is searched against
measured latency (:mod:`.latency`) with two objectives, :data:`OBJECTIVES`: SMAC optimises both
(ParEGO), TPE and Random the declared scalarisation :func:`score`.
"""

from __future__ import annotations

import itertools
import math

from ..spec import DIMENSIONS, FLOW_FIELDS, WHOLE_DIMENSIONS, FlowSpec, NetSpec, cast_field


def _choices(dimensions: dict[str, list]) -> dict[str, dict]:
    return {name: {"_type": "choice", "_value": values} for name, values in dimensions.items()}


SEARCH_SPACE: dict[str, dict] = _choices(DIMENSIONS)

ORDINAL_SEARCH_SPACE: dict[str, dict] = {
    name: {"_type": "quniform", "_value": [values[0], values[-1], values[1] - values[0]]}
    for name, values in DIMENSIONS.items()
}
WHOLE_SEARCH_SPACE: dict[str, dict] = _choices(WHOLE_DIMENSIONS)
PAPER_SPACES = {"choice": SEARCH_SPACE, "ordinal": ORDINAL_SEARCH_SPACE}  # its two encodings
SPACES = {**PAPER_SPACES, "whole": WHOLE_SEARCH_SPACE}
TIMED_SPACES = ("whole",)  # each candidate timed before it is trained; latency an objective

# The whole space's objectives (result keys, and which way is better): the validation PSNR and
# the log2 of the latency ratio to ACCV-2018 (SMAC's ParEGO trades them off itself). TPE and
# Random maximise ``score`` = PSNR - LATENCY_LAMBDA * log2(latency ratio): 0.5 dB per halving of
# the latency, the trade-off of the Mobile AI 2021 challenges' score 2^(2 PSNR) / (C runtime)
# (its log2, halved, is PSNR - 0.5 log2 runtime + a constant)
OBJECTIVES = {"psnr": "maximize", "log2_latency_ratio": "minimize"}
LATENCY_LAMBDA = 0.5  # dB per 2x of latency


def score(psnr: float, latency_ratio: float) -> float:
    """The declared scalarisation of the two objectives (dB)."""
    return psnr - LATENCY_LAMBDA * math.log2(latency_ratio)


def objective_metrics(psnr: float, latency_ratio: float) -> dict[str, float]:
    """A whole-space trial's metric for NNI: ``default`` (what TPE, Random and the assessor
    compare) the :func:`score`, beside the objectives SMAC reads (:data:`OBJECTIVES`)."""
    return {"default": score(psnr, latency_ratio), "psnr": psnr,
            "latency_ratio": latency_ratio, "log2_latency_ratio": math.log2(latency_ratio)}


def narrowed(space: dict[str, dict], values: dict[str, tuple]) -> dict[str, dict]:
    """``space`` (of ``choice`` parameters) with some parameters searched over fewer of their
    values (a profile's smaller search); each must be the space's."""
    out = dict(space)
    for name, chosen in values.items():
        outside = set(chosen) - set(space[name]["_value"])
        if outside:
            raise ValueError(f"{name}: {sorted(outside)} outside the space's "
                             f"{space[name]['_value']}")
        out[name] = {"_type": "choice", "_value": [v for v in space[name]["_value"]
                                                   if v in chosen]}
    return out


def space_size(space: dict[str, dict] = SEARCH_SPACE) -> int:
    """Number of points of a space made of ``choice`` and ``quniform`` parameters."""
    return math.prod(len(_values(spec)) for spec in space.values())


def space_flows(space: dict[str, dict]) -> list[FlowSpec]:
    """The distinct flows of a space's points (a size its kind lacks counts once), in order."""
    names = [name for name in space if name in FLOW_FIELDS]
    points = itertools.product(*(_values(space[name]) for name in names))
    return list(dict.fromkeys(NetSpec.of(dict(zip(names, p, strict=True))).flow
                              for p in points))


def network_count(space: dict[str, dict] = SEARCH_SPACE) -> int:
    """Number of distinct networks of a space (its points less those that are one network)."""
    return len(space_flows(space)) * math.prod(
        len(_values(spec)) for name, spec in space.items() if name not in FLOW_FIELDS)


def _values(spec: dict) -> list:
    if spec["_type"] == "quniform":
        low, high, q = spec["_value"]
        return list(range(int(low), int(high) + 1, int(q)))
    return spec["_value"]


def validate_config(config: dict, space: dict[str, dict] = SEARCH_SPACE) -> dict:
    """``config`` reduced to the space's parameters, each as its field's type (quniform
    proposals arrive as floats, a CSV's values as strings), checked against the space."""
    missing = [name for name in space if name not in config]
    if missing:
        raise ValueError(f"configuration {config} lacks {missing[0]!r}")
    params = {name: cast_field(name, config[name]) for name in space}
    for name, value in params.items():
        if value not in _values(space[name]):
            raise ValueError(f"{name}={value} is outside the search space "
                             f"{_values(space[name])}")
    return params
