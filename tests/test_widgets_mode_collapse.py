"""ganlab.widgets.ModeCollapseLab and mode_collapse_animation, driven headless."""

from __future__ import annotations

import pytest

from ganlab import experiments, metrics, widgets
from ganlab.widgets import mode_collapse_animation


@pytest.fixture
def lab():
    lab = widgets.ModeCollapseLab(data="ring", remedy="vanilla", seed=0, steps_per_click=10)
    return lab


def test_train_appends_steps_and_coverage(lab):
    assert lab.steps == [0] and len(lab.coverages) == 1
    coverage = lab.train()
    assert lab.steps == [0, 10]
    assert isinstance(coverage, metrics.ModeCoverage) and coverage.n_modes == 8
    lab.train(5)
    assert lab.steps == [0, 10, 15] and len(lab.history) == 15
    assert "vanilla" in lab.status() and "step 15" in lab.status()


def test_the_same_seed_trains_the_same_generator():
    a = widgets.ModeCollapseLab(seed=3, steps_per_click=8)
    b = widgets.ModeCollapseLab(seed=3, steps_per_click=8)
    a.train()
    b.train()
    assert a.history.loss_G == b.history.loss_G


@pytest.mark.parametrize("remedy", list(experiments.REMEDIES))
def test_every_remedy_trains_in_the_lab(remedy):
    lab = widgets.ModeCollapseLab(data="grid", remedy=remedy, seed=0, steps_per_click=4)
    lab.train()
    assert lab.coverages[-1].n_modes == 25
    assert all(map(lambda v: v == v, lab.history.loss_D))  # no NaN


def test_the_lab_uses_each_remedys_learning_rates():
    unrolled = widgets.ModeCollapseLab(remedy="unrolled 5")
    assert unrolled.opt_D.param_groups[0]["lr"] == 1e-4
    assert unrolled.opt_G.param_groups[0]["lr"] == 1e-3
    wgan = widgets.ModeCollapseLab(remedy="WGAN-GP")
    assert [wgan.opt_D.param_groups[0][k] for k in ("lr", "betas")] == [1e-4, (0.5, 0.9)]
    assert wgan.config is experiments.REMEDIES["WGAN-GP"].config


def test_reset_builds_new_players_and_rejects_unknown_names(lab):
    lab.train()
    lab.reset(remedy="PacGAN2")
    assert lab.remedy == "PacGAN2" and lab.steps == [0] and len(lab.history) == 0
    with pytest.raises(ValueError, match="unknown data 'moon'"):
        lab.reset(data="moon")
    with pytest.raises(ValueError, match="unknown remedy 'dropout'"):
        lab.reset(remedy="dropout")


def test_figure_and_png(lab):
    lab.train()
    assert lab.png().startswith(b"\x89PNG")


def test_widget_buttons_train_and_reset(lab, monkeypatch):
    pytest.importorskip("ipywidgets")
    monkeypatch.setattr(lab, "png", lambda: b"")
    ui = lab.widget
    buttons = [w for box in ui.children[0].children for w in getattr(box, "children", [])]
    train_button = next(w for w in buttons if getattr(w, "description", "").startswith("train"))
    train_button.click()
    assert lab.steps == [0, 10]
    remedy = next(w for w in buttons if getattr(w, "description", "") == "remedy")
    remedy.value = "minibatch std"
    assert lab.remedy == "minibatch std" and lab.steps == [0]


def test_animation_is_reproducible_and_has_every_frame():
    html = widgets.mode_collapse_animation(steps=6, frames=3, remedies=("vanilla",))
    assert html == widgets.mode_collapse_animation(steps=6, frames=3, remedies=("vanilla",))
    assert html.count("data:image/png;base64") == 3


@pytest.mark.parametrize("frames", [1, 61, True])
def test_animation_rejects_a_bad_frame_count(frames):
    with pytest.raises(ValueError, match="frames"):
        widgets.mode_collapse_animation(frames=frames)


def test_mode_collapse_animation_refuses_fewer_steps_than_frames_and_no_remedy():
    """Before: steps=3 with frames=11 trained 10 steps, more than asked, without a word."""
    with pytest.raises(ValueError, match="steps must be at least frames - 1 = 10"):
        mode_collapse_animation(steps=3, frames=11)
    with pytest.raises(ValueError, match="remedies must name at least one"):
        mode_collapse_animation(steps=10, frames=3, remedies=())
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        mode_collapse_animation(steps=0, frames=3)
