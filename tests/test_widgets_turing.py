"""ganlab.widgets.TuringTest and wilson_interval, driven headless."""

from __future__ import annotations

import math

import pytest
import torch

from ganlab import widgets


def decks(n_real=30, n_fake=30):
    return torch.ones(n_real, 1, 28, 28), -torch.ones(n_fake, 1, 28, 28)


def test_wilson_interval_matches_the_formula_and_edge_cases():
    low, high = widgets.wilson_interval(10, 20)
    # p = 1/2, n = 20, z = 1.96: centre 0.5, half-width z sqrt(1/80 + z^2/1600) / (1 + z^2/20)
    z = 1.96
    half = z * math.sqrt(0.25 / 20 + z * z / 1600) / (1 + z * z / 20)
    assert low == pytest.approx(0.5 - half) and high == pytest.approx(0.5 + half)
    assert widgets.wilson_interval(0, 0) == (0.0, 1.0)
    low, high = widgets.wilson_interval(20, 20)
    assert high == pytest.approx(1.0) and 0.8 < low < 0.9
    with pytest.raises(ValueError, match="correct must lie in"):
        widgets.wilson_interval(3, 2)


def test_deck_is_half_real_half_generated_and_scores_guesses():
    real, fake = decks()
    test = widgets.TuringTest(real, fake, n=10, seed=1)
    assert int(test.is_real.sum()) == 5
    # the images really are the ones labelled: real = +1, generated = -1 here
    assert torch.equal(test.images.mean(dim=(1, 2, 3)) > 0, test.is_real)
    for truth in test.is_real.tolist():
        assert test.answer(truth) is True
    correct, answered, (low, high) = test.score()
    assert (correct, answered) == (10, 10) and low > 0.5
    assert "You can tell them apart" in test.status()
    with pytest.raises(IndexError, match="the test is over"):
        test.answer(True)
    test.reset()
    assert test.score()[:2] == (0, 0)


def test_always_saying_real_scores_half():
    test = widgets.TuringTest(*decks(), n=20, seed=2)
    for _ in range(20):
        test.answer(True)
    correct, answered, (low, high) = test.score()
    assert (correct, answered) == (10, 20) and low < 0.5 < high
    assert "Not distinguishable from chance" in test.status()


@pytest.mark.parametrize(
    "n, message", [(3, "even number"), (0, "even number"), (80, "need 40 real")]
)
def test_bad_deck_sizes_are_rejected(n, message):
    with pytest.raises(ValueError, match=message):
        widgets.TuringTest(*decks(), n=n)


def test_png_and_buttons(monkeypatch):
    test = widgets.TuringTest(*decks(), n=4, seed=0)
    assert test.png().startswith(b"\x89PNG")
    pytest.importorskip("ipywidgets")
    monkeypatch.setattr(test, "png", lambda: b"")
    buttons = test.widget.children[0].children
    buttons[0].click()  # "real"
    buttons[1].click()  # "generated"
    assert test.guesses == [True, False]
    buttons[2].click()
    assert test.guesses == []


def test_turing_animation_has_one_frame_per_image_and_no_answers():
    test = widgets.TuringTest(*decks(), n=4, seed=0)
    html = widgets.turing_animation(test)
    assert html == widgets.turing_animation(test)
    assert html.count("data:image/png;base64") == 4
    assert "generated" not in html.replace("real or generated?", "")
