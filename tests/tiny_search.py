"""A search profile whose trials take seconds, and helpers shared by the search tests."""

from __future__ import annotations

import os
import socket
from dataclasses import replace

import psutil

from hofvsr_lib.profiles import (
    DatasetProfile,
    LatencyProfile,
    Profile,
    SearchProfile,
    TrainProfile,
    WholeSearchProfile,
)

TINY_TRIAL = TrainProfile(epochs=2, iters_per_epoch=1, batch_size=2, lr_patch=16, eval_windows=2)
TINY = Profile(
    name="tiny", description="tests: seconds per trial",
    dataset=DatasetProfile(max_frames_per_video=24),
    search=SearchProfile(max_trials=2, max_duration="10m", trial=TINY_TRIAL, assessor=None,
                         ofr_pretrain=TrainProfile(epochs=1, iters_per_epoch=1, batch_size=2,
                                                   lr_patch=16)),
    final=TINY_TRIAL,
    # the smallest whole-network search: the three flow kinds, the narrowest flow net, small SR
    # nets, each candidate timed in a second at 36x36 only
    whole=WholeSearchProfile(max_trials=2, max_duration="10m",
                             values={"flow_width": (32,), "flow_blocks": (1,),
                                     "res_channels": (32,), "up_channels": (32,)},
                             latency=LatencyProfile(sizes=(36,), repeats=2, warmup=1)),
)


def os_chosen_port() -> int:
    """A port the OS reports free right now."""
    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


# the NNI web UI ports of the search tests, PORT + small offsets: chosen by the OS at import,
# so no fixed port (a taken one moves to the next free one anyway)
PORT = os_chosen_port()


def three_trials() -> Profile:
    """TINY with a budget of three trials."""
    return replace(TINY, search=replace(TINY.search, max_trials=3))


def leftovers(marker: str) -> list[str]:
    """Command lines of the processes (other than this one) that mention ``marker``."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if marker in cmd and proc.pid != os.getpid():
            found.append(cmd)
    return found
