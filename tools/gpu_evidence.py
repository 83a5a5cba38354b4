"""The ``gpu`` profile's evidence (issue 19, item 8) as one command for a lent GPU machine.

Here (once): ``hofvsr dataset pack --data work/cpu/data --out work/gpu/data`` (20 MiB, the
first 48 crops of each person as lossless WebP). There, as one command (carry
``work/gpu/data``; nothing else is missing on the H200 image)::

    PYTHONPATH=. python3 tools/gpu_evidence.py --data work/gpu/data --out $OUT

trains HO-FVSR (64, 5, 64), TIP-2020 and ACCV-2018 jointly for the profile's 200 epochs of the
pack's training set, the three at once (one process each: at batch 32 a step is bound by
kernel launches and data loading, so they share the GPU well), into ``--work`` on that machine
(a rerun while it is warm resumes each run after its last epoch). Whatever the deadline leaves
finished comes back in ``$OUT``: each run's record and test scores, their checkpoints in one
tar, and ``gpu_evidence.json`` (the test PSNR of each beside bicubic, the steps and seconds).
``--device cpu --quick`` runs the same path here in a minute (2 steps a network).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tarfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hofvsr_lib.atomic import write_json  # noqa: E402
from hofvsr_lib.profiles import TrainProfile, get_profile  # noqa: E402
from hofvsr_lib.provenance import machine_info  # noqa: E402
from hofvsr_lib.training.final import (  # noqa: E402
    VIDEO_NETWORKS,
    FinalRun,
    final_runs,
    read_scores,
    train_run,
)

QUICK = TrainProfile(epochs=1, iters_per_epoch=2, batch_size=4, eval_windows=4,
                     bicubic_residual=True)


def _profile(quick: bool):
    profile = get_profile("gpu")
    return replace(profile, final=QUICK, flow_check_windows=(4, 8)) if quick else profile


def _train(run: FinalRun, data: str, work: str, device: str, quick: bool) -> None:
    train_run(run, data, _profile(quick), work, device)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True, help="the pack (hofvsr dataset pack)")
    p.add_argument("--out", type=Path, required=True, help="what comes back ($OUT)")
    p.add_argument("--work", type=Path, default=Path("/tmp/hofvsr_gpu"),
                   help="the runs' folder on that machine (kept while it is warm)")
    p.add_argument("--device", default="cuda")
    p.add_argument("--deadline", type=float, default=540.0,
                   help="seconds after which unfinished runs are stopped (they resume)")
    p.add_argument("--quick", action="store_true", help="2 steps a network: a dry run")
    args = p.parse_args()
    runs = [r for r in final_runs(_profile(args.quick)) if r.key in VIDEO_NETWORKS]
    spawn = multiprocessing.get_context("spawn")
    start = time.perf_counter()
    workers = [spawn.Process(target=_train, name=r.run_id, args=(
        r, str(args.data), str(args.work), args.device, args.quick)) for r in runs]
    for w in workers:
        w.start()
    for w in workers:
        w.join(max(1.0, args.deadline - (time.perf_counter() - start)))
        if w.is_alive():
            print(f"{w.name}: stopped at the deadline (resumes on a rerun)", flush=True)
            w.terminate()
            w.join()
    collect(runs, args.work, args.out, time.perf_counter() - start)
    return 0


def collect(runs: list[FinalRun], work: Path, out: Path, seconds: float) -> None:
    """The finished runs' files into ``out`` (at most 8 files: the device tool's limit)."""
    out.mkdir(parents=True, exist_ok=True)
    summary = {"seconds": round(seconds, 1), "machine": machine_info(), "runs": {}}
    with tarfile.open(out / "checkpoints.tar", "w") as tar:
        for run in runs:
            record_path = work / "final" / f"{run.run_id}.json"
            if not record_path.is_file():
                summary["runs"][run.run_id] = "not finished"
                continue
            record = json.loads(record_path.read_text())
            (out / record_path.name).write_text(record_path.read_text())
            scores = read_scores(work, run.variant)
            scores.to_csv(out / f"{run.variant}_scores.csv", index=False)
            tar.add(work / "checkpoints" / f"{run.run_id}.pt", arcname=f"{run.run_id}.pt")
            summary["runs"][run.run_id] = {
                "display": record["display"], "test_psnr": record["psnr"],
                "bicubic_psnr": float(scores["bicubic_psnr"].mean()),
                "steps": record["epochs"] * record["iters_per_epoch"],
                "train_seconds": record["train_seconds"], "device": record["provenance"]["device"]}
    write_json(out / "gpu_evidence.json", summary)
    print(json.dumps(summary["runs"], indent=1), flush=True)


if __name__ == "__main__":
    sys.exit(main())
