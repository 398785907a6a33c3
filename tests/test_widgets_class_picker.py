"""ganlab.widgets.ClassPicker and class_picker_animation, driven headless."""

from __future__ import annotations

import re

import pytest
import torch
from torch.testing import assert_close

from ganlab import models, widgets

CLASSES = [f"class {k}" for k in range(10)]


# ----------------------------------------------------------------------------- ClassPicker


def tiny_G(seed: int = 0) -> models.ConditionalDCGANGenerator:
    torch.manual_seed(seed)
    return models.ConditionalDCGANGenerator(classes=10, latent_dim=8, width=4)


@pytest.fixture
def G():
    return tiny_G(0)


@pytest.fixture
def classifier():
    torch.manual_seed(1)
    return models.ImageClassifier(width=4, feature_dim=8)


class PixelClassifier(torch.nn.Module):
    """A 'classifier' whose verdicts vary from image to image: argmax of a fixed random linear
    map of the pixels (has parameters, like the pickers' classifiers, and a ``predict``)."""

    def __init__(self) -> None:
        super().__init__()
        self.head = torch.nn.Linear(28 * 28, 10)
        with torch.no_grad():
            self.head.weight.copy_(torch.randn(10, 784, generator=torch.Generator().manual_seed(3)))
            self.head.bias.zero_()

    def forward(self, x):
        return self.head(x.flatten(1))

    @torch.no_grad()
    def predict(self, x):
        return self(x).argmax(1)


def test_samples_are_the_generators_samples_of_the_chosen_class(G):
    picker = widgets.ClassPicker({"proj": G}, CLASSES, label=3, seed=5, n=6)
    x = picker.samples()
    assert x.shape == (6, 1, 28, 28)
    assert torch.equal(x, G.sample(6, seed=5, labels=3))
    assert torch.equal(x, picker.samples())  # same seed, same images
    # by hand: the seeded latents, every one with class 3
    z = torch.randn(6, 8, generator=torch.Generator().manual_seed(5))
    with torch.no_grad(), models.evaluating(G):
        assert_close(x, G(z, torch.full((6,), 3)))
    assert not torch.equal(picker.set(seed=6).samples(), x)
    assert not torch.equal(picker.set(seed=5, label=4).samples(), x)


def test_every_class_sends_one_latent_with_every_class(G):
    picker = widgets.ClassPicker({"proj": G}, CLASSES, label=2, seed=7, n=4)
    rows = picker.every_class()
    assert rows.shape == (10, 1, 28, 28)
    z0 = torch.randn(4, 8, generator=torch.Generator().manual_seed(7))[:1]
    with torch.no_grad(), models.evaluating(G):
        for k in range(10):
            assert_close(rows[k : k + 1], G(z0, torch.tensor([k])))
    # z_0 is the first latent of ``samples``: its row of the chosen class is samples()[0]
    assert_close(rows[2], picker.samples()[0])
    assert not torch.equal(rows[0], rows[1])  # the label changes the image


def test_hit_rate_is_the_share_the_classifier_labels_as_the_class(G, classifier):
    picker = widgets.ClassPicker({"proj": G}, CLASSES, classifier, n=16)
    for label in range(10):
        picker.set(label=label)
        expected = (classifier.predict(picker.samples()) == label).float().mean().item()
        assert picker.hit_rate() == pytest.approx(expected)
    # a classifier whose verdicts differ from image to image: a share strictly inside (0, 1)
    stub = PixelClassifier()
    picker = widgets.ClassPicker({"proj": G}, CLASSES, stub, n=16, seed=0)
    verdicts = stub.predict(picker.samples())
    label = int(verdicts.mode().values)
    picker.set(label=label)
    count = sum(int(v) == label for v in verdicts)
    assert 0 < count < 16
    assert picker.hit_rate() == pytest.approx(count / 16)
    share = re.search(r"([\d.]+) ?%", picker.status())
    assert share and float(share.group(1)) == pytest.approx(100 * count / 16, abs=0.5)


def test_without_a_classifier_there_is_no_hit_rate(G):
    picker = widgets.ClassPicker({"proj": G}, CLASSES, label=1)
    assert picker.hit_rate() is None
    status = picker.status()
    assert all(part in status for part in ("proj", "16 samples", "class 1"))
    assert "%" not in status  # no share to report


@pytest.mark.parametrize("label", [10, -1, 1.0, "3"])
def test_bad_labels_are_rejected(G, label):
    with pytest.raises(ValueError, match=r"label must be a class index in \[0, 9\]"):
        widgets.ClassPicker({"proj": G}, CLASSES, label=label)
    picker = widgets.ClassPicker({"proj": G}, CLASSES, label=4)
    with pytest.raises(ValueError, match=r"label must be a class index in \[0, 9\]"):
        picker.set(label=label)
    assert picker.label == 4  # a rejected change leaves the state alone


def test_bad_generators_and_models_are_rejected(G):
    with pytest.raises(ValueError, match="at least one conditional generator"):
        widgets.ClassPicker({}, CLASSES)
    with pytest.raises(ValueError, match="'small' makes 3 classes, but 10 class names"):
        small = models.ConditionalDCGANGenerator(classes=3, latent_dim=8, width=4)
        widgets.ClassPicker({"proj": G, "small": small}, CLASSES)
    with pytest.raises(ValueError, match="'dc' makes None classes"):
        widgets.ClassPicker({"dc": models.DCGANGenerator(latent_dim=8, width=4)}, CLASSES)
    picker = widgets.ClassPicker({"proj": G}, CLASSES)
    with pytest.raises(ValueError, match=r"model must be one of \['proj'\], got 'classes'"):
        picker.set(model="classes")
    assert picker.model == "proj"


def test_set_changes_only_what_it_is_given(G):
    other = tiny_G(1)
    picker = widgets.ClassPicker({"proj": G, "classes": other}, CLASSES, label=2, seed=3, n=4)
    assert (picker.model, picker.label, picker.seed) == ("proj", 2, 3)  # the first generator
    assert picker.set() is picker
    assert (picker.model, picker.label, picker.seed) == ("proj", 2, 3)
    picker.set(seed=9)
    assert (picker.model, picker.label, picker.seed) == ("proj", 2, 9)
    picker.set(model="classes")
    assert (picker.model, picker.label, picker.seed) == ("classes", 2, 9)
    assert torch.equal(picker.samples(), other.sample(4, seed=9, labels=2))
    picker.set(label=0)
    assert (picker.model, picker.label, picker.seed) == ("classes", 0, 9)


def test_figure_draws_both_grids(G, classifier):
    picker = widgets.ClassPicker({"proj": G}, CLASSES, classifier, label=5, n=6)
    fig = picker.figure()
    titles = [ax.get_title() for ax in fig.axes]
    assert len(titles) == 2
    assert titles[0].startswith("proj: G(z, y = 'class 5'), 6 latents  (classified as 'class 5':")
    assert titles[1].startswith("one latent z, every class: class 0, class 1")
    assert picker.png().startswith(b"\x89PNG")


def test_widget_controls_drive_the_state(G, monkeypatch):
    pytest.importorskip("ipywidgets")
    picker = widgets.ClassPicker({"proj": G, "classes": tiny_G(1)}, CLASSES, n=4)
    monkeypatch.setattr(picker, "png", lambda: b"")
    ui = picker.widget
    controls = ui.children[0].children
    label, seed = controls[0].children
    model = controls[1]
    assert [type(w).__name__ for w in (label, seed, model)] == [
        "Dropdown", "BoundedIntText", "ToggleButtons"]  # fmt: skip
    label.value = 7
    assert (picker.label, picker.seed, picker.model) == (7, 0, "proj")
    seed.value = 11
    assert (picker.label, picker.seed, picker.model) == (7, 11, "proj")
    model.value = "classes"
    assert (picker.label, picker.seed, picker.model) == (7, 11, "classes")
    assert ui.children[1].value == picker.status()
    assert all(part in picker.status() for part in ("classes", "4 samples", "class 7"))


def test_one_generator_has_no_model_buttons(G):
    pytest.importorskip("ipywidgets")
    picker = widgets.ClassPicker({"proj": G}, CLASSES, n=4)
    controls = picker.widget.children[0].children
    assert len(controls) == 1 and type(controls[0]).__name__ == "HBox"


def test_class_picker_animation_has_one_frame_per_class_and_restores_the_label(G):
    picker = widgets.ClassPicker({"proj": G}, CLASSES, label=3, n=4)
    html = widgets.class_picker_animation(picker, fps=2, dpi=20)
    assert picker.label == 3
    assert html == widgets.class_picker_animation(picker, fps=2, dpi=20)
    assert picker.label == 3
    assert html.count("data:image/jpeg;base64") == 10
    assert "data:image/png;base64" not in html
