"""The search space in NNI's format, from the study's searched fields
(:data:`hofvsr_lib.spec.DIMENSIONS`): the paper's 10 x 8 x 10 = 800 SR-net configurations.

All are ``choice`` parameters (NNI: uniform prior over the listed values), as in the paper.
The SMAC tuner maps sorted numeric choices to ordinal hyper-parameters, so its model sees their
order; NNI's TPE treats a ``choice`` as unordered categories. ``ORDINAL_SEARCH_SPACE`` holds the
same points as ``quniform`` ranges, which TPE models as numbers (a study beside the faithful
space: notebook ``02_search_studies``).
"""

from __future__ import annotations

import math

from ..spec import DIMENSIONS, NetSpec

SEARCH_SPACE: dict[str, dict] = {
    name: {"_type": "choice", "_value": values} for name, values in DIMENSIONS.items()
}

ORDINAL_SEARCH_SPACE: dict[str, dict] = {
    name: {"_type": "quniform", "_value": [values[0], values[-1], values[1] - values[0]]}
    for name, values in DIMENSIONS.items()
}
SPACES = {"choice": SEARCH_SPACE, "ordinal": ORDINAL_SEARCH_SPACE}


def space_size(space: dict[str, dict] = SEARCH_SPACE) -> int:
    """Number of configurations of a space made of ``choice`` and ``quniform`` parameters."""
    return math.prod(len(_values(spec)) for spec in space.values())


def _values(spec: dict) -> list:
    if spec["_type"] == "quniform":
        low, high, q = spec["_value"]
        return list(range(int(low), int(high) + 1, int(q)))
    return spec["_value"]


def validate_config(config: dict) -> dict[str, int]:
    """``config`` reduced to the searched fields (:meth:`NetSpec.params`), checked against the
    space."""
    missing = [name for name in DIMENSIONS if name not in config]
    if missing:
        raise ValueError(f"configuration {config} lacks {missing[0]!r}")
    params = NetSpec.of(config).params()  # quniform proposals arrive as floats
    for name, value in params.items():
        if value not in DIMENSIONS[name]:
            raise ValueError(f"{name}={value} is outside the search space {DIMENSIONS[name]}")
    return params
