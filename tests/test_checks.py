"""ganlab._checks.class_labels, and every class-conditional entry point refusing bad labels
through it with the same message (models, losses, train_images)."""

from __future__ import annotations

import pytest
import torch
from conftest import CLASSES, EMBED, LATENT, images
from conftest import DCGAN_WIDTH as WIDTH

from ganlab import _checks, losses, models, train_images


def _label_calls():
    """(name, call(labels)) for every public entry point that takes class labels (B = 5)."""
    torch.manual_seed(0)
    G = models.ConditionalDCGANGenerator(CLASSES, LATENT, WIDTH, EMBED)
    P = models.ProjectionDiscriminator(CLASSES, WIDTH)
    C = models.ClassifyingDiscriminator(CLASSES, WIDTH)
    z, x = torch.randn(5, LATENT), images(5)
    good = torch.arange(5)
    return {
        "generator": lambda y: G(z, y),
        "projection": lambda y: P(x, y),
        "conditional_step": lambda y: train_images.conditional_step(
            G, C, x, y, z, good, *(torch.optim.SGD(m.parameters(), lr=0.0) for m in (C, G))
        ),
        "classifying_d_loss": lambda y: losses.d_loss_classes(C(x), y, C(x)),
        "classifying_g_loss": lambda y: losses.g_loss_classes(C(x), y),
        "labels_for": lambda y: G.labels_for(5, y),
        "class_labels": lambda y: _checks.class_labels("labels", y, CLASSES, 5),
    }


LABEL_CALLS = _label_calls()


@pytest.mark.parametrize("name", list(LABEL_CALLS))
@pytest.mark.parametrize(
    ("labels", "error", "message"),
    [
        (torch.tensor([0, 1, 10, 2, 3]), ValueError, r"must lie in \[0, 9\] \(10 classes\), got 10"),
        (torch.tensor([0, 1, 2, -1, 3]), ValueError, r"must lie in \[0, 9\] \(10 classes\), got -1"),
        (torch.tensor([0.0, 1.0, 2.0, 3.0, 4.0]), TypeError, r"integer class indices .* torch\.float32"),
        (torch.tensor([True, False, True, True, False]), TypeError, r"got dtype torch\.bool"),
        (torch.zeros(5, 1, dtype=torch.long), ValueError, r"must have shape \(5,\), one per sample, got \(5, 1\)"),
        (torch.zeros(4, dtype=torch.long), ValueError, r"must have shape \(5,\), one per sample, got \(4,\)"),
        ([0, 1, 2, 3, 4], TypeError, r"must be a torch\.Tensor of class indices, got list"),
    ],
    ids=["too_large", "negative", "float", "bool", "column", "short", "list"],
)  # fmt: skip
def test_bad_labels_raise_a_clear_error_naming_the_value(name, labels, error, message):
    with pytest.raises(error, match=message):
        LABEL_CALLS[name](labels)


def test_class_labels_returns_its_argument_and_checks_length_only_when_asked():
    y = torch.tensor([3, 0, 2])
    assert _checks.class_labels("y", y, 4) is y
    assert _checks.class_labels("y", y, 4, n=3) is y
    empty = torch.zeros(0, dtype=torch.long)
    assert _checks.class_labels("y", empty, 4) is empty
    with pytest.raises(ValueError, match=r"y must have shape \(B,\), got \(1, 3\)"):
        _checks.class_labels("y", y[None], 4)
    with pytest.raises(ValueError, match=r"y must lie in \[0, 2\] \(3 classes\), got 3"):
        _checks.class_labels("y", y, 3)
    # the first offending value is named, whichever end of the range it leaves
    with pytest.raises(ValueError, match="got 7"):
        _checks.class_labels("y", torch.tensor([0, 7, -2]), 4)
