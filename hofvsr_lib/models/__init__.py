"""The networks of the paper's Table 3 (HO-FVSR and the two SOF-VSR baselines) and their losses."""

from .checkpoint import (
    DISPLAY_NAMES,
    FIXED_MODELS,
    MODELS,
    build_model,
    load_checkpoint,
    save_checkpoint,
)
from .sisr import EDSR, FSRCNN, Bicubic
from .sofvsr_accv import SOFVSR_ACCV
from .sofvsr_tip import HOFVSR, SOFVSR_TIP, OFRNet, SRNet

__all__ = [
    "DISPLAY_NAMES", "EDSR", "FIXED_MODELS", "FSRCNN", "HOFVSR", "MODELS", "OFRNet",
    "SOFVSR_ACCV", "SOFVSR_TIP", "SRNet", "Bicubic",
    "build_model", "load_checkpoint", "save_checkpoint",
]
