"""The networks of the paper's Table 3 (HO-FVSR and the two SOF-VSR baselines) and their losses."""

from .checkpoint import DISPLAY_NAMES, MODELS, build_model, load_checkpoint, save_checkpoint
from .sisr import EDSR, FSRCNN
from .sofvsr_accv import SOFVSR_ACCV
from .sofvsr_tip import HOFVSR, SOFVSR_TIP, OFRNet, SRNet

__all__ = [
    "DISPLAY_NAMES", "EDSR", "FSRCNN", "HOFVSR", "MODELS", "OFRNet", "SOFVSR_ACCV",
    "SOFVSR_TIP", "SRNet",
    "build_model", "load_checkpoint", "save_checkpoint",
]
