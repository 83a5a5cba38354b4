"""Studies of the search itself, beside the paper's three searches (notebook
``02_search_studies``); each writes under the same search root and resumes.

* **The assessor's saving.** ``random`` (the profile's assessor on) against
  ``random-noassessor`` (off), same tuner seed: NNI's Random proposes the same configurations in
  the same order whatever the results, so the two searches differ by the assessor alone.
* **TPE on an ordinal encoding.** ``tpe-ordinal``: the paper's 800 points as ``quniform``
  ranges, which TPE models as numbers, beside the faithful ``choice`` space, where TPE's
  categorical model with few results proposes the best trial again (the deduplicator's
  fallback).
* **Is the cached protocol a valid proxy?** ``AGREEMENT_CONFIGS`` trained as cached trials (SR
  net on the frozen flow net's draft cubes) and as joint trials (the whole network), same trial
  budget and seed; Kendall's tau, Spearman's rho and the top-k overlap of the two rankings.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..atomic import write_csv
from ..profiles import Profile, get_profile
from ..spec import NetSpec, SRSpec
from .launcher import run_search, trial_cubes
from .records import KEY, read_table, table2

# spans the space: smallest, the paper's winner, largest, and five spread over c, n and u
AGREEMENT_CONFIGS = [NetSpec(SRSpec(*cnu)) for cnu in (
    (32, 1, 32), (64, 5, 64), (320, 8, 320), (96, 8, 160), (160, 3, 288), (224, 6, 96),
    (288, 2, 224), (128, 7, 256))]
AGREEMENT_CSV = "protocol_agreement.csv"
TPE_REGIMES_CSV = "tpe_regimes.csv"


def run_studies(profile: str | Profile, out: str | Path, data: str | Path, port: int = 8080,
                device: str | None = None) -> None:
    """The searches of the studies (without assessor, ordinal TPE), the agreement runs, and
    TPE's proposal regimes (``<out>/TPE_REGIMES_CSV``, once)."""
    profile = get_profile(profile) if isinstance(profile, str) else profile
    regimes = Path(out) / TPE_REGIMES_CSV
    if not regimes.exists():
        write_csv(tpe_regimes(profile.search.tpe_regime_budgets), regimes)
    if profile.search.assessor:
        run_search("random", profile, out, data, port, device=device, assessor=False)
    run_search("tpe", profile, out, data, port, device=device, space="ordinal")
    protocol_agreement(profile, out, data, device=device)


def protocol_agreement(profile: str | Profile, out: str | Path, data: str | Path,
                       device: str | None = None) -> pd.DataFrame:
    """Train the first ``profile.search.agreement_configs`` of ``AGREEMENT_CONFIGS`` both as
    cached and as joint trials; one row per (configuration, mode) in ``<out>/AGREEMENT_CSV``,
    written as each finishes (a rerun trains only what is missing)."""
    profile = get_profile(profile) if isinstance(profile, str) else profile
    sp = profile.search
    path = Path(out) / AGREEMENT_CSV
    done = read_table(path) if path.exists() else pd.DataFrame()
    rows = done.to_dict("records")
    seen = {(r["mode"], NetSpec.of(r)) for r in rows}
    todo = [(mode, spec) for spec in AGREEMENT_CONFIGS[:sp.agreement_configs]
            for mode in ("cached", "joint") if (mode, spec) not in seen]
    if not todo:
        return pd.DataFrame(rows)
    from tqdm import tqdm

    from .trial import run_trial

    cache, _ = trial_cubes(data, profile, profile.seed, device)
    for mode, spec in tqdm(todo, desc="cached vs joint trials"):
        result = run_trial(spec.params(), mode, sp.trial, profile.seed, cache=cache, data=data,
                           device=device, report=False)
        rows.append({"mode": mode, **spec.params(),
                     "params": result["params"], "gflops": result["gflops"],
                     "final_psnr": result["default"], "final_ssim": result["ssim"],
                     "epoch_psnr": json.dumps(result["epoch_psnr"]),
                     "duration_s": result["duration_s"], "seed": profile.seed,
                     "profile": profile.name, "device": result["device"]})
        write_csv(pd.DataFrame(rows), path)
    return pd.DataFrame(rows)


def agreement_summary(search_root: str | Path, k: int = 3) -> dict:
    """Kendall's tau and Spearman's rho between the cached and the joint ranking of the
    configurations trained both ways, the overlap of their top ``k``, and the cost of each."""
    from scipy.stats import kendalltau, spearmanr

    path = Path(search_root) / AGREEMENT_CSV
    if not path.exists():
        return {"configs": 0}
    df = read_table(path)
    wide = df.pivot_table(index=KEY, columns="mode", values="final_psnr").dropna()
    if len(wide) < 2:
        return {"configs": len(wide)}
    tau, tau_p = kendalltau(wide["cached"], wide["joint"])
    rho, _ = spearmanr(wide["cached"], wide["joint"])
    top = {m: set(wide[m].nlargest(k).index) for m in ("cached", "joint")}
    cost = df.groupby("mode")["duration_s"].sum()
    return {"configs": len(wide), "kendall_tau": float(tau), "kendall_p": float(tau_p),
            "spearman_rho": float(rho), "top_k": k,
            "top_k_overlap": len(top["cached"] & top["joint"]),
            "cached_s": float(cost.get("cached", 0.0)), "joint_s": float(cost.get("joint", 0.0)),
            "joint_over_cached_time": float(cost.get("joint", 0.0) / cost.get("cached", 1.0))}


def agreement_table(search_root: str | Path) -> pd.DataFrame:
    """The configurations trained both ways: PSNR and rank under each protocol."""
    df = read_table(Path(search_root) / AGREEMENT_CSV)
    wide = df.pivot_table(index=KEY, columns="mode", values="final_psnr").dropna()
    for mode in ("cached", "joint"):
        wide[f"{mode}_rank"] = wide[mode].rank(ascending=False).astype(int)
    return wide.reset_index()


def assessor_saving(search_root: str | Path, strategy: str = "random") -> pd.DataFrame:
    """``strategy`` with and without the assessor, side by side: trials, early stops, epochs
    trained (the compute), trial and search time, trials finished per hour, the winner and its
    validation PSNR. Empty when either search is missing."""
    t2 = table2(search_root).set_index("search")
    names = [strategy, f"{strategy}-noassessor"]
    if not set(names) <= set(t2.index):
        return pd.DataFrame()
    out = t2.loc[names, ["assessor", "trials", "early_stopped", "epochs_trained",
                         "trial_time_s", "search_time_s", "best", "best_psnr"]].copy()
    out["trials_per_hour"] = out["trials"] / (out["search_time_s"] / 3600)
    plain = out.loc[f"{strategy}-noassessor"]
    out["compute_vs_plain"] = out["epochs_trained"] / plain["epochs_trained"]
    out["time_vs_plain"] = out["trial_time_s"] / plain["trial_time_s"]
    return out.reset_index()



def source_table(search_root: str | Path) -> pd.DataFrame:
    """Trials per search and proposal source (``tuners``), with how many ran to the end."""
    from ..vocabulary import PROPOSAL_SOURCES
    from .records import COMPLETED, load_trials

    df = load_trials(search_root)
    df = df[df["status"].isin(COMPLETED)]
    table = pd.crosstab(df["search"], df["source"]).reindex(columns=PROPOSAL_SOURCES,
                                                            fill_value=0)
    table["trials"] = table.sum(axis=1)
    table["stopped early"] = df[df["status"] == "EARLY_STOPPED"].groupby("search").size()
    return table.fillna(0).astype(int)


def protocol_verdict(summary: dict, threshold: float = 0.6) -> str:
    """What the agreement supports, in a sentence: the cached protocol is a valid proxy when
    Kendall's tau reaches ``threshold`` (strong rank agreement), else not at this budget."""
    if summary.get("configs", 0) < 2:
        return "Not measured yet: fewer than two configurations were trained both ways."
    tau = summary["kendall_tau"]
    head = (f"Kendall's tau {tau:.2f} over {summary['configs']} configurations (p = "
            f"{summary['kendall_p']:.2f}), top-{summary['top_k']} overlap "
            f"{summary['top_k_overlap']}/{summary['top_k']}: ")
    if tau >= threshold:
        return head + ("the cached protocol ranks candidates as joint training does; it is a "
                       f"valid proxy at this budget, {summary['joint_over_cached_time']:.1f}x "
                       "cheaper per trial.")
    return head + ("the cached protocol does not rank candidates as joint training does at this "
                   f"budget (tau below {threshold}); a search that must match joint training "
                   "should train jointly.")


def tpe_regimes(budgets: tuple[int, ...] = (14, 40, 100), startup: dict[int, int] | None = None,
                seeds: range = range(3)) -> pd.DataFrame:
    """NNI's TPE driven directly (no training) on the paper's ``choice`` space and on its
    ordinal encoding, with a synthetic smooth objective (best near (64, 5, 64), a little
    noise): the mean number of its proposals that come from start-up, its model and the
    deduplicator's fallback at each budget (start-up trials: 4 at the ``cpu`` budget, NNI's
    default 20 beyond). The fallback depends only on the order of the results, so the
    objective only has to rank configurations. A few minutes (NNI's grid fallback is slow)."""
    import tempfile

    import numpy as np

    from .space import PAPER_SPACES
    from .tuners import TracedTPE, read_proposals

    startup = startup or {14: 4, 40: 20, 100: 20}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for budget in budgets:
            for space_name, space in PAPER_SPACES.items():
                for seed in seeds:
                    log = Path(tmp) / f"{budget}-{space_name}-{seed}.jsonl"
                    rng = np.random.default_rng(seed)
                    tuner = TracedTPE(seed=seed, tpe_args={"n_startup_jobs": startup[budget]},
                                      proposal_log=str(log))
                    tuner.update_search_space(space)
                    for pid in range(budget):
                        p = tuner.generate_parameters(pid)
                        sr = NetSpec.of(p).sr
                        value = 32 - ((np.log2(sr.res_channels) - 6) ** 2
                                      + (sr.n_res_blocks - 5) ** 2 / 4
                                      + (np.log2(sr.up_channels) - 6) ** 2) / 10 \
                            + rng.normal(0, 0.02)
                        tuner.receive_trial_result(pid, p, value)
                    counts = pd.Series(read_proposals(log)).value_counts()
                    rows.append({"budget": budget, "startup_trials": startup[budget],
                                 "space": space_name, "seed": seed,
                                 **{s: int(counts.get(s, 0))
                                    for s in ("startup", "model", "fallback")}})
    df = pd.DataFrame(rows)
    return df.groupby(["budget", "startup_trials", "space"])[
        ["startup", "model", "fallback"]].mean().reset_index()
