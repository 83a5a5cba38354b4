"""The one definition of a network in this study: :class:`NetSpec`.

A network of HO-FVSR's family is a flow (:class:`FlowSpec`) that aligns the neighbours of
``frames`` frames into a draft cube, then the SR net (c, n, u) (:class:`SRSpec`) on that cube.
Everything else is derived from it: the search space and the trial records' columns
(:data:`DIMENSIONS`, :mod:`.search.space`, :mod:`.search.records`), the labels, the model
(``build_model("hofvsr", **spec.config())``, so its parameter and FLOP counts) and the cache
keys (:meth:`FlowSpec.key`, :mod:`.training.cached`).

Each field has a flat name (:meth:`NetSpec.flat`): the SR net's fields as they are, the flow's
``flow`` (its kind), ``flow_width``, ``flow_blocks``; the NNI parameter, the record column and
the model's constructor argument of that field. A field away from its default is all a model
config or a cache key records of it, so a field added at its default keeps old checkpoints and
keys valid.

Two spaces are searched: the paper's (:data:`DIMENSIONS`, the SR net alone) and the whole
network's (:data:`WHOLE_DIMENSIONS`, the flow too). A dimension is one line of either; a
field of a new kind is one more line in its dataclass (and in :data:`FLOW_SIZES` for a flow's).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

# the searched fields (flat names) and their values: the paper's 10 x 8 x 10 = 800 SR nets
DIMENSIONS: dict[str, list[int]] = {
    "res_channels": list(range(32, 321, 32)),  # Res_block channels c
    "n_res_blocks": list(range(1, 9)),  # number of Res_blocks n
    "up_channels": list(range(32, 321, 32)),  # upsampling Conv2d channels u
}
# the flows: TIP-2020's learned flow net (its width and blocks are arguments), ACCV-2018's
# (fixed), OpenCV's DIS flow (classical: no parameters, nothing to pretrain), none (the SR net
# sees the centre frame alone, in every channel of its draft cube)
FLOW_KINDS = ("tip", "accv", "dis", "none")
LEARNED_FLOWS = ("tip", "accv")
FLOW_SIZES = {"tip": ("width", "blocks"), "accv": (), "dis": (), "none": ()}  # settable fields
# the whole network's space (issue 21): the paper's SR nets times the flows, TIP-2020's flow net
# at each width and depth; a size a flow lacks is dropped from a proposal (:meth:`NetSpec.of`),
# so the 3 x 6 x 3 x 800 = 43,200 points are (6 x 3 + 2) x 800 = 16,000 networks
WHOLE_DIMENSIONS: dict[str, list] = {
    **DIMENSIONS,
    "flow": ["tip", "dis", "none"],
    "flow_width": [32, 64, 128, 192, 256, 320],  # TIP-2020 flow net channels
    "flow_blocks": [1, 2, 3],  # TIP-2020 flow net ResBs per CasResB
}


def changed(spec: Any) -> dict[str, Any]:
    """The fields of a dataclass instance that differ from their defaults."""
    return {f.name: getattr(spec, f.name) for f in fields(spec)
            if getattr(spec, f.name) != f.default}


@dataclass(frozen=True)
class FlowSpec:
    """How a video network aligns the neighbours: ``kind`` (one of ``FLOW_KINDS``), and for
    TIP-2020's flow net its ``width`` (channels) and ``blocks`` (ResBs per CasResB)."""

    kind: str = "tip"
    width: int = 320
    blocks: int = 3

    def __post_init__(self):
        if self.kind not in FLOW_KINDS:
            raise ValueError(f"unknown flow {self.kind!r}; choose one of {FLOW_KINDS}")
        extra = sorted(changed(self).keys() - {"kind", *FLOW_SIZES[self.kind]})
        if extra:
            raise ValueError(f"the {self.kind!r} flow has no {' or '.join(extra)} to set")

    @property
    def learned(self) -> bool:
        """Whether a flow net is pretrained (the cached protocol's stage 1)."""
        return self.kind in LEARNED_FLOWS

    @property
    def single_frame(self) -> bool:
        """Whether the network sees the centre frame alone (no flow, no neighbours)."""
        return self.kind == "none"

    @property
    def label(self) -> str:
        """'TIP-2020 flow net 320x3', 'DIS flow', ...: the flow in words."""
        if self.kind == "tip":
            return f"TIP-2020 flow net {self.width}x{self.blocks}"
        return {"accv": "ACCV-2018 flow net", "dis": "DIS flow",
                "none": "no flow (centre frame alone)"}[self.kind]

    @property
    def slug(self) -> str:
        """'' for the paper's flow net, else 'tip128x1', 'accv', 'dis', 'noflow': the flow in
        file names."""
        if self == FlowSpec():
            return ""
        return f"tip{self.width}x{self.blocks}" if self.kind == "tip" else \
            {"none": "noflow"}.get(self.kind, self.kind)

    def key(self) -> dict[str, Any]:
        """The flow's part of a cache key: its family, and its sizes away from the defaults."""
        return {"family": self.kind, **{k: v for k, v in changed(self).items() if k != "kind"}}

    def config(self) -> dict[str, Any]:
        """HO-FVSR's constructor arguments for this flow (those away from the defaults)."""
        return {_flow_name(k): v for k, v in changed(self).items()}


@dataclass(frozen=True)
class SRSpec:
    """HO-FVSR's SR net as the paper names it: (c, n, u) = residual channels, residual blocks,
    upsampling channels."""

    res_channels: int = 64
    n_res_blocks: int = 5
    up_channels: int = 64


@dataclass(frozen=True)
class NetSpec:
    """A network of the study; the default is the paper's winner, HO-FVSR (64, 5, 64) with
    TIP-2020's flow net on 3 frames."""

    sr: SRSpec = field(default_factory=SRSpec)
    flow: FlowSpec = field(default_factory=FlowSpec)
    frames: int = 3

    def __post_init__(self):
        if self.frames != 3:
            raise ValueError(f"the video networks take 3 frames (T-1, T, T+1), not {self.frames}")

    def flat(self) -> dict[str, Any]:
        """Every field under its flat name (module docstring)."""
        return {**asdict(self.sr), **{_flow_name(k): v for k, v in asdict(self.flow).items()},
                "frames": self.frames}

    @classmethod
    def of(cls, record: Any) -> NetSpec:
        """From anything holding flat names as keys or attributes (NNI parameters, a record
        row, a model config); a name it lacks, or holds empty (NaN, ''), takes its default,
        and a size its flow kind lacks is dropped (a tuner proposes every size with every
        kind: all those proposals are one network)."""
        get = record.get if hasattr(record, "get") else lambda k, d: getattr(record, k, d)
        values = {k: cast_field(k, get(k, d)) for k, d in cls().flat().items()}
        flow = {f.name: values[_flow_name(f.name)] for f in fields(FlowSpec)}
        flow = {k: v for k, v in flow.items() if k in ("kind", *FLOW_SIZES[flow["kind"]])}
        return cls(SRSpec(**{f.name: values[f.name] for f in fields(SRSpec)}),
                   FlowSpec(**flow), values["frames"])

    def params(self) -> dict[str, Any]:
        """The searched fields (:data:`DIMENSIONS`): NNI parameters and record columns."""
        flat = self.flat()
        return {k: flat[k] for k in DIMENSIONS}

    def config(self) -> dict[str, Any]:
        """``build_model("hofvsr", **config)``: the SR net's widths and the flow's changes."""
        return {**asdict(self.sr), **self.flow.config()}

    @property
    def label(self) -> str:
        """'(64, 5, 64)': the searched fields, in order."""
        return f"({', '.join(str(v) for v in self.params().values())})"

    @property
    def whole_label(self) -> str:
        """'(64, 5, 64), DIS flow': the label, and the flow unless it is the paper's."""
        return self.label + ("" if self.flow == FlowSpec() else f", {self.flow.label}")

    @property
    def display(self) -> str:
        """'HO-FVSR (64, 5, 64)', 'HO-FVSR (32, 1, 32), DIS flow': the network in tables."""
        return f"HO-FVSR {self.whole_label}"

    @property
    def slug(self) -> str:
        """'hofvsr_64_5_64', 'hofvsr_32_1_32_dis': the network's name in file names (the flow's
        :attr:`FlowSpec.slug` appended unless it is the paper's)."""
        parts = ("hofvsr", *(str(v) for v in self.params().values()), self.flow.slug)
        return "_".join(p for p in parts if p)


def _flow_name(name: str) -> str:
    return "flow" if name == "kind" else f"flow_{name}"


FLOW_FIELDS = tuple(_flow_name(f.name) for f in fields(FlowSpec))  # the flow's flat names


def cast_field(name: str, value: Any) -> Any:
    """``value`` as the type of the field of flat name ``name``, its default when empty: ints
    arrive as floats from NNI (quniform) and pandas, as strings from a CSV, NaN where a
    table lacks the column."""
    default = _FLAT_DEFAULTS[name]
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return default
    return str(value) if isinstance(default, str) else int(round(float(value)))


_FLAT_DEFAULTS = NetSpec().flat()
