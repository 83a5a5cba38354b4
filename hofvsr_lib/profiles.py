"""The run profiles: the one place that says how much work each scale does.

* ``smoke``: CI; minutes on 2 CPU cores; proves every stage runs end to end, numbers meaningless.
* ``cpu``: the README's main command; about an hour on 2 CPU cores; small but real searches and
  trainings whose numbers are labelled CPU-scale.
* ``paper``: the paper's budget (40 trials x 20 epochs per strategy, 32 h cap, 200-epoch final
  training); for GPUs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class DatasetProfile:
    """How much of each source video the dataset builder reads."""

    max_frames_per_video: int | None  # None: the whole video
    frame_step: int = 1  # keep every k-th frame (1 keeps temporal neighbours adjacent)
    hr_size: int = 144
    scale: int = 4


@dataclass(frozen=True)
class TrainProfile:
    """One training run: epochs of ``iters_per_epoch`` Adam steps on random LR patches."""

    epochs: int
    iters_per_epoch: int
    batch_size: int = 16
    lr_patch: int = 32
    lr: float = 1e-3
    eval_windows: int | None = None  # None: the whole eval split
    # add the bicubic upscale of the centre frame to the network's output (no parameters), so
    # that a short CPU training starts from bicubic instead of from zero; off for the paper
    bicubic_residual: bool = False


@dataclass(frozen=True)
class SearchProfile:
    """One NNI search per strategy, all strategies with the same budget."""

    max_trials: int
    max_duration: str  # NNI duration string, e.g. "32h"
    trial: TrainProfile
    ofr_pretrain: TrainProfile  # the frozen OFR net whose draft cubes the trials share
    trial_concurrency: int = 1
    # TPE samples at random until it has this many results (NNI's default is 20); a search
    # shorter than that never reaches TPE's model, so short profiles lower it
    tpe_startup_trials: int = 20


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    dataset: DatasetProfile
    search: SearchProfile
    final: TrainProfile
    # "cached": flow net pretrained then frozen, SR net trained on its draft cubes (affordable
    # on a CPU); "joint": SOF-VSR's own end-to-end training (hofvsr_lib/final_training.py)
    final_mode: str = "cached"
    seed: int = 0
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        name="smoke",
        description="CI check that every stage runs; a few minutes on 2 CPU cores",
        dataset=DatasetProfile(max_frames_per_video=24),
        search=SearchProfile(
            max_trials=2,
            max_duration="15m",
            trial=TrainProfile(epochs=2, iters_per_epoch=2, batch_size=4, eval_windows=8,
                               bicubic_residual=True),
            ofr_pretrain=TrainProfile(epochs=1, iters_per_epoch=2, batch_size=4),
        ),
        final=TrainProfile(epochs=1, iters_per_epoch=2, batch_size=4, eval_windows=8,
                           bicubic_residual=True),
    ),
    "cpu": Profile(
        name="cpu",
        description="default: small real searches and trainings, about an hour on 2 CPU cores",
        dataset=DatasetProfile(max_frames_per_video=300),
        search=SearchProfile(
            max_trials=6,
            max_duration="12m",  # per strategy; 3 strategies ~25-30 min on 2 cores
            trial=TrainProfile(epochs=4, iters_per_epoch=20, eval_windows=64,
                               bicubic_residual=True),
            ofr_pretrain=TrainProfile(epochs=3, iters_per_epoch=40),
            tpe_startup_trials=3,  # 3 random start-up trials, then 3 from TPE's model
        ),
        final=TrainProfile(epochs=6, iters_per_epoch=40, eval_windows=None,
                           bicubic_residual=True),
    ),
    "paper": Profile(
        name="paper",
        description="the paper's budget: 40 trials x 20 epochs per strategy, 200-epoch final",
        dataset=DatasetProfile(max_frames_per_video=None),
        search=SearchProfile(
            max_trials=40,
            max_duration="32h",
            trial=TrainProfile(epochs=20, iters_per_epoch=1000, batch_size=32),
            ofr_pretrain=TrainProfile(epochs=20, iters_per_epoch=1000, batch_size=32),
        ),
        final=TrainProfile(epochs=200, iters_per_epoch=1000, batch_size=32),
        final_mode="joint",
    ),
}


def get_profile(name: str) -> Profile:
    """The profile called ``name``; a clear error naming the valid ones otherwise."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; choose one of {sorted(PROFILES)}") from None
