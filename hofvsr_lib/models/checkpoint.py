"""Build a network by name, and save / load checkpoints that carry their provenance."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..atomic import replacing
from .sisr import EDSR, FSRCNN, Bicubic
from .sofvsr_accv import SOFVSR_ACCV
from .sofvsr_tip import HOFVSR, SOFVSR_TIP

# the trainable networks
MODELS: dict[str, type[nn.Module]] = {"hofvsr": HOFVSR, "tip": SOFVSR_TIP, "accv": SOFVSR_ACCV,
                                      "fsrcnn": FSRCNN, "edsr": EDSR}
# parameter-free models with the same contract (nothing to train)
FIXED_MODELS: dict[str, type[nn.Module]] = {"bicubic": Bicubic}
DISPLAY_NAMES = {"accv": "ACCV-2018", "tip": "TIP-2020", "hofvsr": "HO-FVSR",
                 "fsrcnn": "FSRCNN", "edsr": "EDSR", "bicubic": "Bicubic"}


def build_model(name: str, **config: Any) -> nn.Module:
    """``build_model("hofvsr", res_channels=64, n_res_blocks=5, up_channels=64)`` etc.;
    ``build_model("bicubic")`` is bicubic x4 of the centre frame."""
    known = {**MODELS, **FIXED_MODELS}
    if name not in known:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(known)}")
    return known[name](**config)


def save_checkpoint(path: str | Path, model: nn.Module, **provenance: Any) -> Path:
    """Atomically write weights, the model's name and config, and ``provenance``."""
    path = Path(path)
    payload = {"model": model.name, "config": model.config,
               "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
               "provenance": provenance}
    with replacing(path) as tmp:
        torch.save(payload, tmp)
    return path


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu"
                    ) -> tuple[nn.Module, dict[str, Any]]:
    """-> (model in eval mode on ``map_location``, {"model", "config", "provenance"})."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
        model = build_model(payload["model"], **payload["config"])
        model.load_state_dict(payload["state_dict"])
    except (RuntimeError, KeyError, EOFError, OSError, ValueError, pickle.UnpicklingError) as err:
        # torch's refusal under weights_only=True explains itself over many lines: not here
        why = ("not a PyTorch weights file" if isinstance(err, pickle.UnpicklingError)
               else (str(err).splitlines() or [type(err).__name__])[0])
        raise ValueError(f"checkpoint {path} is not a valid hofvsr checkpoint (truncated, "
                         f"damaged or another kind of file: {why})") from err
    meta = {k: payload[k] for k in ("model", "config", "provenance")}
    return model.to(map_location).eval(), meta
