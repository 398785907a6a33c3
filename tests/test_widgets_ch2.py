"""The chapter-2 widgets driven headless from code: SaturationExplorer and DiracGAN."""

from __future__ import annotations

import math
import re
import sys

import pytest
import torch

from ganlab import experiments, theory, widgets

PNG = b"\x89PNG\r\n\x1a\n"
# A cheap controlled experiment: a second or so for both losses.
QUICK = {"steps": 30, "head_start": 20, "every": 10, "batch_size": 32, "width": 16}


def descendants(box):
    """Every widget in an ipywidgets tree, depth first."""
    yield box
    for child in getattr(box, "children", ()):
        yield from descendants(child)


def control(box, description: str):
    """The unique control of ``box``'s tree with this description."""
    (found,) = [w for w in descendants(box) if getattr(w, "description", None) == description]
    return found


# ----------------------------------------------------------------------------- SaturationExplorer


@pytest.mark.parametrize("p", [1e-4, 1e-3, 0.3, 0.5, 0.99])
def test_at_confidence_gives_both_losses_and_their_score_gradients(p):
    """log(1 - p) and -log p; d/ds: -p and -(1 - p)."""
    sx = widgets.SaturationExplorer(confidence=p)
    at = sx.at_confidence()
    assert set(at) == {"saturating", "nonsaturating", "saturating_grad", "nonsaturating_grad"}
    assert at["saturating"] == pytest.approx(math.log1p(-p), rel=1e-12)
    assert at["nonsaturating"] == pytest.approx(-math.log(p), rel=1e-12)
    assert at["saturating_grad"] == pytest.approx(-p, rel=1e-12)
    assert at["nonsaturating_grad"] == pytest.approx(-(1 - p), rel=1e-12)


def test_set_confidence_moves_the_point_and_the_status_ratio():
    sx = widgets.SaturationExplorer()
    assert sx.confidence == 1e-3
    assert "999 times larger" in sx.status()  # (1 - p) / p
    assert sx.set_confidence(0.2) is sx
    assert sx.at_confidence()["saturating_grad"] == pytest.approx(-0.2)
    assert "4 times larger" in sx.status()


@pytest.mark.parametrize("p", [0, 1, 1.5, -0.1, float("nan"), "0.5"])
def test_confidence_outside_0_1_is_rejected_and_the_old_one_kept(p):
    sx = widgets.SaturationExplorer(confidence=0.3)
    with pytest.raises(ValueError, match=re.escape(f"a probability in (0, 1); got {p!r}")):
        sx.set_confidence(p)
    assert sx.confidence == 0.3
    with pytest.raises(ValueError, match="confidence is D"):
        widgets.SaturationExplorer(confidence=p)


@pytest.fixture(scope="module")
def explored() -> widgets.SaturationExplorer:
    """An explorer after ``run_experiment(**QUICK)`` (QUICK: 30 steps, head start 20)."""
    sx = widgets.SaturationExplorer()
    sx.run_experiment(**QUICK)
    return sx


def test_run_experiment_runs_both_losses_with_the_settings(explored):
    runs = explored.runs
    assert set(runs) == {"saturating", "nonsaturating"}
    assert explored.settings == QUICK  # kept for the next run (steps, every overridden)
    for name, run in runs.items():
        assert run.label == name
        assert run.eval_steps == [0, 10, 20, 30]
        assert len(run.history) == 30
    # the settings reach the experiment: the same numbers as calling it directly
    direct = experiments.head_start_run(loss="saturating", **QUICK)
    assert runs["saturating"].distance == direct.distance
    assert runs["saturating"].history.as_dict() == direct.history.as_dict()


def test_the_status_reports_both_runs(explored):
    status = explored.status()
    assert "999 times larger" in status
    for name, run in explored.runs.items():
        reached = run.steps_to(0.5)
        assert (
            f"{name}: W1 {run.distance[0]:.2f} &rarr; {run.distance[-1]:.2f}, reaches W1 &le; 0.5 "
            f"at step {reached if reached is not None else 'never'}"
        ) in status


def test_saturation_figure_before_and_after_an_experiment_and_its_png(explored):
    assert len(widgets.SaturationExplorer().figure().axes) == 2  # losses and gradients
    assert len(explored.figure().axes) == 4  # and the race of the two runs
    assert explored.png().startswith(PNG)


def stub_png(app, monkeypatch) -> list[int]:
    """Replace ``app.png`` by a counting stub: the widget tests check the wiring of the controls,
    not the (slow: about a second) rendering, which the png tests cover."""
    calls = []

    def png() -> bytes:
        calls.append(1)
        return PNG + bytes([len(calls)])

    monkeypatch.setattr(app, "png", png)
    return calls


def test_saturation_widget_controls_drive_the_explorer(monkeypatch):
    pytest.importorskip("ipywidgets")
    sx = widgets.SaturationExplorer(**{**QUICK, "head_start": 0, "steps": 10, "every": 5})
    renders = stub_png(sx, monkeypatch)
    box = sx.widget
    assert sx.widget is box
    assert bytes(sx._image.value).startswith(PNG) and renders
    control(box, "D(G(z))").value = 0.1
    assert sx.confidence == pytest.approx(0.1)
    assert "9 times larger" in sx._status.value
    assert bytes(sx._image.value) == PNG + bytes([len(renders)])  # redrawn
    control(box, "optimizer").value = "adam"
    control(box, "run experiment").click()
    assert sx.settings["optimizer"] == "adam" and sx.settings["head_start"] == 0
    assert set(sx.runs) == {"saturating", "nonsaturating"}
    assert sx.runs["saturating"].eval_steps == [0, 5, 10]
    assert "nonsaturating: W1" in sx._status.value


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


@pytest.mark.parametrize("make", [widgets.SaturationExplorer, widgets.DiracGAN])
def test_without_ipywidgets_the_apps_work_and_say_how_to_get_the_controls(
    make, monkeypatch, capsys
):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # `import ipywidgets` now fails
    app = make()
    with pytest.raises(ImportError, match=re.escape(f"{app.name}.widget needs ipywidgets")):
        app.widget  # noqa: B018
    app._ipython_display_()  # falls back to the picture and a hint
    assert "the live controls need ipywidgets" in capsys.readouterr().out


def test_an_unknown_control_among_good_ones_changes_nothing():
    dg = widgets.DiracGAN()
    before = dg.distance()
    with pytest.raises(ValueError, match="colour"):
        dg.set(loss="wasserstein", colour="red")
    assert dg.loss == "saturating"
    assert dg.distance() == before


def test_a_failed_experiment_does_not_keep_its_settings(monkeypatch):
    explorer = widgets.SaturationExplorer()
    monkeypatch.setattr(explorer, "refresh", lambda: None)
    with pytest.raises(ValueError, match="adagrad"):
        explorer.run_experiment(optimizer="adagrad", steps=5)
    assert "optimizer" not in explorer.settings


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
