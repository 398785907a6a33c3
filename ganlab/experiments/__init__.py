"""Controlled training experiments that the chapters, widgets and benchmarks share, one
module per chapter: ``saturation`` (chapter 2), ``mode_collapse`` (3), ``critics`` (6) and
``toys`` (7). Each experiment fixes everything but the one thing it varies: the same seed
gives the same initial weights and the same batches, so two runs differ only in the setting
under study. An experiment seeds torch's global generator for its initial weights, but the
caller's random state is restored when it returns (``_checks.restores_global_rng``): calling
one changes no later draw. The chapters use the names below, ``gl.experiments.<name>``; the
experiments' data sets (``far_data``, ``square_ring``, ``two_answer_pairs``,
``missing_corner``) live in ``ganlab.data`` and are re-exported here too.
"""

from __future__ import annotations

from ganlab.data import far_data, missing_corner, square_ring, two_answer_pairs
from ganlab.experiments.critics import (
    CRITICS,
    Critic,
    CriticRun,
    critic_run,
    trained_critics_1d,
)
from ganlab.experiments.mode_collapse import (
    REMEDIES,
    FrozenRun,
    Remedy,
    RemedyRun,
    benchmark_results,
    build_players,
    frozen_d_run,
    remedy_run,
    remedy_runs,
)
from ganlab.experiments.saturation import (
    HEAD_START,
    Run,
    compare_generator_losses,
    distance_to_data,
    head_start_run,
)
from ganlab.experiments.toys import (
    CycleRun,
    MappedGenerator,
    PairedRun,
    StyleToyRun,
    cycle_run,
    linear_r2,
    paired_run,
    path_length_ratio,
    quadrant_shares,
    style_toy,
)

__all__ = [
    "far_data",
    "HEAD_START",
    "Run",
    "distance_to_data",
    "head_start_run",
    "compare_generator_losses",
    "Remedy",
    "REMEDIES",
    "build_players",
    "RemedyRun",
    "remedy_run",
    "remedy_runs",
    "FrozenRun",
    "frozen_d_run",
    "benchmark_results",
    "CRITICS",
    "Critic",
    "CriticRun",
    "critic_run",
    "trained_critics_1d",
    "square_ring",
    "CycleRun",
    "cycle_run",
    "PairedRun",
    "two_answer_pairs",
    "paired_run",
    "missing_corner",
    "MappedGenerator",
    "linear_r2",
    "path_length_ratio",
    "quadrant_shares",
    "StyleToyRun",
    "style_toy",
]
