"""ganlab.widgets.LatentExplorer and latent_walk_animation, driven headless."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from ganlab import latent, models, widgets
from ganlab.widgets import latent_walk_animation


def test_explorer_state_path_norms_and_nudge(G):
    ex = widgets.LatentExplorer(G, seeds=(0, 1), path="lerp", t=0.0)
    assert_close(ex.current(), ex.z0)
    ex.set(t=1.0)
    assert_close(ex.current(), ex.z1)
    ex.set(path="slerp", t=0.5, nudge_dim=3, nudge=2.0)
    expected = latent.slerp(ex.z0, ex.z1, 0.5)[0]
    expected[3] += 2.0
    assert_close(ex.current(), expected)
    assert "slerp from seed 0 to seed 1" in ex.status()
    assert ex.png().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    "kwargs, message",
    [({"path": "spline"}, "path must be one of"), ({"t": 1.5}, r"t must lie in \[0, 1\]"),
     ({"nudge_dim": 8}, r"nudge_dim must be in \[0, 8\)"), ({"arithmetic": (0, 1, 2)}, "concepts")],
)  # fmt: skip
def test_explorer_rejects_bad_settings(G, kwargs, message):
    with pytest.raises(ValueError, match=message):
        widgets.LatentExplorer(G).set(**kwargs)


def test_explorer_arithmetic_is_a_minus_b_plus_c_of_concept_means(G):
    concepts = {k: torch.randn(3, 8, generator=torch.Generator().manual_seed(k)) for k in range(3)}
    ex = widgets.LatentExplorer(G, concepts=concepts, class_names=["x", "y", "z"])
    vectors, images = ex.arithmetic_result()
    assert_close(vectors[3], concepts[0].mean(0) - concepts[1].mean(0) + concepts[2].mean(0))
    assert images.shape == (4, 1, 28, 28)
    ex.set(arithmetic=(2, 1, 0))
    assert_close(ex.arithmetic_result()[0][0], concepts[2].mean(0))
    assert ex.png().startswith(b"\x89PNG")


def test_widget_controls_drive_the_state(G, monkeypatch):
    pytest.importorskip("ipywidgets")
    ex = widgets.LatentExplorer(G, concepts={k: torch.zeros(3, 8) for k in range(3)})
    monkeypatch.setattr(ex, "png", lambda: b"")
    ui = ex.widget
    sliders = [w for box in ui.children[0].children for w in box.children
               if type(w).__name__ == "FloatSlider"]  # fmt: skip
    sliders[0].value = 0.25
    assert ex.t == 0.25


def test_latent_walk_animation_is_playable_html(G):
    html = widgets.latent_walk_animation(G, seeds=(0, 1), frames_per_leg=2)
    assert html == widgets.latent_walk_animation(G, seeds=(0, 1), frames_per_leg=2)
    assert html.count("data:image/png;base64") == 4  # 2 legs (there and back) x 2 frames
    with pytest.raises(ValueError, match="at least 2 seeds"):
        widgets.latent_walk_animation(G, seeds=(0,))


def test_latent_walk_animation_refuses_empty_legs_and_bad_fps():
    G = models.DCGANGenerator(8, 4)
    with pytest.raises(ValueError, match="frames_per_leg must be a positive integer, got 0"):
        latent_walk_animation(G, seeds=(0, 1), frames_per_leg=0)
    with pytest.raises(ValueError, match="fps must be a positive"):
        latent_walk_animation(G, seeds=(0, 1), fps=0)
