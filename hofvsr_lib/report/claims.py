"""The paper's trained claims against our evidence: one row per claim, with a verdict.

Every verdict is computed from ``results/``: the network comparisons from Table 3's paired
differences (``results/table3.json``, :mod:`hofvsr_lib.report.table3`: each network against
the HO-FVSR run of the same protocol, budget and seeds), the search claims from the search
records. A comparison is "confirmed" when the 95% *new-faces* interval of the measured
difference lies on the paper's side of zero, "refuted" when it lies on the other side, and
"undecided" when it holds zero; the interval on these test persons alone is shown beside it.
Every verdict names the budget it holds at ("refuted at 400 SR steps at batch 16, 3 seeds, on
3 test persons"). Ablations of HO-FVSR (the centre frame alone; draft cubes from OpenCV's DIS
flow, variant ``hofvsr_64_5_64_dis``) appear as soon as their scores exist.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .. import stats
from ..paper import TABLE3 as PAPER
from ..paper import WINNER
from ..spec import NetSpec
from ..training.final import read_scores
from .table3 import HO, budget_label, read_table3

VERDICTS = {"higher": "confirmed", "lower": "refuted", "undecided": "undecided"}
MEASURED, NEW_FACES = "measured [95% CI, these persons]", "[95% CI, new faces]"
CENTRE, DIS = f"{HO}_centre_only", f"{HO}_dis"
# (claim, the paper's word on it, variant A, variant B): "A minus B is above zero"
ABLATIONS = [
    ("the neighbouring frames help (HO-FVSR on 3 frames vs the centre frame alone)",
     "premise of video SR", HO, CENTRE),
    ("a classical flow's draft cubes help (the same SR net on OpenCV DIS-flow cubes vs the "
     "centre frame alone)", "— (a check of the premise)", DIS, CENTRE),
    ("the learned flow net adds to a classical flow (HO-FVSR vs the same SR net on OpenCV "
     "DIS-flow cubes)", "— (SOF-VSR's premise)", HO, DIS),
]
# Figure 5: "the top-5 validation errors fall, then level off after about 10 epochs"
LEVEL_OFF_EPOCH = 10
LEVEL_OFF_SHARE = 0.2  # levelled off: the fall after that epoch is at most this share of all
LEVEL_OFF_MIN_EPOCHS = 15  # shorter curves cannot show a level-off after about 10 epochs


def _fmt(result: dict, digits: int) -> str:
    lo, hi = result["ci"]
    return f"{result['mean']:+.{digits}f} [{lo:+.{digits}f}, {hi:+.{digits}f}]"


def _budget(info: dict, variant: str) -> str:
    """The budget of a variant's runs in ``table3.json``, as :func:`budget_label` words it."""
    b = info["details"][variant]["budget"]
    return budget_label(b["steps"], b["batch_size"], len(b["seeds"]),
                        len(info["test"]["persons"]), b["protocol"])


def _row(claim: str, paper: str, diff: dict, digits: int, info: dict, reference: str) -> dict:
    """A claim's row from a :func:`stats.paired` result, judged at ``reference``'s budget."""
    final, alone = diff["verdict"], diff["verdict_these_persons"]
    verdict = f"{VERDICTS[final]} at {_budget(info, reference)}"
    if diff["n_seeds"] < 2:
        verdict += " (1 seed: the intervals hold no training variation)"
    if alone != final:
        verdict += f"; on these persons alone: {VERDICTS[alone]}"
    return {"claim": claim, "paper": paper,
            MEASURED: _fmt(diff, digits),
            NEW_FACES: _fmt(diff["new_faces"], digits),
            "verdict": verdict,
            "evidence": f"profile `{info['provenance']['profile']}`, "
                        f"{info['details'][reference]['budget']['protocol']} protocol"}


def claims_table(results: str | Path) -> pd.DataFrame:
    """One row per trained claim of the paper (and per ablation that tests a premise): what
    the paper says, what we measured (A minus B, both 95% intervals), the verdict at its
    budget, and on what evidence."""
    results = Path(results)
    table, info = read_table3(results)
    details = info["details"]
    rows = []
    for suffix, how in (("", ""), ("_joint", ", both trained jointly (each its own flow net)")):
        for name, key in (("ACCV-2018", "accv"), ("TIP-2020", "tip")):
            minus = details.get(f"{key}{suffix}", {}).get("ho_minus")
            if minus is None:  # no run, or none of HO-FVSR's budget and seeds
                continue
            for metric, digits in (("psnr", 2), ("ssim", 4)):
                gap = PAPER.loc["HO-FVSR", metric] - PAPER.loc[name, metric]
                rows.append(_row(f"HO-FVSR (64, 5, 64) has a higher {metric.upper()} than "
                                 f"{name}{how}", f"{gap:+.{digits}f}", minus[metric], digits,
                                 info, f"{HO}{suffix}"))
    rows.append(_row("HO-FVSR (64, 5, 64) improves on bicubic interpolation (PSNR)",
                     "implied (no bicubic row)", details["bicubic"]["ho_minus"]["psnr"], 2,
                     info, HO))
    for claim, paper, a, b in ABLATIONS:
        if a in details and b in details and details[a]["budget"] == details[b]["budget"]:
            diff = stats.paired(read_scores(results, a), read_scores(results, b))
            rows.append(_row(claim, paper, diff, 2, info, a))
    rows += _search_claims(results)
    return pd.DataFrame(rows).set_index("claim")


def _search_budget(results: Path) -> tuple[str, str]:
    """The searches' evidence (profile, dataset, trials run per strategy) and their budget."""
    provenance = json.loads((results / "search" / "tpe" / "provenance.json").read_text())
    profile = provenance["profile"]
    name = profile.get("name") if isinstance(profile, dict) else profile
    manifest = (provenance.get("ofr_cache") or {}).get("key", {}).get("manifest_sha256", "")
    search = profile.get("search", {}) if isinstance(profile, dict) else {}
    trial = search.get("trial", {})
    budget = (f"{search['max_trials']} trials of {trial['epochs']} epochs x "
              f"{trial['iters_per_epoch']} steps per strategy" if trial else "this budget")
    return f"searches of profile `{name}` (dataset manifest {manifest[:8] or 'unknown'})", budget


def levels_off(curve: list[float]) -> bool | None:
    """Whether a validation-error curve falls and then levels off after about
    ``LEVEL_OFF_EPOCH`` epochs (its fall after that epoch at most ``LEVEL_OFF_SHARE`` of its
    whole fall); ``None`` when the curve is too short to show it."""
    if len(curve) < LEVEL_OFF_MIN_EPOCHS:
        return None
    fall = curve[0] - curve[-1]
    return bool(fall > 0 and curve[LEVEL_OFF_EPOCH - 1] - curve[-1] <= LEVEL_OFF_SHARE * fall)


def figure5_claim(curves: list[list[float]], evidence: str, budget: str) -> dict:
    """The Figure-5 claim on the top-5 validation-error curves of the searches: they fall
    (last below first), then level off (:func:`levels_off`). Confirmed when every curve does
    both, refuted when fewer than half fall or (long enough to tell) level off, else
    undecided, and undecided while the curves are too short to show a level-off."""
    falling = sum(c[-1] < c[0] for c in curves)
    levelled = [levels_off(c) for c in curves]
    epochs = max(len(c) for c in curves)
    measured = f"falls in {falling} of {len(curves)} top-5 curves"
    if any(v is None for v in levelled):
        measured += (f"; {epochs} epochs: a level-off after about {LEVEL_OFF_EPOCH} epochs "
                     "cannot show")
        verdict = "refuted" if falling < len(curves) / 2 else "undecided"
    else:
        measured += f"; levels off in {sum(levelled)} of {len(curves)}"
        both = sum(bool(v) and c[-1] < c[0] for v, c in zip(levelled, curves, strict=True))
        verdict = ("confirmed" if both == len(curves) else
                   "refuted" if min(falling, sum(levelled)) < len(curves) / 2 else "undecided")
    return {"claim": "the top-5 candidates' validation errors fall, then level off after "
                     f"about {LEVEL_OFF_EPOCH} epochs (Figure 5)",
            "paper": f"falls, then levels off after about {LEVEL_OFF_EPOCH} epochs",
            MEASURED: measured, NEW_FACES: "—",
            "verdict": f"{verdict} at {budget}", "evidence": evidence}


def _search_claims(results: Path) -> list[dict]:
    """TPE finds (64, 5, 64); the top-5 curves fall and level off (Figure 5)."""
    from .figures import succeeded_trials

    try:
        trials = succeeded_trials(results)
    except FileNotFoundError:
        return []
    if trials.empty:
        return []
    evidence, budget = _search_budget(results)
    evidence += ": " + ", ".join(f"{s} {n} trials run to the end" for s, n in
                                 trials.groupby("strategy").size().items())
    tpe = trials[trials["strategy"] == "tpe"]
    best = tpe.loc[tpe["final_psnr"].idxmax()] if len(tpe) else None
    found = best is not None and NetSpec.of(best) == WINNER
    seen = any(NetSpec.of(r) == WINNER for _, r in tpe.iterrows())
    verdict = "confirmed" if found else "undecided" if not seen else "refuted"
    rows = [{"claim": "TPE finds (64, 5, 64) as the best of the 800 configurations",
             "paper": "(64, 5, 64)",
             MEASURED: "TPE's best: " + (NetSpec.of(best).label if best is not None
                                         else "none"),
             NEW_FACES: "—", "verdict": f"{verdict} at {budget}",
             "evidence": evidence + ("; (64, 5, 64) was never tried" if not seen else "")}]
    curves = [row.epoch_loss for _, group in trials.groupby("strategy")
              for row in group.nlargest(5, "final_psnr").itertuples()]
    rows.append(figure5_claim(curves, evidence, budget))
    return rows


def claims_markdown(results: str | Path) -> str:
    """The README's claims block: :func:`claims_table` as a Markdown table."""
    return claims_table(results).reset_index().to_markdown(index=False) + "\n"
