"""The paper's published numbers (HO-FVSR, ICCVW 2021), shown beside ours, never mixed with them.

Table 3 was measured by the authors on a GTX 1080Ti at a 36x36x1x3 input, x4, on their
unreleased face video dataset; Table 2 is their search cost (20 epochs per network, a cap of
40 networks and 32 h per strategy).
"""

from __future__ import annotations

import pandas as pd

from .spec import NetSpec, SRSpec

TABLE3 = pd.DataFrame(
    {
        "ACCV-2018": {"params_M": 1.64, "gflops": 2.55, "speed_s": 0.031, "fps": 32.26,
                      "psnr": 29.25, "ssim": 0.898},
        "TIP-2020": {"params_M": 1.05, "gflops": 2.74, "speed_s": 0.024, "fps": 41.67,
                     "psnr": 29.00, "ssim": 0.890},
        "HO-FVSR": {"params_M": 0.50, "gflops": 2.02, "speed_s": 0.021, "fps": 47.62,
                    "psnr": 30.14, "ssim": 0.909},
    }
).T
TABLE3.index.name = "model"

TABLE2 = pd.DataFrame(
    {"networks": [24, 22, 23, 1], "epochs_per_network": [20, 20, 20, 200],
     "time": ["31h31m", "29h54m", "30h11m", "18h30m"]},
    index=pd.Index(["TPE", "Random", "SMAC", "final network"], name="strategy"),
)

WINNER = NetSpec(SRSpec(64, 5, 64))  # found by TPE, with TIP-2020's flow net
