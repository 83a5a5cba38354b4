"""Names shared across the library: the search strategies and how the book labels them, and
the stages of the face-video pipeline."""

from __future__ import annotations

STRATEGIES = ("tpe", "random", "smac")  # the paper's three NNI search strategies
STRATEGY_LABELS = {"tpe": "TPE", "random": "Random", "smac": "SMAC"}
STRATEGY_COLOURS = {"tpe": "tab:blue", "random": "tab:orange", "smac": "tab:green"}
# where a search trial's configuration came from (hofvsr_lib/search/tuners.py)
PROPOSAL_SOURCES = ("startup", "model", "random", "fallback")
# the enhance pipeline's stages, in order (hofvsr_lib/facevideo/pipeline.py)
PIPELINE_STAGES = ("decode", "detect", "upload", "network", "splice", "download", "encode")
