"""The run profiles: the one place that says how much work each scale does.

* ``smoke``: CI; minutes on 2 CPU cores; proves every stage runs end to end, numbers meaningless.
* ``cpu``: the README's main command; about 2.5 hours on 2 CPU cores; small but real searches and
  trainings whose numbers are labelled CPU-scale.
* ``evidence``: the ``cpu`` run extended in the same results folder: 4,000-step final runs on
  an uncompressed schedule, 3 seeds (each its own flow nets), the joint protocol beside the
  cached one, the centre-frame and DIS-flow ablations: Table 3 with confidence intervals, the
  budget table; then the whole network's search against latency and its picks trained as
  evidence (beyond the paper); many hours on 2 CPU cores, resumable across sessions.
* ``paper``: the paper's budget (40 trials x 20 epochs per strategy, 32 h cap, 200-epoch final
  training); for GPUs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from .vocabulary import STRATEGIES


@dataclass(frozen=True)
class DatasetProfile:
    """How much of each source video the dataset builder reads."""

    max_frames_per_video: int | None  # None: the whole video
    max_frames_per_person: int | None = None  # crops kept per person (None: all)
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
    eval_windows: int | None = None  # validation windows per evaluation (None: all)
    # evenly spaced training windows whose draft cubes a cached final run trains on (None: all)
    train_windows: int | None = None
    # add the bicubic upscale of the centre frame to the network's output (no parameters), so
    # that a short CPU training starts from bicubic instead of from zero; off for the paper
    bicubic_residual: bool = False
    # flow nets (stage 1 of the cached protocol, ``training.loops.pretrain_ofr``): stop once
    # the validation warp error (on ``eval_windows`` windows) has not fallen for this many
    # epochs, keeping the best epoch (None: every epoch)
    patience: int | None = None
    # steps after which the learning rate drops 10x; None: at 40% and 80% of the run
    # (TIP-2020's 80k and 160k of 200k), which compresses the schedule into the budget
    lr_milestones: tuple[int, ...] | None = None


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
    # assessor on the per-epoch validation PSNR (None: every trial runs all its epochs), from
    # epoch ``assessor_start_step`` to the one before the last: "StepMedianstop" stops a trial
    # whose PSNR is below the median of the finished trials' PSNR at that epoch; NNI's
    # "Medianstop" compares with their running averages, which rising curves rarely go under
    assessor: str | None = "StepMedianstop"
    assessor_start_step: int = 2
    # "cached": trials train the SR net on the frozen flow net's draft cubes; "joint": trials
    # train the whole network (the choice is measured: notebook 02_search_studies)
    mode: str = "cached"
    # the search studies (hofvsr_lib/search/studies.py): the assessor's saving, TPE on the
    # ordinal encoding, and this many configurations trained both cached and joint (0: none)
    studies: bool = True
    agreement_configs: int = 8
    # budgets at which NNI's TPE is driven directly on a synthetic objective (seconds to minutes)
    tpe_regime_budgets: tuple[int, ...] = (14, 40, 100)


@dataclass(frozen=True)
class SpeedProfile:
    """How long ``hofvsr bench`` measures (``hofvsr_lib/facevideo/bench.py``)."""

    repeats: int = 30  # timed rounds at 36x36 (larger inputs get a sixth, at least 5)
    sizes: tuple[int, ...] = (36, 128)  # network input sides: the paper's unit, a face crop
    pipeline_frames: int = 3  # frames of the 640x360 clip through enhance (0: no pipeline)
    cadence_frames: int = 60  # frames per clip for the detection-cadence measurement
    compile: bool = False  # add torch.compile (minutes to build on a small CPU)


SPEED_LONG = SpeedProfile(repeats=100, pipeline_frames=24, compile=True)  # bench --long


@dataclass(frozen=True)
class LatencyProfile:
    """How each candidate of a whole-network search is timed before it is trained
    (``hofvsr_lib/search/latency.py``): batch 1, Y frames, eval mode, ACCV-2018 interleaved."""

    sizes: tuple[int, ...] = (36, 128)  # LR input sides: the paper's unit, a face crop
    repeats: int = 10  # timed rounds, after ``warmup`` untimed ones
    warmup: int = 2
    threads: int = 2  # torch's and OpenCV's on the CPU


@dataclass(frozen=True)
class WholeSearchProfile:
    """A search of the whole network, flow net included, against measured latency (issue 21):
    ``Profile.search``'s trials, flow-net pretraining and assessor, with this budget, over the
    whole space (``hofvsr_lib.spec.WHOLE_DIMENSIONS``) narrowed to ``values``."""

    max_trials: int
    max_duration: str
    # parameter -> the values searched, fewer than the whole space's (``space.narrowed``)
    values: dict[str, tuple] = field(default_factory=dict, hash=False)
    latency: LatencyProfile = LatencyProfile()
    strategies: tuple[str, ...] = STRATEGIES  # the strategies searching it (notebook 09)
    # networks of the front trained as evidence, every final seed (notebook 11; 0: none)
    picks: int = 3
    # each pick with a learned flow net then fine-tuned jointly (SOF-VSR's loss, flow net and
    # SR net together) from its final run's weights, at this budget (None: not)
    finetune: TrainProfile | None = None
    # each learned flow's pretraining (None: the paper's searches' ``search.ofr_pretrain``);
    # a narrow flow net leaves zero motion later than a wide one, after a schedule compressed
    # into 6 x 40 steps has cut its learning rate
    flow_pretrain: TrainProfile | None = None


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    dataset: DatasetProfile
    search: SearchProfile
    final: TrainProfile
    # "cached": flow net pretrained then frozen, SR net trained on its draft cubes (affordable
    # on a CPU); "joint": SOF-VSR's own end-to-end training (hofvsr_lib/training/final.py)
    final_mode: str = "cached"
    # the profile this one extends in place (same dataset, searches and results folder); its
    # final runs at another budget are superseded (retrained) by this one's
    extends: str | None = None
    seed: int = 0
    final_seeds: int = 1  # the final networks are trained with seeds seed, seed+1, ...
    # stage 1 of the final cached runs: each seed's flow nets (None: the searches' budget,
    # ``search.ofr_pretrain``, so the final networks share the searches' cached flow net)
    final_flow: TrainProfile | None = None
    # also train HO-FVSR, TIP-2020 and ACCV-2018 jointly (SOF-VSR's protocol) at this budget,
    # with the first ``joint_seeds`` of the final seeds
    joint: TrainProfile | None = None
    joint_seeds: int = 1
    # HO-FVSR (64, 5, 64), TIP-2020 and ACCV-2018 of the last seed (cached protocol) trained on
    # to this budget from where their final run ended (the budget table's long end; None: none)
    long_final: TrainProfile | None = None
    # also train HO-FVSR (64, 5, 64) on the centre frame alone (what the video input buys)
    centre_only_ablation: bool = False
    # also train HO-FVSR (64, 5, 64)'s SR net on draft cubes aligned by OpenCV's DIS flow (no
    # flow net to train: what a classical flow buys, against the learned one)
    dis_flow_ablation: bool = False
    # also train the searches' winner when it is not (64, 5, 64) (first seed only); off at
    # CPU scale, where the winner is one of the largest networks of the space
    train_winner: bool = False
    # evenly spaced test windows each final run is scored on (None: all of them)
    test_windows: int | None = None
    # evenly spaced (val, test) windows of each final video run's flow-quality check
    flow_check_windows: tuple[int, int] = (96, 192)
    # hofvsr bench, run by the reproduction only when results/bench/bench.json is missing
    speed: SpeedProfile = SpeedProfile()
    # the whole-network search per strategy (``hofvsr search --space whole``; None: none)
    whole: WholeSearchProfile | None = None

    def to_dict(self) -> dict:
        return asdict(self)


_CPU = Profile(
    name="cpu",
    description="default: small real searches and trainings, about 2.5 hours on 2 CPU cores",
    # 400 frames: every frame of the 384-frame First Impressions clips; at most 400 crops per
    # person, so that a person of two clips (cap12 + cap13, jwp) does not weigh double
    dataset=DatasetProfile(max_frames_per_video=400, max_frames_per_person=400),
    search=SearchProfile(
        # 14 short trials per strategy (60 steps of batch 8 on 24x24 LR patches, 4 validation
        # points) rather than 6 long ones: TPE (4 start-up trials) and SMAC (3 initial-design
        # ones) each make about 10 model-driven proposals. Expected ~10 min per strategy on 2
        # cores; the 40-minute cap is only a safety net
        max_trials=14,
        max_duration="40m",
        trial=TrainProfile(epochs=4, iters_per_epoch=15, batch_size=8, lr_patch=24,
                           eval_windows=32, bicubic_residual=True),
        # at most 6 x 40 steps, kept at the epoch of lowest validation warp error
        ofr_pretrain=TrainProfile(epochs=6, iters_per_epoch=40, eval_windows=48, patience=2),
        tpe_startup_trials=4,
    ),
    # 8 epochs: the learning curve has 8 points on (at most 256 windows of) the val persons
    final=TrainProfile(epochs=8, iters_per_epoch=50, eval_windows=256, bicubic_residual=True),
)

# each seed's flow nets: until the validation warp error stops falling, at most 20 x 40 steps
_EVIDENCE_FLOW = TrainProfile(epochs=20, iters_per_epoch=40, eval_windows=48, patience=3)
# 4,000 SR steps, 20 validation points, the learning rate held (TIP-2020 drops it at 80k, 160k)
_EVIDENCE_FINAL = TrainProfile(epochs=20, iters_per_epoch=200, eval_windows=256,
                               bicubic_residual=True, lr_milestones=(80_000, 160_000))

PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        name="smoke",
        description="CI check that every stage runs; a few minutes on 2 CPU cores",
        dataset=DatasetProfile(max_frames_per_video=24),
        search=SearchProfile(
            max_trials=2,
            max_duration="15m",
            assessor_start_step=1,
            agreement_configs=2,
            tpe_regime_budgets=(14,),
            trial=TrainProfile(epochs=2, iters_per_epoch=2, batch_size=4, eval_windows=8,
                               bicubic_residual=True),
            ofr_pretrain=TrainProfile(epochs=1, iters_per_epoch=2, batch_size=4,
                                      eval_windows=4),
        ),
        # 2 steps of batch 4 need few windows: 64 training cubes cached per flow, 48 test
        # windows scored per run
        final=TrainProfile(epochs=2, iters_per_epoch=1, batch_size=4, eval_windows=8,
                           bicubic_residual=True, train_windows=64),
        test_windows=48,
        final_seeds=2,
        joint=TrainProfile(epochs=1, iters_per_epoch=1, batch_size=4, eval_windows=8,
                           bicubic_residual=True),
        centre_only_ablation=True,
        dis_flow_ablation=True,
        flow_check_windows=(8, 16),
        speed=SpeedProfile(repeats=3, sizes=(36,), pipeline_frames=2, cadence_frames=6),
        # SMAC's two objectives only, 2 trials over 4 TIP-2020 flow nets (32 or 320 wide, 1 or 3
        # blocks), DIS and no flow: each new flow's smoke pretraining and cubes take seconds,
        # each candidate's timing a few (3 rounds at 36x36 beside ACCV-2018)
        whole=WholeSearchProfile(max_trials=2, max_duration="15m",
                                 values={"flow_width": (32, 320), "flow_blocks": (1, 3)},
                                 latency=LatencyProfile(sizes=(36,), repeats=3, warmup=1),
                                 strategies=("smac",), picks=1,
                                 finetune=TrainProfile(epochs=1, iters_per_epoch=1,
                                                       batch_size=4, lr=1e-4, eval_windows=8,
                                                       bicubic_residual=True)),
    ),
    "cpu": _CPU,
    # the cpu run extended in place (same dataset and searches, same results folder): the
    # final runs at a budget that is not compressed (4,000 SR steps, 20 validation points, the
    # learning rate held: TIP-2020 drops it at 80k and 160k steps), each seed's flow nets
    # pretrained until their validation warp error stops falling, 3 seeds, the joint protocol
    # beside the cached one, the centre-frame and DIS-flow ablations. Many hours on 2 cores:
    # started in the background, resumed run by run (and within a run, epoch by epoch)
    "evidence": replace(
        _CPU, name="evidence", extends="cpu",
        description="the cpu run + 4,000-step final runs, 3 seeds, joint vs cached, centre-frame"
                    " and DIS-flow ablations: evidence with confidence intervals; many hours "
                    "on 2 CPU cores, resumable",
        final=_EVIDENCE_FINAL,
        # seed 2's three video networks go on to 8,000 steps on the same constant learning
        # rate (a doubling: seed 0's gaps moved 0.09-0.14 dB from 2,000 to 4,000 steps), 34
        # passes over the 3,736 training windows; the paper's 200 would be 46,700 steps, about
        # 16 h for TIP-2020 alone on 2 cores
        long_final=replace(_EVIDENCE_FINAL, epochs=40),
        final_flow=_EVIDENCE_FLOW,
        final_seeds=3,
        # every seed trained jointly too (about 9 min per network and seed on 2 cores), so that
        # the joint rows compare 3 seeds with 3 seeds
        joint=TrainProfile(epochs=8, iters_per_epoch=25, eval_windows=128,
                           bicubic_residual=True),
        joint_seeds=3,
        centre_only_ablation=True,
        dis_flow_ablation=True,
        # the whole network's search (issue 21), after the final runs: per strategy 14 trials
        # over 8 TIP-2020 flow nets (widths 32, 64, 128, 320 x 1 or 3 blocks), DIS and no flow,
        # times the 800 SR nets (6,400 networks), each trial at the cpu searches' budget. Each
        # new learned flow pretrained once with the final runs' recipe (``flow_pretrain``: at the
        # cpu searches' 6 x 40 steps, whose learning rate drops at steps 96 and 192, the 32-wide
        # nets ended at 0.96x and 0.99x zero motion's warp error; at most 20 x 40 steps: 32x1
        # 0.564x, 32x3 0.551x, about 30 s per epoch; 320x3, seed 0's, already in the flow-net
        # store) and its draft cubes cached (minutes), each candidate timed (about 30 s: 12
        # rounds at 36x36 and 128x128 beside ACCV-2018), then trained (about 1 min): 1 to 2
        # hours per strategy, the cap a safety net; then its 3 picks (``picks``) trained as
        # the final runs are, every seed (notebook 11), and those with a learned flow net
        # fine-tuned jointly for 200 steps at a tenth of the learning rate, held (``finetune``)
        whole=WholeSearchProfile(max_trials=14, max_duration="3h",
                                 values={"flow_width": (32, 64, 128, 320),
                                         "flow_blocks": (1, 3)},
                                 flow_pretrain=_EVIDENCE_FLOW,
                                 finetune=TrainProfile(epochs=4, iters_per_epoch=50, lr=1e-4,
                                                       eval_windows=128, bicubic_residual=True,
                                                       lr_milestones=(80_000, 160_000))),
    ),
    # what a lent GPU machine's 15 minutes hold (tools/gpu_evidence.py): HO-FVSR, TIP-2020
    # and ACCV-2018 trained jointly (SOF-VSR's own protocol, the three at once on the one GPU)
    # for 200 epochs of the training set: 20 x 170 steps of batch 32 = 200.7 passes over the
    # pack's 542 training windows, the learning rate dropped at 40% and 80% as TIP-2020's
    # schedule does. The data is a pack of the cpu dataset (`hofvsr dataset pack`): its first
    # 48 crops of each of the 22 persons (12 train, 4 val, 6 test), 20 MiB of lossless WebP,
    # since the device tool carries 64 MiB with the repository. About 0.05 s per joint step on
    # an H100 (ENVIRONMENT.md): 3,400 steps are about 3 minutes per network
    "gpu": replace(
        _CPU, name="gpu",
        description="HO-FVSR, TIP-2020, ACCV-2018 trained jointly for 200 epochs of a 48-crops-"
                    "per-person pack of the cpu dataset on a lent GPU (tools/gpu_evidence.py)",
        dataset=replace(_CPU.dataset, max_frames_per_person=48),
        final=TrainProfile(epochs=20, iters_per_epoch=170, batch_size=32, eval_windows=128,
                           bicubic_residual=True),
        final_mode="joint",
    ),
    "paper": Profile(
        name="paper",
        description="the paper's budget: 40 trials x 20 epochs per strategy, 200-epoch final",
        dataset=DatasetProfile(max_frames_per_video=None),
        search=SearchProfile(
            max_trials=40,
            max_duration="32h",
            studies=False,  # notebook 02_search_studies runs them on demand
            # cached trials, for their cost (about 6 h against 34 h joint on one H200). At the
            # cpu budget they rank 8 configurations spanning the space only weakly as joint
            # trials do (Kendall's tau 0.36, p = 0.28; notebook 02_search_studies): rerun the
            # study at this budget before trusting a cached search's ranking
            mode="cached",
            trial=TrainProfile(epochs=20, iters_per_epoch=1000, batch_size=32),
            ofr_pretrain=TrainProfile(epochs=20, iters_per_epoch=1000, batch_size=32,
                                      eval_windows=256, patience=3),
        ),
        final=TrainProfile(epochs=200, iters_per_epoch=1000, batch_size=32),
        final_mode="joint",
        final_seeds=3,
        train_winner=True,
        centre_only_ablation=True,
        dis_flow_ablation=True,
        speed=SPEED_LONG,
    ),
}


def get_profile(name: str) -> Profile:
    """The profile called ``name``; a clear error naming the valid ones otherwise."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; choose one of {sorted(PROFILES)}") from None
