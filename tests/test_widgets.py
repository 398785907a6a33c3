"""ganlab.widgets: the 2-D playground driven from code, with no display; plot's playground layers."""

from __future__ import annotations

import ast
import copy
import io
import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import BATCH, WIDTH
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from torch import nn
from torch.testing import assert_close

from ganlab import data, losses, metrics, models, plane, plot, train, widgets

# Small everything: a full update costs a few ms, a picture a few tens of ms.
SMALL = {
    "width": WIDTH,
    "depth": 2,
    "batch_size": BATCH,
    "resolution": 16,
    "n_samples": 64,
    "n_arrows": 8,
    "steps_per_frame": 3,
}


def small(**overrides) -> widgets.Playground:
    return widgets.Playground(**{**SMALL, **overrides})


def params(module: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def same(module: nn.Module, expected: list[torch.Tensor]) -> bool:
    return all(torch.equal(p, q) for p, q in zip(module.parameters(), expected, strict=True))


def changed_everywhere(module: nn.Module, before: list[torch.Tensor]) -> bool:
    return all(not torch.equal(p, q) for p, q in zip(module.parameters(), before, strict=True))


# ----------------------------------------------------------------------------- headless import


@pytest.mark.parametrize("module", sorted(Path(widgets.__file__).parent.glob("*.py")), ids=str)
def test_the_widget_modules_import_ipywidgets_only_inside_functions(module):
    """So that ``import ganlab`` works headless, without ipywidgets installed."""
    tree = ast.parse(module.read_text())
    imported = set()
    for node in tree.body:  # module level only
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
    assert not any(name.split(".")[0] == "ipywidgets" for name in imported)


def test_without_ipywidgets_the_playground_works_and_the_widget_says_how_to_get_it(
    monkeypatch, capsys
):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # `import ipywidgets` now fails
    pg = small()
    pg.step()
    with pytest.raises(ImportError, match=re.escape("needs ipywidgets (pip install ipywidgets)")):
        pg.widget  # noqa: B018
    pg._ipython_display_()  # falls back to the picture and a hint
    assert "the live controls need ipywidgets" in capsys.readouterr().out


# ----------------------------------------------------------------------------- stepping


def test_step_d_updates_only_D():
    pg = small()
    G0, D0 = params(pg.G), params(pg.D)
    stats = pg.step_d()
    assert same(pg.G, G0)
    assert changed_everywhere(pg.D, D0)
    assert set(stats) == {"loss_D", "p_real", "p_fake", "grad_norm_D"}
    assert (pg.d_updates, pg.g_updates, len(pg.history)) == (1, 0, 0)


def test_step_g_updates_only_G_and_records_a_row():
    pg = small()
    pg.step_d()
    G0, D0 = params(pg.G), params(pg.D)
    stats = pg.step_g()
    assert same(pg.D, D0)
    assert changed_everywhere(pg.G, G0)
    assert (pg.g_updates, pg.history.step) == (1, [1])
    assert pg.history.loss_G == [stats["loss_G"]]
    assert math.isfinite(pg.history.grad_norm_D[0])  # from the D update before it


def test_g_step_without_a_d_step_measures_D_without_updating_it():
    pg = small()
    D0 = params(pg.D)
    pg.step_g()
    assert same(pg.D, D0)
    row = pg.history.last()
    assert 0 < row["p_real"] < 1 and 0 < row["p_fake"] < 1
    assert math.isnan(row["grad_norm_D"])  # no D update happened


def test_step_runs_k_d_updates_then_one_g_update():
    pg = small(d_steps=3)
    row = pg.step(2)
    assert (pg.d_updates, pg.g_updates) == (6, 2)
    assert pg.history.step == [1, 2]
    assert row == pg.history.last()


def test_same_seed_gives_the_same_run():
    a, b = small(seed=4), small(seed=4)
    a.step(3)
    b.step(3)
    assert a.history.as_dict() == b.history.as_dict()
    assert same(b.G, params(a.G))


LOSS_AND_OPTIMIZER = [
    ("nonsaturating", "adam"),
    ("saturating", "sgd"),
    ("nonsaturating", "rmsprop"),
]


@pytest.mark.parametrize(("loss", "optimizer"), LOSS_AND_OPTIMIZER)
def test_the_playground_steps_are_d_step_and_g_step(loss, optimizer):
    """Same seed, models, optimisers and batches: the playground's updates are, to the bit,
    train.d_step (in one D pass) and train.g_step, drawn in train.fit's order."""
    pg = small(loss=loss, optimizer=optimizer, d_steps=2, lr_G=1e-2)
    G, D = copy.deepcopy(pg.G), copy.deepcopy(pg.D)
    multi_tensor = widgets._playground_state._multi_tensor
    opt_D = multi_tensor(train.OPTIMIZERS[optimizer](D.parameters(), pg.lr_D))
    opt_G = multi_tensor(train.OPTIMIZERS[optimizer](G.parameters(), 1e-2))
    d_loss, g_loss = losses.get_losses(loss)
    rng = torch.Generator().manual_seed(pg.seed)  # the playground's batches
    cpu = torch.device("cpu")
    for _ in range(3):
        for _ in range(2):
            x_real = train.sample_real(pg.dist, BATCH, rng, cpu)
            z = train.sample_noise(G, BATCH, rng, cpu)
            expected = train.d_step(G, D, x_real, z, opt_D, d_loss, one_pass=True)
            assert pg.step_d() == expected
        z = train.sample_noise(G, BATCH, rng, cpu)
        assert pg.step_g() == train.g_step(G, D, z, opt_G, g_loss)
    assert same(pg.D, params(D)) and same(pg.G, params(G))


@pytest.mark.parametrize(("loss", "optimizer"), LOSS_AND_OPTIMIZER)
def test_the_playground_trains_as_train_fit_does(loss, optimizer):
    """From the same seed and models, the playground's History is train.fit's with the
    package's optimisers, up to rounding (one D pass, multi-tensor optimiser steps)."""
    pg = small(loss=loss, optimizer=optimizer, d_steps=2, lr_G=1e-2)
    G, D = copy.deepcopy(pg.G), copy.deepcopy(pg.D)
    opt_D = train.OPTIMIZERS[optimizer](D.parameters(), pg.lr_D)
    opt_G = train.OPTIMIZERS[optimizer](G.parameters(), 1e-2)
    pg.step(3)
    history = train.fit(
        G, D, pg.dist, 3, batch_size=BATCH, d_steps=2, loss=loss,
        opt_D=opt_D, opt_G=opt_G, seed=pg.seed, progress=False,
    )  # fmt: skip
    for name, column in history.as_dict().items():
        assert_close(getattr(pg.history, name), column, rtol=1e-5, atol=1e-6)
    assert_close(params(pg.D), params(D))
    assert_close(params(pg.G), params(G))


def test_optimizers_keep_the_package_class_and_settings():
    pg = small()
    assert type(pg.opt_D) is torch.optim.Adam
    assert pg.opt_D.param_groups[0]["betas"] == train.ADAM_BETAS
    assert pg.opt_G.param_groups[0]["params"] == list(pg.G.parameters())
    pg.set(optimizer="rmsprop", lr_D=2e-3)
    assert type(pg.opt_D) is torch.optim.RMSprop
    assert pg.opt_D.param_groups[0]["lr"] == 2e-3


def test_an_optimizer_without_a_multi_tensor_step_is_kept_as_it_is():
    class Plain(torch.optim.SGD):
        def __init__(self, params, lr=0.1):  # takes neither fused nor foreach
            super().__init__(params, lr=lr)

    opt = Plain([nn.Parameter(torch.zeros(2))])
    assert widgets._playground_state._multi_tensor(opt) is opt


def test_step_rejects_a_non_positive_count():
    with pytest.raises(ValueError, match="n must be a positive integer, got 0"):
        small().step(0)


def test_a_nan_loss_raises_training_diverged_and_leaves_D_unchanged():
    pg = small()
    pg.d_loss = lambda d_real, d_fake: (d_real.mean() + d_fake.mean()) * math.nan
    D0 = params(pg.D)
    with pytest.raises(train.TrainingDiverged, match="loss_D = nan"):
        pg.step()
    assert same(pg.D, D0)


def test_stepping_uses_threads_and_restores_the_setting():
    old = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        pg = small(threads=1)
        seen = []
        pg.d_loss = lambda r, f: (
            seen.append(torch.get_num_threads()),
            losses.d_loss_minimax(r, f),
        )[1]
        pg.step()
        assert seen == [1]
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(old)


# ----------------------------------------------------------------------------- reset and seeds


def test_reset_restores_the_seeded_initial_weights_and_empties_history():
    pg = small(seed=3)
    G0, D0 = params(pg.G), params(pg.D)
    pg.step(2)
    pg.reset()
    assert same(pg.G, G0) and same(pg.D, D0)
    assert (len(pg.history), pg.d_updates, pg.g_updates) == (0, 0, 0)
    pg.step(2)
    again = small(seed=3)
    again.step(2)
    assert pg.history.as_dict() == again.history.as_dict()  # batches restart too


def test_initial_weights_match_seed_everything_and_leave_the_global_rng_alone(make_models):
    G, D = make_models(seed=5, width=WIDTH, depth=2)  # seed_everything(5), then G, then D
    torch.manual_seed(123)
    state = torch.get_rng_state()
    pg = small(seed=5)
    assert torch.equal(torch.get_rng_state(), state)
    assert same(pg.G, params(G)) and same(pg.D, params(D))


def test_reset_with_a_new_seed_changes_the_weights():
    pg = small(seed=0)
    G0 = params(pg.G)
    pg.reset(seed=1)
    assert pg.seed == 1
    assert not same(pg.G, G0)


# ----------------------------------------------------------------------------- controls


def test_set_learning_rates_acts_on_the_running_optimizers():
    pg = small()
    pg.step()
    opt_D = pg.opt_D
    state = opt_D.state_dict()["state"]
    pg.set(lr_D=3e-4, lr_G=2e-2)
    assert pg.opt_D is opt_D  # same optimiser, Adam's moments kept
    assert opt_D.state_dict()["state"].keys() == state.keys()
    assert [g["lr"] for g in pg.opt_D.param_groups] == [3e-4]
    assert [g["lr"] for g in pg.opt_G.param_groups] == [2e-2]
    assert len(pg.history) == 1  # not a reset


def test_set_loss_switches_the_g_loss():
    pg = small()
    pg.step()
    assert pg.history.loss_G[-1] > 0  # non-saturating: -log D(G(z)) > 0
    pg.set(loss="saturating")
    assert pg.g_loss is losses.g_loss_saturating
    pg.step()
    assert pg.history.loss_G[-1] < 0  # saturating: log(1 - D(G(z))) < 0
    assert len(pg.history) == 2


def test_set_d_steps_changes_the_d_updates_per_update():
    pg = small()
    pg.step()
    pg.set(d_steps=4)
    pg.step()
    assert (pg.d_updates, pg.g_updates) == (5, 2)


@pytest.mark.parametrize(
    ("name", "kind"),
    [("sgd", torch.optim.SGD), ("rmsprop", torch.optim.RMSprop), ("Adam", torch.optim.Adam)],
)
def test_set_optimizer_builds_new_ones_for_the_current_models(name, kind):
    pg = small(optimizer="sgd" if name == "Adam" else "adam", lr_D=5e-3, lr_G=2e-3)
    pg.step()
    G1 = params(pg.G)
    pg.set(optimizer=name)
    assert isinstance(pg.opt_D, kind) and isinstance(pg.opt_G, kind)
    assert pg.opt_D.param_groups[0]["params"] == list(pg.D.parameters())
    assert pg.opt_G.param_groups[0]["params"] == list(pg.G.parameters())
    assert (pg.opt_D.param_groups[0]["lr"], pg.opt_G.param_groups[0]["lr"]) == (5e-3, 2e-3)
    assert same(pg.G, G1) and len(pg.history) == 1  # the models and run go on
    pg.step()
    assert len(pg.history) == 2


def test_set_width_rebuilds_the_networks_and_restarts():
    pg = small()
    pg.step()
    pg.set(width=8)
    assert pg.G.net[0].out_features == 8 and pg.D.net[0].out_features == 8
    assert pg.opt_D.param_groups[0]["params"] == list(pg.D.parameters())
    assert len(pg.history) == 0
    pg.step()
    assert len(pg.history) == 1


def test_set_data_switches_the_distribution_and_restarts():
    pg = small()
    pg.step()
    pg.set(data="grid")
    assert (pg.data, pg.dist.n_modes, len(pg.history)) == ("grid", 25, 0)
    assert pg.coverage(n=200).n_modes == 25
    assert pg.render() is pg.figure() is pg.view.figure
    custom = data.ring(modes=3, radius=1.0)
    pg.set(data=custom)
    assert pg.dist is custom and pg.data == "ring3"
    pg.set(data="ring")
    pg.set(data="ring3")  # a mixture passed once can be picked again by its name
    assert pg.dist is custom


def test_set_the_same_data_or_width_does_not_restart():
    pg = small()
    pg.step()
    pg.set(data="ring", width=WIDTH)
    assert len(pg.history) == 1


def test_set_checks_every_value_before_applying_any():
    pg = small(lr_D=1e-3)
    with pytest.raises(ValueError, match="'bogus'"):
        pg.set(lr_D=0.5, loss="bogus")
    assert pg.lr_D == 1e-3 and pg.opt_D.param_groups[0]["lr"] == 1e-3


@pytest.mark.parametrize(
    ("kwargs", "error", "named"),
    [
        ({"data": "moons"}, ValueError, "unknown data 'moons'"),
        ({"data": data.mixture_1d([0.0], 1.0)}, ValueError, "must be 2-D"),
        ({"loss": "wasserstein?"}, ValueError, "unknown loss kind 'wasserstein?'"),
        ({"optimizer": "adagrad"}, ValueError, "unknown optimizer 'adagrad'"),
        ({"width": 0}, ValueError, "width must be a positive integer, got 0"),
        ({"lr_G": -1.0}, ValueError, "lr_G must be a positive finite number, got -1.0"),
        ({"seed": -2}, ValueError, "seed must be a non-negative integer, got -2"),
    ],
)
def test_bad_values_raise_errors_that_name_them(kwargs, error, named):
    with pytest.raises(error, match=re.escape(named)):
        small(**kwargs)
    pg = small()
    with pytest.raises(error, match=re.escape(named)):
        pg.set(**kwargs)


def test_unknown_control_names_raise_a_type_error_naming_them():
    with pytest.raises(TypeError, match="'temperature'"):
        small().set(temperature=2.0)


def test_controls_lists_the_current_values():
    pg = small(loss="saturating", d_steps=2)
    assert pg.controls["loss"] == "saturating" and pg.controls["d_steps"] == 2
    assert set(pg.controls) == set(widgets.CONTROLS)


# ----------------------------------------------------------------------------- metrics, picture


def test_coverage_counts_the_modes_of_generated_samples():
    pg = small()
    cov = pg.coverage(n=500)
    assert isinstance(cov, metrics.ModeCoverage)
    assert cov.n_modes == 8 and 0 <= cov.modes <= 8


def test_render_returns_the_figure_and_redraws_it_in_place():
    pg = small()
    fig = pg.render()
    assert isinstance(fig, Figure)
    artists = (pg.view.art["heat"], pg.view.art["fake"], pg.view.art["arrows"])
    pg.step(2)
    assert pg.render() is fig
    assert (pg.view.art["heat"], pg.view.art["fake"], pg.view.art["arrows"]) == artists
    assert pg.view.art["label"].get_text() == f"ring, step 2: {pg._shown.modes}/8 modes"
    heat = pg.view.art["heat"].get_array()
    assert heat.shape == (16, 16) and 0 <= heat.min() <= heat.max() <= 1
    assert pg.view.art["fake"].get_offsets().shape == (64, 2)
    assert pg.view.art["arrows"].N == 8
    fig.canvas.draw()  # the full Agg draw works
    assert fig._repr_png_()[:4] == b"\x89PNG"  # shown in IPython even without pyplot's backend


def test_the_fast_picture_equals_a_full_draw():
    """image() redraws only the changing artists over a cached background."""
    pg = small()
    pg.step(2)
    pg.image()  # caches the background
    pg.step(1)
    png = pg.image()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    fast = np.asarray(pg.view.figure.canvas.buffer_rgba()).copy()
    pg.view.figure.canvas.draw()
    full = np.asarray(pg.view.figure.canvas.buffer_rgba())
    assert np.abs(fast.astype(int) - full.astype(int)).mean() < 0.5


def test_the_png_holds_exactly_the_figure_pixels():
    from PIL import Image

    pg = small()
    png = pg.image()
    decoded = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    assert np.array_equal(decoded, np.asarray(pg.view.figure.canvas.buffer_rgba())[..., :3])
    assert pg.image("jpeg")[:3] == b"\xff\xd8\xff"
    with pytest.raises(ValueError, match="unknown image format 'gif'"):
        pg.image("gif")


def test_half_contour_is_where_the_heatmap_crosses_one_half():
    """D(x) = sigmoid(2 x) on the grid: the D = 1/2 contour is the line x = 0."""
    points = plane.plane_grid(2.0, 16)
    heat = torch.sigmoid(2 * points[:, 0]).reshape(16, 16).numpy()
    (line,) = widgets._playground_view._half_contour(heat, limit=2.0)
    assert_close(line[:, 0], np.zeros(len(line)), atol=1e-6, rtol=0)
    assert line[:, 1].min() < -1.8 and line[:, 1].max() > 1.8  # across the whole picture
    assert widgets._playground_view._half_contour(np.full((16, 16), 0.7), limit=2.0) == []


def test_the_optimum_toggle_shows_d_star_and_arrows_can_be_hidden():
    pg = small(data="two_gaussians")
    pg.set(show_optimum=True, show_arrows=False)
    pg.render()
    assert "D*(x)" in pg.view.art["title"].get_text()
    assert not pg.view.art["arrows"].get_visible()
    heat = pg.view.art["heat"].get_array()
    assert 0 <= heat.min() and heat.max() <= 1


def test_optimal_discriminator_grid_is_p_data_over_the_sum():
    dist = data.two_gaussians()
    x_fake = dist.sample(300, seed=0) + torch.tensor([0.0, 1.0])
    d_star = widgets._optimal_discriminator_grid(dist, x_fake, limit=4.0, resolution=8)
    points = plane.plane_grid(4.0, 8).to(torch.float64)
    from ganlab import theory

    p_g = theory.gaussian_kde(x_fake.to(torch.float64), points)
    expected = dist.prob(points) / (dist.prob(points) + p_g)
    assert_close(d_star, expected.reshape(8, 8).float())


# ----------------------------------------------------------------------------- the widget


def test_the_widget_builds_headless_and_play_ticks_run_steps():
    pytest.importorskip("ipywidgets")
    pg = small()
    box = pg.widget
    assert pg.widget is box
    ui = pg._ui
    assert ui["image"].value[:4] == b"\x89PNG"
    ui["play"].value += 1  # what the browser's Play loop sends every interval
    assert pg.g_updates == 3 and pg.d_updates == 3
    assert re.search(r"<b>\d/8 modes</b>", ui["status"].value)
    assert "step 3" in ui["status"].value


def test_ticks_queued_during_a_frame_are_dropped_while_playing():
    pytest.importorskip("ipywidgets")
    pg = small()
    play = pg.widget.children[0].children[0]
    assert play is pg._ui["play"]
    playing = widgets._playing_trait(play)
    setattr(play, playing, True)
    play.value += 1
    play.value += 1  # arrives right after the frame: a backlog tick, dropped
    assert pg.g_updates == 3
    pg._frame_end = -math.inf
    play.value += 1
    assert pg.g_updates == 6


def test_play_ticks_from_50_ms_and_shows_the_rate_pictures_are_sent(monkeypatch):
    """The Play interval starts at 50 ms (a 100 ms floor capped the page at 10 pictures/s)
    and grows to fit a slow frame; frames/s is pictures sent per second, not 1 / compute."""
    pytest.importorskip("ipywidgets")
    from ganlab.widgets import playground

    pg = small()
    pg.widget  # noqa: B018 (builds it)
    play = pg._ui["play"]
    assert play.interval == 50
    # Each tick reads the clock three times: its start, its frame's end, then _frame_end.
    clock = iter([0.0, 0.02, 0.02, 0.1, 0.12, 0.12, 0.3, 0.32, 0.32, 1.0, 1.2, 1.2])
    monkeypatch.setattr(playground, "time", type("Clock", (), {"perf_counter": clock.__next__}))
    play.value += 1
    assert math.isnan(pg._fps)  # one picture: no rate yet
    play.value += 1  # 0.1 s after the first picture (each took 20 ms to compute, not 100)
    assert pg._fps == pytest.approx(10.0)
    play.value += 1  # 0.2 s later: the average moves a fifth of the way to 5
    assert pg._fps == pytest.approx(9.0)
    assert play.interval == 50  # 20 ms frames: the fastest tick
    play.value += 1  # a 200 ms frame: the interval grows to 1.15 x 200 ms
    assert play.interval == pytest.approx(230, abs=1)
    pg.refresh()
    assert "frames/s" in pg._ui["status"].value


def test_widget_buttons_and_controls_drive_the_playground():
    pytest.importorskip("ipywidgets")
    pg = small()
    pg.widget  # noqa: B018 (builds it)
    ui = pg._ui
    ui["d_button"].click()
    assert (pg.d_updates, pg.g_updates) == (1, 0)
    ui["g_button"].click()
    ui["update_button"].click()
    assert (pg.d_updates, pg.g_updates) == (2, 2)
    ui["lr_D"].value = 1e-2
    assert pg.opt_D.param_groups[0]["lr"] == pytest.approx(1e-2)
    ui["loss"].value = "saturating"
    assert pg.g_loss is losses.g_loss_saturating
    ui["optimizer"].value = "sgd"
    assert isinstance(pg.opt_G, torch.optim.SGD)
    ui["d_steps"].value = 2
    assert pg.d_steps == 2
    ui["width"].value = 8
    assert pg.G.net[0].out_features == 8 and pg.g_updates == 0
    ui["data"].value = "spiral"
    assert pg.dist.n_modes == 20
    ui["reset_button"].click()
    assert pg.g_updates == 0


def test_changes_made_from_code_show_in_the_widget():
    pytest.importorskip("ipywidgets")
    pg = small()
    pg.widget  # noqa: B018 (builds it)
    ui = pg._ui
    pg.set(d_steps=25, width=20, loss="saturating")
    assert (ui["d_steps"].value, ui["width"].value, ui["loss"].value) == (25, 20, "saturating")
    assert pg.G.net[0].out_features == 20


def test_an_error_during_play_pauses_and_shows_in_the_status_line():
    pytest.importorskip("ipywidgets")
    pg = small()
    pg.widget  # noqa: B018 (builds it)
    ui = pg._ui
    pg.d_loss = lambda d_real, d_fake: (d_real.mean() + d_fake.mean()) * math.nan
    playing = widgets._playing_trait(ui["play"])
    setattr(ui["play"], playing, True)
    ui["play"].value += 1  # must not raise into the widget machinery
    assert getattr(ui["play"], playing) is False
    assert "TrainingDiverged" in ui["status"].value


# ----------------------------------------------------------------------------- static fallback


def test_playground_animation_is_a_playable_reproducible_js_animation():
    kwargs = {**SMALL, "steps": 4, "every": 2}
    kwargs.pop("steps_per_frame")
    html = widgets.playground_animation("two_gaussians", **kwargs)
    assert html.count("data:image/jpeg;base64,") == 3  # steps 0, 2, 4
    for control in ("play_animation", "pause_animation", "next_frame", "anim-slider"):
        assert control in html
    assert widgets.playground_animation("two_gaussians", **kwargs) == html  # no random ids


def test_animation_rejects_bad_arguments():
    pg = small()
    with pytest.raises(ValueError, match="every must be a positive integer, got 0"):
        pg.animation(steps=10, every=0)
    with pytest.raises(ValueError, match="1000 frames"):
        pg.animation(steps=1000, every=1)


# ----------------------------------------------------------------------------- plot layers


def axes() -> plot.Axes:
    fig = Figure()
    FigureCanvasAgg(fig)
    return fig.add_subplot()


class Linear(nn.Module):
    """score(x) = w . x, a D whose gradient is w everywhere."""

    def __init__(self, w: tuple[float, float]) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.w


def test_decision_heatmap_shows_sigmoid_of_the_score_with_its_half_contour():
    ax = axes()
    assert plot.decision_heatmap(Linear((1.0, 0.0)), ax=ax, limit=2.0, resolution=8) is ax
    image = ax.get_images()[0].get_array()
    axis = plane.plane_grid(2.0, 8)[:8, 0]
    assert_close(torch.as_tensor(image[0]), torch.sigmoid(axis).double(), check_dtype=False)
    assert len(ax.collections) == 1  # the D(x) = 1/2 contour, here the line x = 0


def test_generator_arrows_point_along_minus_the_g_loss_gradient():
    """For score = w . x, -grad_x of -log sigmoid(w . x) is (1 - D(x)) w / B: along w."""
    G = models.MLPGenerator(width=8, depth=1)
    D = Linear((3.0, 4.0))
    z = torch.randn(5, 2, generator=torch.Generator().manual_seed(0))
    x_fake, direction = plane.generator_directions(G, D, z, "nonsaturating")
    with torch.no_grad():
        expected = (1 - torch.sigmoid(G(z) @ D.w))[:, None] * D.w / 5
    assert_close(direction, expected)
    assert D.w.grad is None and all(p.grad is None for p in G.parameters())
    ax = plot.generator_arrows(G, D, z, losses.g_loss_nonsaturating, ax=axes(), length=0.5)
    quiver = ax.collections[0]
    lengths = np.hypot(quiver.U, quiver.V)
    assert lengths.max() == pytest.approx(0.5)
    assert_close(torch.as_tensor(quiver.get_offsets()), x_fake, check_dtype=False)
