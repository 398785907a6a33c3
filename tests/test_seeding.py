"""Library functions that take a seed leave the caller's random state alone (issue 20).

Each experiment (and ``batched.stack_players``) seeds torch's global generator for its initial
weights under ``_checks.restores_global_rng``: after the call, torch's, Python's and NumPy's
global states are what they were before. And the runs are the ones they were when the
experiments still called ``train.seed_everything``: the ``BEFORE`` numbers were measured on
that code (commit 67b928c), so no chapter's printed number moves.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from ganlab import _checks, batched, data, experiments, models, train


def weight_sum(module: torch.nn.Module) -> float:
    return float(sum(p.detach().double().sum() for p in module.parameters()))


# Each family's run, small, and what it gave before the change (same machine, commit 67b928c).
RUNS = {
    "head_start_run": (
        lambda: experiments.head_start_run(steps=20, head_start=10, every=10, seed=3),
        lambda r: [weight_sum(r.G), weight_sum(r.D), r.distance[-1], r.history.loss_D[-1]],
        [-1.3440522757327926, 3.6503145727820083, 3.0311445257365706, 0.5228926539421082],
    ),
    "build_players": (
        lambda: experiments.build_players(data.ring(), "WGAN-GP", 16, 2),
        lambda r: [weight_sum(r[0]), weight_sum(r[1])],
        [-4.913884688168764, -1.212123766541481],
    ),
    "remedy_run": (  # WGAN-GP: fit draws its interpolation weights from the global generator
        lambda: experiments.remedy_run(
            data.ring(), "WGAN-GP", steps=12, seed=1, width=16, batch_size=32, every=6, n_eval=200
        ),
        lambda r: [weight_sum(r.G), weight_sum(r.D)],
        [3.1589176398701966, -3.2624586573801935],
    ),
    "remedy_runs": (
        lambda: experiments.remedy_runs(
            data.ring(),
            "WGAN-GP",
            steps=12,
            seeds=(0, 1),
            width=16,
            batch_size=32,
            every=6,
            n_eval=200,
        ),
        lambda rs: [weight_sum(r.G) for r in rs] + [weight_sum(r.D) for r in rs],
        [-3.3603981405467493, 3.1589176987763494, -2.503922420553863, -3.262458630342735],
    ),
    "frozen_d_run": (
        lambda: experiments.frozen_d_run(
            data.ring(),
            pre_steps=10,
            g_steps=10,
            seed=2,
            width=16,
            batch_size=32,
            every=5,
            n_eval=200,
        ),
        lambda r: [float(r.argmax.sum()), r.near_argmax[-1], r.spread[-1]],
        [0.0, 0.0, 0.19961529970169067],
    ),
    "critic_run WGAN-GP": (
        lambda: experiments.critic_run(
            data.ring(), "WGAN-GP", steps=10, seed=1, width=16, batch_size=32, every=5, n_eval=200
        ),
        lambda r: [weight_sum(r.G), weight_sum(r.D), r.quality[-1]],
        [3.2128387382254004, -2.9270852770750935, 1.2660237485524488],
    ),
    "critic_run SN": (  # spectral normalisation draws its first vector from the global generator
        lambda: experiments.critic_run(
            data.ring(), "SN", steps=10, seed=1, width=16, batch_size=32, every=5, n_eval=200
        ),
        lambda r: [weight_sum(r.G), weight_sum(r.D), r.quality[-1]],
        [3.5303203447256237, -3.466013421479147, 1.2658533877896663],
    ),
    "trained_critics_1d": (
        lambda: experiments.trained_critics_1d(steps=15, seed=2, width=16),
        lambda c: [weight_sum(c["minimax"]), weight_sum(c["WGAN-GP"])],
        [-6.560685297998134, -6.709489908651449],
    ),
    "cycle_run": (
        lambda: experiments.cycle_run(
            data.ring(), data.square_ring(), 10.0, steps=15, seed=1, width=16, batch_size=32
        ),
        lambda r: [weight_sum(r.G), weight_sum(r.F), r.cycle_error_a, r.cycle_error_b],
        [3.395469988347031, -3.9112111924332567, 2.003051280975342, 2.419079065322876],
    ),
    "paired_run": (
        lambda: experiments.paired_run(
            adversarial_weight=1.0, steps=15, seed=1, width=16, batch_size=32
        ),
        lambda r: [weight_sum(r.G), float(r.y.sum())],
        [2.0701766494312324, -27.63126564025879],
    ),
    "style_toy": (
        lambda: experiments.style_toy(seed=1, steps=15, width=16, batch_size=32, n_eval=200),
        lambda r: [weight_sum(r.z_fed), weight_sum(r.w_fed), r.r2["z-fed"], r.r2["w-fed"]],
        [2.226722645224072, 3.4057593311881647, 0.9530189845519893, 0.9825319524047517],
    ),
}


def global_states() -> tuple[torch.Tensor, object, object]:
    return torch.get_rng_state(), random.getstate(), np.random.get_state()


def assert_same_states(before, after) -> None:
    assert torch.equal(before[0], after[0]), "torch's global generator moved"
    assert before[1] == after[1], "Python's random moved"
    assert all(np.array_equal(a, b) for a, b in zip(before[2], after[2], strict=True)), "NumPy"


@pytest.mark.parametrize("name", list(RUNS))
def test_the_run_leaves_the_global_rng_alone_and_gives_what_it_gave_before(name):
    run, measure, before = RUNS[name]
    torch.manual_seed(123)  # a caller's state, unlike the run's seed
    random.seed(5)
    np.random.seed(6)
    states = global_states()
    result = run()
    assert_same_states(states, global_states())
    assert measure(result) == pytest.approx(before, rel=1e-4, abs=1e-6)


def test_a_run_does_not_depend_on_the_callers_state():
    torch.manual_seed(1)
    first = experiments.paired_run(adversarial_weight=1.0, steps=5, seed=4, width=8)
    torch.rand(17)  # the caller draws: the run must not see it
    again = experiments.paired_run(adversarial_weight=1.0, steps=5, seed=4, width=8)
    assert torch.equal(first.y, again.y)


def test_stack_players_leaves_the_global_rng_alone_and_builds_what_seed_everything_did():
    def build():
        return models.MLPGenerator(2, 2, 8), models.MLPDiscriminator(2, 8)

    torch.manual_seed(99)
    states = global_states()
    G, D, rngs = batched.stack_players(build, [3, 0])
    assert_same_states(states, global_states())
    for s, seed in enumerate([3, 0]):
        train.seed_everything(seed)
        G_alone, D_alone = build()
        assert torch.equal(rngs[s].get_state(), torch.get_rng_state())  # the state after it
        for a, b in ((G_alone, G.unstack(s)), (D_alone, D.unstack(s))):
            for p, q in zip(a.parameters(), b.parameters(), strict=True):
                assert torch.equal(p, q)


def test_seed_torch_draws_as_seed_everything_and_rejects_bad_seeds():
    @_checks.restores_global_rng
    def draw(seed: int) -> torch.Tensor:
        _checks.seed_torch(seed)
        return torch.rand(5)

    train.seed_everything(7)
    expected = torch.rand(5)
    state = torch.get_rng_state()
    assert torch.equal(draw(7), expected)
    assert torch.equal(torch.get_rng_state(), state)
    for bad in (-1, 1.5, True, "0"):
        with pytest.raises(ValueError, match="seed must be a non-negative integer"):
            draw(bad)
    assert torch.equal(torch.get_rng_state(), state)  # restored after an error too
