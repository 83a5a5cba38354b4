"""The paper's search space in NNI's format: 10 x 8 x 10 = 800 SR-net configurations.

All three are ``choice`` parameters (NNI: uniform prior over the listed values), as in the paper.
The SMAC tuner maps sorted numeric choices to ordinal hyper-parameters, so its model sees their
order; NNI's TPE treats a ``choice`` as unordered categories. ``ORDINAL_SEARCH_SPACE`` holds the
same 800 points as ``quniform`` ranges, which TPE models as numbers (a study beside the faithful
space: notebook ``02_search_studies``).
"""

from __future__ import annotations

import math

RES_CHANNELS = list(range(32, 321, 32))  # Res_block channels c
N_RES_BLOCKS = list(range(1, 9))  # number of Res_blocks n
UP_CHANNELS = list(range(32, 321, 32))  # upsampling Conv2d channels u

SEARCH_SPACE: dict[str, dict] = {
    "res_channels": {"_type": "choice", "_value": RES_CHANNELS},
    "n_res_blocks": {"_type": "choice", "_value": N_RES_BLOCKS},
    "up_channels": {"_type": "choice", "_value": UP_CHANNELS},
}

ORDINAL_SEARCH_SPACE: dict[str, dict] = {
    name: {"_type": "quniform", "_value": [values[0], values[-1], values[1] - values[0]]}
    for name, values in (("res_channels", RES_CHANNELS), ("n_res_blocks", N_RES_BLOCKS),
                         ("up_channels", UP_CHANNELS))
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
    """``config`` reduced to (res_channels, n_res_blocks, up_channels) as ints, checked."""
    out = {}
    for name, spec in SEARCH_SPACE.items():
        if name not in config:
            raise ValueError(f"configuration {config} lacks {name!r}")
        value = round(float(config[name]))  # quniform proposals arrive as floats
        if value not in spec["_value"]:
            raise ValueError(f"{name}={value} is outside the search space {spec['_value']}")
        out[name] = value
    return out
