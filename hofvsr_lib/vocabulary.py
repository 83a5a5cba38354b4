"""Names shared across the library: the search strategies and how the book labels them, and
the stages of the face-video pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

STRATEGIES = ("tpe", "random", "smac")  # the paper's three NNI search strategies
STRATEGY_LABELS = {"tpe": "TPE", "random": "Random", "smac": "SMAC"}
STRATEGY_COLOURS = {"tpe": "tab:blue", "random": "tab:orange", "smac": "tab:green"}
# where a search trial's configuration came from (hofvsr_lib/search/tuners.py)
PROPOSAL_SOURCES = ("startup", "model", "random", "fallback")
# the enhance pipeline's stages, in order (hofvsr_lib/facevideo/pipeline.py)
PIPELINE_STAGES = ("decode", "detect", "upload", "network", "splice", "download", "encode")


@dataclass(frozen=True)
class SRConfig:
    """HO-FVSR's SR net as the paper names it: (c, n, u) = residual channels, residual blocks,
    upsampling channels; the paper's winner is (64, 5, 64)."""

    res_channels: int
    n_res_blocks: int
    up_channels: int

    @classmethod
    def of(cls, record: Any) -> SRConfig:
        """From anything with the three fields as attributes or keys (a trial record, a row)."""
        get = record.get if hasattr(record, "get") else lambda k: getattr(record, k)
        return cls(int(get("res_channels")), int(get("n_res_blocks")), int(get("up_channels")))

    @property
    def label(self) -> str:
        return f"({self.res_channels}, {self.n_res_blocks}, {self.up_channels})"
