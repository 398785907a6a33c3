"""ganlab.widgets.DiracGAN and dirac_animation, driven headless."""

from __future__ import annotations

import pytest
import torch
from conftest import PNG, control, stub_png

from ganlab import theory, widgets
from ganlab.widgets import dirac_animation

# ----------------------------------------------------------------------------- DiracGAN


def test_dirac_default_is_the_saturating_simultaneous_demo():
    dg = widgets.DiracGAN()
    assert torch.equal(dg.path, theory.dirac_trajectory())
    assert dg.distance() == float(theory.dirac_trajectory()[-1].norm())
    assert dg.distance() == pytest.approx(3.10, abs=0.01)
    assert "1.414 at the start, 2.65 at step 250, 3.1 at step 500" in dg.status()


@pytest.mark.parametrize(
    ("name", "keyword"),
    [("R1 penalty", "gamma"), ("WGAN-GP penalty", "lam"), ("instance noise", "noise_std"),
     ("weight clipping", "clip")],
)  # fmt: skip
def test_each_regularizer_sets_its_keyword_with_the_strength(name, keyword):
    assert widgets.REGULARIZERS[name] == keyword
    dg = widgets.DiracGAN(loss="wasserstein", steps=50, regularizer=name, strength=0.7)
    options = dg.options()
    assert options[keyword] == 0.7
    assert not ({"gamma", "lam", "noise_std", "clip"} - {keyword}) & set(options)
    expected = theory.dirac_trajectory(loss="wasserstein", steps=50, **{keyword: 0.7})
    assert torch.equal(dg.path, expected)


def test_set_r1_penalty_converges():
    dg = widgets.DiracGAN()
    assert dg.set(regularizer="R1 penalty", strength=1.0) is dg
    assert dg.distance() < 1e-4
    assert torch.equal(dg.path, theory.dirac_trajectory(gamma=1.0))


@pytest.mark.parametrize(
    ("controls", "message"),
    [
        ({"regularizer": "dropout"}, "unknown regularizer 'dropout'"),
        ({"regularizer": "R1 penalty", "strength": -1.0}, "gamma must be a finite number >= 0"),
        ({"loss": "hinge"}, "unknown Dirac-GAN loss 'hinge'"),
        ({"steps": 0}, "steps must be a positive integer, got 0"),
    ],
)
def test_a_bad_control_raises_and_leaves_the_previous_state(controls, message):
    dg = widgets.DiracGAN(steps=100, regularizer="instance noise", strength=0.5)
    before, path = dict(vars(dg)), dg.path
    with pytest.raises(ValueError, match=message):
        dg.set(**controls)
    assert dg.path is path
    assert {k: v for k, v in vars(dg).items()} == before


def test_dirac_figure_and_png():
    dg = widgets.DiracGAN(steps=50)
    assert len(dg.figure().axes) >= 2
    assert dg.png().startswith(PNG)


def test_dirac_widget_controls_recompute_the_path(monkeypatch):
    pytest.importorskip("ipywidgets")
    dg = widgets.DiracGAN(steps=100)
    renders = stub_png(dg, monkeypatch)
    box = dg.widget
    assert bytes(dg._image.value).startswith(PNG) and renders
    control(box, "loss").value = "wasserstein"
    assert dg.loss == "wasserstein"
    assert torch.equal(dg.path, theory.dirac_trajectory(loss="wasserstein", steps=100))
    assert dg._status.value == dg.status()
    control(box, "regulariser").value = "R1 penalty"
    assert torch.equal(dg.path, theory.dirac_trajectory(loss="wasserstein", steps=100, gamma=1.0))
    control(box, "updates").value = "alternating"
    control(box, "steps").value = 150
    assert dg.path.shape == (151, 2)
    assert torch.equal(
        dg.path,
        theory.dirac_trajectory(loss="wasserstein", scheme="alternating", steps=150, gamma=1.0),
    )


def test_an_unknown_control_among_good_ones_changes_nothing():
    dg = widgets.DiracGAN()
    before = dg.distance()
    with pytest.raises(ValueError, match="colour"):
        dg.set(loss="wasserstein", colour="red")
    assert dg.loss == "saturating"
    assert dg.distance() == before


# ----------------------------------------------------------------------------- static fallback


def test_dirac_animation_plays_every_frame_and_is_reproducible():
    configurations = {"GAN": {"loss": "saturating"}, "R1": {"gamma": 1.0}}
    html = widgets.dirac_animation(configurations, steps=20, frames=3)
    assert html == widgets.dirac_animation(configurations, steps=20, frames=3)
    assert html.count("data:image/jpeg;base64") == 3
    assert "<script" in html and "anim" in html


@pytest.mark.parametrize("frames", [1, 101, 2.5, True])
def test_dirac_animation_rejects_a_bad_frame_count(frames):
    with pytest.raises(ValueError, match="frames"):
        widgets.dirac_animation(frames=frames)


def test_dirac_animation_refuses_no_configuration():
    with pytest.raises(ValueError, match="configurations must hold at least one run"):
        dirac_animation({})
