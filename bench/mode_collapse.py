"""Mode collapse on the 2-D ring and grid, trained to a plateau: each remedy against its control.

Reproduces, in spirit and with small models, the 2-D synthetic experiments of VEEGAN
(Srivastava et al. 2017, Table 1) and PacGAN (Lin et al. 2018, Table 1), with GDPP's WGAN-GP
row (Elfeki et al. 2019, Table 1), for a vanilla GAN, every remedy in ``ganlab`` and the
matched control of each (the same architecture and learning rates, without the remedy):

    gan          MLPGenerator + MLPDiscriminator, non-saturating loss, Adam(1e-3)
    pacgan2/4    PackedDiscriminator(pack=2/4)                (Lin et al. 2018)     control: gan
    mbstd        MinibatchStdDiscriminator                    (Karras et al. 2018)  control: gan
    unrolled5    G against D unrolled 5 Adam steps, D lr 1e-4 (Metz et al. 2017)
    gan-slow-d   the vanilla GAN with unrolled5's D lr 1e-4:  unrolled5's control
    wgan-gp      Wasserstein critic + gradient penalty (lambda 0.1), 5 critic steps,
                 Adam(1e-4, betas (0.5, 0.9))                 (Gulrajani et al. 2017)
    gan-wgan-opt the vanilla GAN with wgan-gp's optimiser and 5 D steps: wgan-gp's control

Chapter 6's critics (``ganlab.experiments.CRITICS``, the papers' own settings), compared with
the vanilla GAN (the chapter's "minimax") and WGAN-GP also with clipping, not with a control:

    wgan-clip     Wasserstein critic clamped into [-0.01, 0.01] after every critic step,
                  5 critic steps, RMSprop(5e-5) for G and D        (Arjovsky et al. 2017)
    wgan-gp-paper Wasserstein critic + gradient penalty (lambda 10), 5 critic steps,
                  Adam(1e-4, betas (0, 0.9))                       (Gulrajani et al. 2017)

Data (the papers' own; ../shared/research/paper_numbers.md, section 1.2):
    ring  8 Gaussians at (cos 2 pi k/8, sin 2 pi k/8), radius 1, std 0.01 (PacGAN/GDPP configs)
    grid  25 Gaussians at {-4,-2,0,2,4}^2, std 0.05 (VEEGAN, PacGAN, GDPP)

Protocol:
    G: MLP z in R^2 -> 3 x WIDTH ReLU -> 2; D: 3 x WIDTH ReLU -> 1 (the remedies change only D,
    or for unrolling G's update). Batch 128; Adam(lr 1e-3, betas (0.5, 0.999)) unless the
    method sets its own (``ganlab.experiments.REMEDIES``, which the chapter uses too).
    Seed s: ``seed_everything(s)`` before building G and D, then ``fit(..., seed=s)``: the
    runs of one (data set, method) are trained together by ``ganlab.batched.fit_many``, each
    exactly the run ``fit`` gives for its seed up to rounding (tests/test_batched.py).
    Evaluation every ``--every`` steps: ``metrics.mode_coverage`` on ``G.sample(2500,
    seed=2333)`` (VEEGAN/PacGAN: 2,500 samples; high quality = within 3 std of the nearest
    mode; a mode is captured when it is the nearest mode of at least one high-quality sample;
    reverse KL of the mode histogram of the high-quality samples against uniform).
    Plateau: with W = ``--window`` evaluations, a (data set, method) has plateaued at an
    evaluation when the seed-mean % high quality of its last W evaluations differs from that of
    the W before by at most ``--tol-hq`` points and the seed-mean modes by at most 2 % of the
    modes (at least 0.25). Training stops there (at the earliest after 2W evaluations) or at
    ``--max-steps``, whichever comes first; a run's result is the mean of its last W
    evaluations (so one unlucky evaluation step does not decide it), the final evaluation is
    kept in the JSON too.
    Statistics over seeds: mean and a 95 % bootstrap percentile interval (10,000 resamples);
    each remedy against its control: the difference of means, its 95 % bootstrap interval,
    and a two-sided permutation test (20,000 permutations) with Holm's correction over all
    the comparisons of the table. A run that hits a NaN is recorded as diverged and left out.
    (Tasks = (data set, method) pairs go to a pool of ``--workers`` processes with one torch
    thread each, the most expensive first.)

Usage:
    python bench/mode_collapse.py                      # the committed results (ganlab/results/)
    python bench/mode_collapse.py --quick              # smoke run: 2 seeds, a few hundred steps
    python bench/mode_collapse.py [--seeds 10] [--max-steps 12000] [--every 500] [--window 4]
                                  [--methods gan,pacgan2,...] [--data ring,grid] [--workers 2]
                                  [--width 64] [--out DIR] [--name NAME] [--min-steps 0]
    python bench/mode_collapse.py --methods gan,wgan-clip,wgan-gp-paper --data ring \
        --name critics                                 # chapter 6's critics, converged

Writes DIR/NAME.json (every run, its curves, the protocol, the machine, the wall time),
DIR/NAME.md (the tables, the tests, published figures beside ours) and DIR/NAME_curves.png
(seed-mean % high quality and modes against steps); NAME is mode_collapse by default.
``--markdown-only`` rewrites the tables and the figure from the JSON without training.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

import ganlab as gl

EVAL_SAMPLES = 2500
EVAL_SEED = 2333  # PacGAN evaluates on a fixed set of 2,500 latent samples (its seed is 2333)
BATCH_SIZE = 128
LR = 1e-3
RESULTS = (
    Path(__file__).resolve().parents[1] / "ganlab" / "results"
)  # shipped: chapter 3 shows them

DATASETS = {
    "ring": {"build": {"modes": 8, "radius": 1.0, "std": 0.01}, "label": "2-D ring (8 modes)"},
    "grid": {"build": {"side": 5, "spacing": 2.0, "std": 0.05}, "label": "2-D grid (25 modes)"},
}

METHODS = {
    "gan": "vanilla GAN (non-saturating)",
    "pacgan2": "PacGAN2",
    "pacgan4": "PacGAN4",
    "mbstd": "minibatch std",
    "wgan-gp": "WGAN-GP (λ 0.1)",
    "unrolled5": "unrolled GAN (5 steps)",
    "gan-slow-d": "vanilla GAN, D lr 1e-4 (unrolled's control)",
    "gan-wgan-opt": "vanilla GAN, WGAN-GP's optimiser and 5 D steps (its control)",
    "wgan-gp-lam10": "WGAN-GP (λ 10)",
    "wgan-clip": "WGAN (weight clipping, chapter 6)",
    "wgan-gp-paper": "WGAN-GP (chapter 6: λ 10, betas (0, 0.9))",
}
DEFAULT_METHODS = ["gan", "pacgan2", "pacgan4", "mbstd", "unrolled5", "gan-slow-d", "wgan-gp",
                   "gan-wgan-opt"]  # fmt: skip
CONTROL = {"pacgan2": "gan", "pacgan4": "gan", "mbstd": "gan", "unrolled5": "gan-slow-d",
           "wgan-gp": "gan-wgan-opt", "wgan-gp-lam10": "gan-wgan-opt"}  # fmt: skip
"""Each remedy's matched control: the same G, D widths and learning rates, without the remedy."""
COMPARED_WITH = {"wgan-clip": ["gan"], "wgan-gp-paper": ["gan", "wgan-clip"]}
"""Chapter 6's comparisons (not matched controls: loss, optimiser and critic steps all differ)."""
CHAPTER6 = {"wgan-clip": "WGAN (clipping)", "wgan-gp-paper": "WGAN-GP"}
"""Method -> its setting in ``ganlab.experiments.CRITICS``."""
# Relative cost of one step (measured with fit_many, 10-20 runs stacked), longest first.
COST = {"unrolled5": 10.0, "wgan-gp": 5.6, "wgan-gp-lam10": 5.6, "wgan-gp-paper": 5.6,
        "gan-wgan-opt": 3.4, "wgan-clip": 3.4, "mbstd": 1.35, "pacgan4": 0.7,
        "pacgan2": 0.8}  # fmt: skip

# Published figures, paper_numbers.md section 1.3: (modes, % HQ, reverse KL) as printed.
SOURCES = {
    "VEEGAN": (
        "VEEGAN (Srivastava et al. 2017), Table 1: mean of 5 runs, 2,500 samples; "
        "its notebook: G 2 x 128 ReLU, noise in R^254, batch 500, Adam(1e-3, beta1 0.5), 100k "
        "iterations"
    ),
    "PacGAN": (
        "PacGAN (Lin et al. 2018), Table 1: mean ± standard error of 10 runs; G 4 x 400 "
        "BatchNorm-ReLU, D 3 x 200 maxout, Adam(1e-4, beta1 0.8), batch 100, 400k iterations"
    ),
    "GDPP": (
        "GDPP (Elfeki et al. 2019), Table 1 (its new WGAN-GP row): mean of 5 runs, 2,500 "
        "samples, 25k iterations, G/D 2 x 128 tanh (noise in R^256), batch 512"
    ),
}
PUBLISHED: dict[str, dict[str, list[tuple[str, str, str, str]]]] = {
    "ring": {
        "gan": [("VEEGAN", "1", "99.3", "–"), ("PacGAN", "6.3 ± 0.5", "98.2 ± 0.2", "0.45 ± 0.09")],
        "pacgan2": [("PacGAN", "7.9 ± 0.1", "95.6 ± 2.0", "0.07 ± 0.03")],
        "pacgan4": [("PacGAN", "7.8 ± 0.1", "95.9 ± 1.4", "0.07 ± 0.02")],
        "wgan-gp": [("GDPP", "6.8", "59.6", "–")],
        "wgan-gp-lam10": [("GDPP", "6.8", "59.6", "–")],
        "wgan-gp-paper": [("GDPP", "6.8", "59.6", "–")],
        "unrolled5": [("VEEGAN", "7.6", "35.6", "–")],
    },
    "grid": {
        "gan": [
            ("VEEGAN", "3.3", "0.5", "–"),
            ("PacGAN", "17.3 ± 0.8", "94.8 ± 0.7", "0.70 ± 0.07"),
        ],
        "pacgan2": [("PacGAN", "23.8 ± 0.7", "91.3 ± 0.8", "0.13 ± 0.04")],
        "pacgan4": [("PacGAN", "24.8 ± 0.2", "93.6 ± 0.6", "0.04 ± 0.01")],
        "wgan-gp": [("GDPP", "24.2", "28.7", "–")],
        "wgan-gp-lam10": [("GDPP", "24.2", "28.7", "–")],
        "wgan-gp-paper": [("GDPP", "24.2", "28.7", "–")],
        "unrolled5": [("VEEGAN", "23.6", "16", "–")],
    },
}


def make_data(name: str) -> gl.data.GaussianMixture:
    spec = DATASETS[name]["build"]
    return gl.data.ring(**spec) if name == "ring" else gl.data.grid(**spec)


REMEDY_OF = {
    "gan": "vanilla",
    "pacgan2": "PacGAN2",
    "pacgan4": "PacGAN4",
    "mbstd": "minibatch std",
    "wgan-gp": "WGAN-GP",
    "wgan-gp-lam10": "WGAN-GP",
    "unrolled5": "unrolled 5",
    "gan-slow-d": "vanilla",
    "gan-wgan-opt": "vanilla",
    "wgan-clip": "vanilla",
    "wgan-gp-paper": "vanilla",
}


def build(method: str, width: int) -> tuple[torch.nn.Module, torch.nn.Module, gl.train.FitConfig]:
    """G, D and the training config of one method: ``ganlab.experiments.REMEDIES``."""
    if method not in REMEDY_OF:
        raise ValueError(f"unknown method {method!r}; expected one of {sorted(METHODS)}")
    remedy = gl.experiments.REMEDIES[REMEDY_OF[method]]
    G = gl.models.MLPGenerator(latent_dim=2, out_dim=2, width=width, depth=3)
    D = remedy.build_D(2, width)
    config = gl.train.FitConfig(lr_D=LR, lr_G=LR, **remedy.config.changes())
    if method == "wgan-gp-lam10":
        config = replace(config, penalty=gl.losses.wgan_gp(10.0))
    if method in CHAPTER6:  # the chapter's setting exactly (RMSprop for both players, or Adam)
        config = gl.experiments.CRITICS[CHAPTER6[method]].config
    if method == "gan-slow-d":
        config = replace(config, lr_D=gl.experiments.REMEDIES["unrolled 5"].config.lr_D)
    # WGAN-GP's optimiser and critic steps, the vanilla (non-saturating) loss
    if method == "gan-wgan-opt":
        wgan = gl.experiments.REMEDIES["WGAN-GP"].config
        config = replace(config, lr_D=wgan.lr_D, lr_G=wgan.lr_G, betas=wgan.betas,
                         d_steps=wgan.d_steps)  # fmt: skip
    return G, D, config


def describe(method: str) -> str:
    """The settings of ``method`` that differ from the default protocol, in words."""
    if method == "gan-slow-d":
        return "D's Adam lr 1e-4"
    if method == "gan-wgan-opt":
        return "Adam(1e-4, betas (0.5, 0.9)) for G and D, 5 D steps per G step, the non-saturating loss of the vanilla GAN"
    if method == "wgan-gp-lam10":
        return "as WGAN-GP, λ 10"
    if method == "wgan-clip":
        return ("chapter 6's WGAN (clipping), Arjovsky et al. 2017: Wasserstein critic clamped "
                "into [-0.01, 0.01] after every critic step, 5 critic steps, RMSprop(5e-5) for "
                "G and D")  # fmt: skip
    if method == "wgan-gp-paper":
        return ("chapter 6's WGAN-GP, Gulrajani et al. 2017: gradient penalty λ 10, "
                "5 critic steps, Adam(1e-4, betas (0, 0.9)) for G and D")  # fmt: skip
    remedy = gl.experiments.REMEDIES[REMEDY_OF[method]]
    return remedy.source if remedy.config.changes() else "the default protocol"


# ----------------------------------------------------------------------------- training


def evaluate(G: gl.batched.StackedMLP, dist: gl.data.GaussianMixture,
             histories: list[gl.train.History]) -> list[dict[str, Any] | None]:  # fmt: skip
    """Each run's mode coverage on 2,500 samples from the fixed latents; None once diverged."""
    samples = G.sample(EVAL_SAMPLES, seed=EVAL_SEED)  # (S, 2500, 2), the same z for every run
    out: list[dict[str, Any] | None] = []
    for s, history in enumerate(histories):
        if gl.batched.diverged(history) or not bool(torch.isfinite(samples[s]).all()):
            out.append(None)
            continue
        cov = gl.metrics.mode_coverage(samples[s], dist)
        out.append({
            "modes": cov.modes,
            "hq": 100 * cov.hq_fraction,
            # JSON has no infinity: no high-quality sample at all leaves the KL undefined
            "kl": cov.reverse_kl if math.isfinite(cov.reverse_kl) else None,
            "counts": cov.counts.tolist(),
        })  # fmt: skip
    return out


def seed_mean(points: list[dict[str, Any] | None], key: str) -> float:
    values = [p[key] for p in points if p is not None and p[key] is not None]
    return statistics.fmean(values) if values else math.nan


def plateaued(curve: dict[str, list[float]], window: int, tol_hq: float, tol_modes: float) -> bool:
    """Whether the seed-mean curves' last ``window`` evaluations average within the tolerances
    of the ``window`` before them (% high quality and modes both)."""
    if len(curve["hq"]) < 2 * window:
        return False
    for key, tol in (("hq", tol_hq), ("modes", tol_modes)):
        last, before = curve[key][-window:], curve[key][-2 * window : -window]
        if not abs(statistics.fmean(last) - statistics.fmean(before)) <= tol:
            return False
    return True


def modes_tolerance(n_modes: int) -> float:
    return max(0.25, 0.02 * n_modes)


def run_task(task: dict[str, Any]) -> dict[str, Any]:
    """Train every seed of one (data set, method) together until its curves plateau."""
    torch.set_num_threads(1)
    dist = make_data(task["data"])
    seeds, every, window = task["seeds"], task["every"], task["window"]
    G, D, rngs = gl.batched.stack_players(lambda: build(task["method"], task["width"])[:2], seeds)
    config = build(task["method"], task["width"])[2]
    config = replace(config, batch_size=BATCH_SIZE)
    opt_D, opt_G = gl.batched.stacked_optimizers(config, G, D)  # kept across the chunks
    generators = [torch.Generator().manual_seed(s) for s in seeds]  # what fit(seed=s) draws from
    tol_modes = modes_tolerance(dist.n_modes)
    evals: list[list[dict[str, Any] | None]] = []
    curve: dict[str, list[float]] = {"step": [], "hq": [], "modes": []}
    histories = None
    wall, cpu, step, plateau_step = time.perf_counter(), time.process_time(), 0, None
    while step < task["max_steps"]:
        histories = gl.batched.fit_many(
            G, D, dist, every, config, seeds=generators, opt_D=opt_D, opt_G=opt_G,
            histories=histories, penalty_generators=rngs,
        )  # fmt: skip
        for history in histories:  # keep the last step only: the runs are long
            for column in history.as_dict():
                del getattr(history, column)[:-1]
        step += every
        points = evaluate(G, dist, histories)
        evals.append(points)
        curve["step"].append(step)
        curve["hq"].append(seed_mean(points, "hq"))
        curve["modes"].append(seed_mean(points, "modes"))
        # a slow starter is flat near zero: --min-steps keeps that from passing as a plateau
        if step >= task.get("min_steps", 0) and plateaued(curve, window, task["tol_hq"], tol_modes):
            plateau_step = step
            break
    records = []
    for s, seed in enumerate(seeds):
        last = [e[s] for e in evals[-window:]]
        diverged = None if all(p is not None for p in last) else "NaN or inf (see History)"
        record = dict(data=task["data"], method=task["method"], seed=seed, steps=step,
                      diverged=diverged, modes=None, hq_fraction=None, reverse_kl=None,
                      counts=None, final=evals[-1][s])  # fmt: skip
        if diverged is None:
            kls = [p["kl"] for p in last if p["kl"] is not None]
            record.update(
                modes=statistics.fmean(p["modes"] for p in last),
                hq_fraction=statistics.fmean(p["hq"] for p in last) / 100,
                reverse_kl=statistics.fmean(kls) if len(kls) == len(last) else None,
                counts=evals[-1][s]["counts"],
                curve_hq=[e[s]["hq"] if e[s] else None for e in evals],
                curve_modes=[e[s]["modes"] if e[s] else None for e in evals],
            )
        records.append(record)
    return {
        "data": task["data"],
        "method": task["method"],
        "runs": records,
        "curve": curve,
        "plateau_step": plateau_step,
        "steps": step,
        "seconds": time.perf_counter() - wall,
        "cpu_seconds": time.process_time() - cpu,
        "load": os.getloadavg(),
    }


def _worker_init() -> None:
    torch.set_num_threads(1)


def task_line(t: dict[str, Any]) -> str:
    plateau = f"plateau at {t['plateau_step']}" if t["plateau_step"] else "NOT plateaued"
    return (
        f"{t['data']:5} {t['method']:13} {t['steps']:6d} steps ({plateau}), "
        f"{t['seconds'] / 60:5.1f} min: modes {t['curve']['modes'][-1]:5.2f}, "
        f"HQ {t['curve']['hq'][-1]:5.1f} % (seed means at the last evaluation)"
    )


# ----------------------------------------------------------------------------- statistics


def bootstrap_interval(values: list[float], resamples: int = 10_000) -> tuple[float, float]:
    """95 % percentile bootstrap interval of the mean of ``values``."""
    if len(values) < 2:
        return math.nan, math.nan
    rng = np.random.default_rng(0)
    x = np.asarray(values, dtype=float)
    means = x[rng.integers(0, len(x), size=(resamples, len(x)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def compare(remedy: list[float], control: list[float]) -> dict[str, float]:
    """Difference of means (remedy - control), its 95 % bootstrap interval (each group
    resampled on its own) and a two-sided permutation test of equal means."""
    from scipy import stats

    a, b = np.asarray(remedy, dtype=float), np.asarray(control, dtype=float)
    rng = np.random.default_rng(0)
    diffs = (a[rng.integers(0, len(a), (10_000, len(a)))].mean(1)
             - b[rng.integers(0, len(b), (10_000, len(b)))].mean(1))  # fmt: skip
    low, high = np.percentile(diffs, [2.5, 97.5])
    if np.ptp(np.concatenate([a, b])) == 0:
        p = 1.0  # every run the same: no difference to test
    else:
        test = stats.permutation_test(
            (a, b), lambda x, y: np.mean(x) - np.mean(y), permutation_type="independent",
            alternative="two-sided", n_resamples=20_000, rng=np.random.default_rng(0),
        )  # fmt: skip
        p = float(test.pvalue)
    return {"diff": float(a.mean() - b.mean()), "low": float(low), "high": float(high), "p": p}


def holm(pvalues: list[float]) -> list[float]:
    """Holm's step-down adjustment: family-wise error at most alpha over all the tests."""
    order = sorted(range(len(pvalues)), key=lambda i: pvalues[i])
    adjusted, running = [0.0] * len(pvalues), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(pvalues) - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


METRICS = {"modes": "modes", "hq": "% high quality", "kl": "reverse KL"}
BETTER = {"modes": 1, "hq": 1, "kl": -1}  # more modes, more HQ, less KL is better


def values(runs: list[dict[str, Any]], data: str, method: str, metric: str) -> list[float]:
    ok = [r for r in runs if r["data"] == data and r["method"] == method and not r["diverged"]]
    if metric == "modes":
        return [r["modes"] for r in ok]
    if metric == "hq":
        return [100 * r["hq_fraction"] for r in ok]
    return [r["reverse_kl"] for r in ok if r["reverse_kl"] is not None]


def controls_of(method: str) -> list[str]:
    """What ``method`` is compared with: its matched control, or chapter 6's comparisons."""
    return [CONTROL[method]] if method in CONTROL else COMPARED_WITH.get(method, [])


def pairs(methods: list[str]) -> list[tuple[str, str]]:
    """(method, control) of every comparison among ``methods``."""
    return [(m, c) for m in methods for c in controls_of(m) if c in methods]


def comparisons(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Every remedy against its control, on every data set and metric, Holm-adjusted."""
    p, runs = result["protocol"], result["runs"]
    rows = []
    for data in p["data"]:
        for method, control in pairs(p["methods"]):
            for metric in METRICS:
                a, b = values(runs, data, method, metric), values(runs, data, control, metric)
                if len(a) < 2 or len(b) < 2:
                    continue
                rows.append({"data": data, "method": method, "control": control,
                             "metric": metric, "n": (len(a), len(b)), **compare(a, b)})  # fmt: skip
    for row, adjusted in zip(rows, holm([r["p"] for r in rows]), strict=True):
        row["p_holm"] = adjusted
        better = row["diff"] * BETTER[row["metric"]] > 0
        if adjusted >= 0.05:
            row["verdict"] = "no significant difference"
        else:
            row["verdict"] = "remedy better" if better else "remedy worse"
    return rows


# ----------------------------------------------------------------------------- report


def fmt_ci(vals: list[float], digits: int) -> str:
    if not vals:
        return "–"
    low, high = bootstrap_interval(vals)
    mean = statistics.fmean(vals)
    if math.isnan(low):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def task_of(result: dict[str, Any], data: str, method: str) -> dict[str, Any]:
    return next(t for t in result["tasks"] if t["data"] == data and t["method"] == method)


def greek(text: str) -> str:
    """``text`` with the penalty's coefficient written as the papers write it: "lambda" -> λ
    (results written before the tables used the symbol say "lambda")."""
    return text.replace("lambda", "λ")


def write_markdown(path: Path, result: dict[str, Any]) -> None:
    p, runs, name = result["protocol"], result["runs"], result.get("name", "mode_collapse")
    m = result["machine"]
    lines = [
        "# Mode collapse on the 2-D ring and grid, trained to a plateau: ours beside the "
        "published tables",
        "",
        f"Written by `bench/mode_collapse.py` (command: `{result['command']}`), "
        f"{result['finished']}. "
        + (
            f"**Not one run**: {result['partial']}; {result['cpu_s'] / 60:.1f} min of CPU time "
            if "partial" in result
            else f"Wall time {result['wall_s'] / 60:.1f} min "
        )
        + f"on {m['cpu_count']} "
        f"CPU cores ({p['workers']} worker processes, one torch thread each, niceness "
        f"{m['niceness']}), torch {m['torch']}; load average {m['load_before']} before and "
        f"{m['load_after']} after (other jobs shared the machine). Each (data set, method) "
        f"trains its {p['n_seeds']} seeds at once with `ganlab.batched.fit_many` (every run "
        "what `train.fit` gives for its seed, up to rounding: tests/test_batched.py).",
        "",
        f"**Ours**: seeds {p['seeds'][0]}–{p['seeds'][-1]} (n = {p['n_seeds']}) of each method; "
        f"batch {p['batch_size']}, G and D MLPs of 3 x {p['width']} ReLU, z in R^2, Adam(lr "
        f"{LR:g}, betas (0.5, 0.999)) unless the method sets its own: "
        + "; ".join(f"{METHODS[k]}: {greek(t)}" for k, t in p["remedies"].items())
        + ". Evaluation every "
        f"{p['every']} steps on 2,500 samples from fixed latents: high quality = within 3 std "
        "of the nearest mode; a mode is captured if it is the nearest mode of >= 1 "
        "high-quality sample; reverse KL = KL(mode histogram of the high-quality samples || "
        "uniform).",
        "",
        f"**Plateau criterion**: a (data set, method) stops at the first evaluation where the "
        f"seed-mean % high quality of its last {p['window']} evaluations "
        f"({p['window'] * p['every']:,} steps) is within {p['tol_hq']:g} points of that of the "
        f"{p['window']} before, and the seed-mean modes within 2 % of the modes (at least "
        f"0.25: 0.25 on the ring, 0.5 on the grid); at the latest at {p['max_steps']:,} steps"
        + (f", at the earliest at {p['min_steps']:,}" if p.get("min_steps") else "")
        + ". "
        f"**A run's numbers are the mean of its last {p['window']} evaluations**; the table "
        "gives the mean over seeds and its 95 % bootstrap interval [low, high]. The curves are "
        f"in `{name}_curves.png` and, per run, in `{name}.json`.",
        "",
        "**Published** (paper_numbers.md, section 1.3):",
        "",
    ]
    lines += [f"- {name}: {text}." for name, text in SOURCES.items()]
    for data in p["data"]:
        n_modes = make_data(data).n_modes
        spec = ", ".join(f"{k} {v:g}" for k, v in DATASETS[data]["build"].items() if k != "modes")
        lines += [
            "",
            f"## {DATASETS[data]['label']}: {spec}",
            "",
            f"| method | modes (of {n_modes}) | % high quality | reverse KL | steps "
            "| published: modes / % HQ / reverse KL (source) |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for method in p["methods"]:
            task = task_of(result, data, method)
            mine = [r for r in runs if r["data"] == data and r["method"] == method]
            kl = fmt_ci(values(runs, data, method, "kl"), 2)
            undefined = sum(1 for r in mine if not r["diverged"] and r["reverse_kl"] is None)
            if undefined:  # a run with an evaluation without high-quality samples has no KL
                kl += f" (undefined in {undefined} of {len(mine)} runs)"
            steps = f"{task['steps']:,}" + ("" if task["plateau_step"] else " (cap)")
            # one row per method: a second published source shares the method's cell (a row
            # of its own, other cells blank, read as a method without a name)
            pubs = PUBLISHED[data].get(method, [])
            published = "; ".join(f"{modes} / {hq} / {rkl} ({src})"
                                  for src, modes, hq, rkl in pubs) or "–"  # fmt: skip
            ours = [METHODS[method], fmt_ci(values(runs, data, method, "modes"), 2),
                    fmt_ci(values(runs, data, method, "hq"), 1), kl, steps]  # fmt: skip
            lines.append("| " + " | ".join([*ours, published]) + " |")
        lines += ["", "(cap): not plateaued by the cap; the numbers are where it stood there."]
    rows = comparisons(result)
    heading, intro = comparison_intro(p["methods"])
    lines += [
        "",
        heading,
        "",
        intro + ". Difference of seed means (remedy − control) with its 95 % bootstrap interval; p "
        f"from a two-sided permutation test, in brackets Holm-adjusted over all {len(rows)} "
        "comparisons below. 'Better' means more modes, more high-quality samples or a lower "
        "reverse KL, at Holm-adjusted p < 0.05.",
        "",
        "| data | remedy | metric | remedy − control [95 % CI] | p (Holm) | verdict |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        digits = 1 if r["metric"] == "hq" else 2
        label = METHODS[r["method"]]
        if r["method"] not in CONTROL:  # chapter 6's critics: more than one comparison each
            label += f" vs {METHODS[r['control']]}"
        lines.append(
            f"| {r['data']} | {label} | {METRICS[r['metric']]} | "
            f"{r['diff']:+.{digits}f} [{r['low']:+.{digits}f}, {r['high']:+.{digits}f}] | "
            f"{r['p']:.4f} ({r['p_holm']:.4f}) | {r['verdict']} |"
        )
    lines += ["", "## What this run shows", "", *findings(result, rows), ""]
    notes = NOTES + (CRITIC_NOTES if any(m in CHAPTER6 for m in p["methods"]) else [])
    lines += ["## Why ours differ from the papers", "", *notes, ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def comparison_intro(methods: list[str]) -> tuple[str, str]:
    """The heading and first words of the comparisons: matched controls, chapter 6's pairs."""
    matched = [f"{METHODS[m]}: {METHODS[c]}" for m, c in CONTROL.items() if m in methods]
    chapter6 = [f"{METHODS[m]} against {METHODS[c]}" for m, c in pairs(methods)
                if m in COMPARED_WITH]  # fmt: skip
    text = []
    if matched or not chapter6:
        text.append("Each remedy's control is the same networks and learning rates without the "
                    "remedy: " + "; ".join(matched))  # fmt: skip
    if chapter6:
        text.append("Chapter 6's critics are compared as the chapter compares them, not with a "
                    "matched control (loss, optimiser and critic steps all differ): "
                    + "; ".join(chapter6))  # fmt: skip
    heading = ("## Each remedy against its matched control" if matched or not chapter6
               else "## Chapter 6's critics against the vanilla GAN and each other")  # fmt: skip
    return heading, ". ".join(text)


def findings(result: dict[str, Any], rows: list[dict[str, Any]]) -> list[str]:
    """Sentences generated from the numbers, so that the text never contradicts the tables."""
    p, runs = result["protocol"], result["runs"]
    out = []
    for data in p["data"]:
        if "gan" in p["methods"]:
            hq, modes = values(runs, data, "gan", "hq"), values(runs, data, "gan", "modes")
            task = task_of(result, data, "gan")
            out.append(
                f"- **Vanilla GAN, {data}**: {statistics.fmean(hq):.1f} % high quality and "
                f"{statistics.fmean(modes):.2f} of {make_data(data).n_modes} modes after "
                f"{task['steps']:,} steps"
                + (" (plateaued)." if task["plateau_step"] else " (not plateaued at the cap).")
            )
        for method, control in pairs(p["methods"]):
            mine = [r for r in rows if r["data"] == data and r["method"] == method
                    and r["control"] == control]  # fmt: skip
            if not mine:
                continue
            parts = []
            for r in mine:
                digits = 1 if r["metric"] == "hq" else 2
                parts.append(
                    f"{METRICS[r['metric']]} {r['diff']:+.{digits}f} (p {r['p']:.3f}, Holm "
                    f"{r['p_holm']:.3f}: {r['verdict']})"
                )
            wins = [r for r in mine if r["verdict"] == "remedy better"]
            losses_ = [r for r in mine if r["verdict"] == "remedy worse"]
            against = "its control" if method in CONTROL else "chapter 6's comparison"
            head = (f"beats {against}" if wins and not losses_ else
                    f"is worse than {against}" if losses_ and not wins else
                    f"is mixed against {against}" if wins else
                    f"does not beat {against}")  # fmt: skip
            out.append(f"- **{METHODS[method]}, {data}** {head} ({METHODS[control]}): "
                       + "; ".join(parts) + ".")  # fmt: skip
    not_plateaued = [f"{t['data']}/{t['method']} ({t['steps']:,} steps)"
                     for t in result["tasks"] if not t["plateau_step"]]  # fmt: skip
    if not_plateaued:
        out.append(
            f"- **Not plateaued at their cap**: {', '.join(not_plateaued)}; their numbers are "
            "where they stood at the cap (see the curves), not converged values."
        )
    return out


NOTES = [
    "- **Architecture and optimiser.** One small ReLU MLP (3 x 64) for every method, noise in "
    "R^2, Adam(1e-3, beta1 0.5); PacGAN uses a 4 x 400 BatchNorm generator and a maxout "
    "discriminator with Adam(1e-4, beta1 0.8) for 400k iterations, VEEGAN and GDPP 2 x 128 "
    "tanh/ReLU nets with noise in R^256 for 100k and 25k. Our remedies change only D (or, for "
    "unrolling, G's update), and each is compared with a control that has its learning "
    "rates, so the comparison between our rows is fair; the comparison with the papers is not.",
    "- **The ceiling.** A perfect sampler has 98.9 % high-quality samples (the mass of a 2-D "
    "Gaussian within 3 std); PacGAN's converged vanilla GAN has 98.2 % on the ring and 94.8 % "
    "on the grid.",
    "- **The papers disagree with each other.** The vanilla GAN captures 1 ring mode in VEEGAN's "
    "table but 6.3 in PacGAN's, and 3.3 vs 17.3 grid modes: the baseline depends on the "
    "architecture and training set-up far more than on the loss.",
    "- **WGAN-GP.** We use the WGAN-GP authors' own toy setting, λ 0.1 with Adam(1e-4, "
    "betas (0.5, 0.9)), 5 critic steps (`--methods wgan-gp-lam10` runs the paper's λ 10). "
    "Its control is the vanilla (non-saturating) GAN with the same optimiser and 5 D steps. GDPP does not "
    "state its λ.",
    "- **Unrolling.** As Metz et al., the look-ahead replays D's own Adam update (from its "
    "current moment estimates) 5 times, differentiably, and D learns 10x slower than G (lr "
    "1e-4 vs 1e-3); they also use the saturating G loss. A slow D alone changes the game, so "
    "the control is the same slow-D GAN without unrolling.",
    "- **Reverse KL.** PacGAN's exact reverse-KL code for the 2-D sets was not found; we use "
    "KL(histogram of high-quality samples over modes || uniform), as its Stacked-MNIST code "
    "does. PacGAN's ± is a standard error over 10 runs; our brackets are 95 % intervals "
    "(about 2 standard errors each side).",
    "- **Averaging the last evaluations.** A GAN's samples move from step to step; a run's "
    "numbers here are the mean over its last evaluations on the plateau, where the papers "
    "report one evaluation at the end (the final evaluation of every run is in the JSON).",
]


CRITIC_NOTES = [
    "- **Chapter 6's critics.** WGAN (clipping) and chapter 6's WGAN-GP use the settings of "
    "`ganlab.experiments.CRITICS` exactly (RMSprop 5e-5, c = 0.01, 5 critic steps; λ 10, "
    "5 critic steps, Adam(1e-4, betas (0, 0.9))) with this benchmark's networks (3 x 64 ReLU) "
    "and batch 128, on this benchmark's ring (radius 1, std 0.01; the chapter's "
    "`data.ring()` is the same ring scaled by 2: radius 2, std 0.02). The chapter's live run "
    "trains one seed of each; this table trains 10 seeds to the plateau rule or the cap. "
    "Their comparisons are the chapter's (against the vanilla GAN, and WGAN-GP against "
    "clipping), not matched controls.",
]


def plot_curves(path: Path, result: dict[str, Any]) -> None:
    """Seed-mean % high quality and modes against steps, one line per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p = result["protocol"]
    fig, axes = plt.subplots(2, len(p["data"]), figsize=(6 * len(p["data"]), 6.5),
                             layout="constrained", squeeze=False)  # fmt: skip
    for col, data in enumerate(p["data"]):
        for method in p["methods"]:
            task = task_of(result, data, method)
            curve = task["curve"]
            style = "--" if method in CONTROL.values() else "-"
            for row, key in enumerate(("hq", "modes")):
                axes[row, col].plot(curve["step"], curve[key], style, label=METHODS[method])
                if task["plateau_step"]:
                    axes[row, col].plot(task["plateau_step"], curve[key][-1], "k|", ms=10)
        axes[0, col].set(title=f"{data}: seed mean, | = plateau reached",
                         ylabel="% high quality", ylim=(0, 100))  # fmt: skip
        axes[1, col].set(xlabel="G steps", ylabel=f"modes (of {make_data(data).n_modes})",
                         ylim=(0, make_data(data).n_modes + 0.5))  # fmt: skip
    axes[0, -1].legend(fontsize=7, loc="lower right")
    fig.savefig(path, dpi=80)
    plt.close(fig)


# ----------------------------------------------------------------------------- main


def assemble(done: list[dict[str, Any]], args: argparse.Namespace, methods: list[str],
             datasets: list[str], wall: float, load_before: str) -> dict[str, Any]:  # fmt: skip
    """The JSON of a run from its finished tasks."""
    done.sort(key=lambda t: (datasets.index(t["data"]), methods.index(t["method"])))
    runs = [r for t in done for r in t.pop("runs")]
    result = {
        "name": args.name,
        "command": " ".join(["python bench/mode_collapse.py", *sys.argv[1:]]),
        "finished": time.strftime("%Y-%m-%d %H:%M"),
        "wall_s": wall,
        "cpu_s": sum(t["cpu_seconds"] for t in done),
        "machine": {
            "cpu_count": os.cpu_count(),
            "torch": torch.__version__,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "niceness": os.nice(0),
            "load_before": load_before,
            "load_after": ", ".join(f"{x:.2f}" for x in os.getloadavg()),
        },
        "protocol": {
            "data": datasets,
            "data_specs": {d: DATASETS[d]["build"] for d in datasets},
            "methods": methods,
            "controls": {
                m: controls_of(m)[0] if m in CONTROL else controls_of(m)
                for m in methods
                if controls_of(m)
            },  # fmt: skip
            "n_seeds": args.seeds,
            "seeds": list(range(args.seeds)),
            "max_steps": args.max_steps,
            "min_steps": args.min_steps,
            "every": args.every,
            "window": args.window,
            "tol_hq": args.tol_hq,
            "tol_modes": {d: modes_tolerance(make_data(d).n_modes) for d in datasets},
            "batch_size": BATCH_SIZE,
            "width": args.width,
            "depth": 3,
            "latent_dim": 2,
            "adam": {"lr": LR, "betas": list(gl.train.ADAM_BETAS)},
            "remedies": {m: describe(m) for m in methods},
            "eval": {"samples": EVAL_SAMPLES, "seed": EVAL_SEED, "hq_threshold_std": 3.0},
            "workers": args.workers,
            "threads_per_worker": 1,
            "trainer": "ganlab.batched.fit_many (the seeds of a (data set, method) stacked)",
        },
        "tasks": done,
        "runs": runs,
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 (default 10)")
    parser.add_argument("--max-steps", type=int, default=12_000, help="cap on G steps")
    parser.add_argument("--min-steps", type=int, default=0,
                        help="no plateau before this many G steps (for slow starters, whose "
                        "curves are flat near zero at first; default 0)")  # fmt: skip
    parser.add_argument("--every", type=int, default=500, help="steps between evaluations")
    parser.add_argument("--window", type=int, default=4, help="evaluations in a plateau window")
    parser.add_argument("--tol-hq", type=float, default=2.0,
                        help="plateau: largest change of the seed-mean %% HQ between windows")  # fmt: skip
    parser.add_argument("--methods", default=",".join(DEFAULT_METHODS), help="comma-separated")
    parser.add_argument("--data", default="ring,grid", help="comma-separated: ring, grid")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--width", type=int, default=64, help="hidden units of G and D")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 seeds, 100-step checks")
    parser.add_argument("--out", type=Path, default=None, help="results folder")
    parser.add_argument("--name", default="mode_collapse",
                        help="file names: OUT/NAME.json, NAME.md, NAME_curves.png "
                        "(default mode_collapse; e.g. critics)")  # fmt: skip
    parser.add_argument("--from-partial", action="store_true",
                        help="write the results of the (data set, method) pairs finished so far "
                        "(OUT/NAME.partial.jsonl of a run cut short)")  # fmt: skip
    parser.add_argument("--markdown-only", action="store_true",
                        help="rewrite OUT/NAME.md and the figure from the JSON")  # fmt: skip
    args = parser.parse_args()
    if args.markdown_only:
        out = args.out or RESULTS
        result = json.loads((out / f"{args.name}.json").read_text(encoding="utf-8"))
        result.setdefault("name", args.name)
        write_markdown(out / f"{args.name}.md", result)
        plot_curves(out / f"{args.name}_curves.png", result)
        print(f"rewrote {out / f'{args.name}.md'} and the figure from the JSON")
        return
    if args.quick:
        args.seeds, args.max_steps, args.every, args.window = 2, 400, 100, 2
    out = args.out or (Path(tempfile.mkdtemp(prefix="mode_collapse_")) if args.quick else RESULTS)
    if args.from_partial:
        lines = (out / f"{args.name}.partial.jsonl").read_text(encoding="utf-8").splitlines()
        done = [json.loads(line) for line in lines if line.strip()]
        datasets = [d for d in DATASETS if any(t["data"] == d for t in done)]
        methods = [m for m in METHODS if all(any(t["data"] == d and t["method"] == m
                                                 for t in done) for d in datasets)]  # fmt: skip
        done = [t for t in done if t["method"] in methods]
        args.seeds = len(done[0]["runs"])
        result = assemble(done, args, methods, datasets, math.nan, "unknown")
        result["partial"] = (
            "written by --from-partial from the tasks finished when a run was cut short"
        )
        write_results(out, result)
        return
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    datasets = [d.strip() for d in args.data.split(",") if d.strip()]
    for m in methods:
        if m not in METHODS:
            parser.error(f"unknown method {m!r}; expected some of {', '.join(METHODS)}")
    for d in datasets:
        if d not in DATASETS:
            parser.error(f"unknown data set {d!r}; expected some of {', '.join(DATASETS)}")
    if min(args.seeds, args.max_steps, args.every, args.window, args.workers) < 1:
        parser.error("--seeds, --max-steps, --every, --window and --workers must be positive")
    if args.min_steps < 0:
        parser.error(f"--min-steps must be >= 0, got {args.min_steps}")
    torch.set_num_threads(1)
    load_before = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, {args.workers} workers x 1 thread; "
          f"{len(datasets)} data sets x {len(methods)} methods x {args.seeds} seeds, at most "
          f"{args.max_steps} steps; load {load_before}; results to {out}", flush=True)  # fmt: skip
    tasks = [
        {"data": d, "method": m, "seeds": list(range(args.seeds)), "width": args.width,
         "every": args.every, "window": args.window, "max_steps": args.max_steps,
         "min_steps": args.min_steps, "tol_hq": args.tol_hq}
        for d in datasets
        for m in methods
    ]  # fmt: skip
    # cheapest method first, both data sets of a method together: on a busy machine the
    # methods finished so far make a report (--from-partial) if the run must be cut short
    tasks.sort(key=lambda t: (COST.get(t["method"], 1.0), t["method"]))
    start = time.perf_counter()
    done = []
    out.mkdir(parents=True, exist_ok=True)
    partial = out / f"{args.name}.partial.jsonl"  # each finished task, in case of a crash
    partial.unlink(missing_ok=True)
    with mp.get_context("spawn").Pool(args.workers, initializer=_worker_init) as pool:
        for task in pool.imap_unordered(run_task, tasks):
            done.append(task)
            with partial.open("a", encoding="utf-8") as f:
                f.write(json.dumps(task) + "\n")
            print(f"[{len(done):2d}/{len(tasks)}] {time.perf_counter() - start:6.0f} s  "
                  + task_line(task), flush=True)  # fmt: skip
    wall = time.perf_counter() - start
    result = assemble(done, args, methods, datasets, wall, load_before)
    print(f"done: {wall / 60:.1f} min wall, {result['cpu_s'] / 60:.1f} min CPU", flush=True)
    write_results(out, result)
    partial.unlink()


def write_results(out: Path, result: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    name = result["name"]
    (out / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    write_markdown(out / f"{name}.md", result)
    plot_curves(out / f"{name}_curves.png", result)
    print(f"wrote {out / f'{name}.json'}, {out / f'{name}.md'} and the figure")
    print((out / f"{name}.md").read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
