"""ganlab.widgets.SaturationExplorer, driven headless."""

from __future__ import annotations

import math
import re

import pytest
from conftest import PNG, control, stub_png

from ganlab import experiments, widgets

# A cheap controlled experiment: a second or so for both losses.
QUICK = {"steps": 30, "head_start": 20, "every": 10, "batch_size": 32, "width": 16}


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


def test_a_failed_experiment_does_not_keep_its_settings(monkeypatch):
    explorer = widgets.SaturationExplorer()
    monkeypatch.setattr(explorer, "refresh", lambda: None)
    with pytest.raises(ValueError, match="adagrad"):
        explorer.run_experiment(optimizer="adagrad", steps=5)
    assert "optimizer" not in explorer.settings
