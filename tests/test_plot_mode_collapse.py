"""ganlab.plot's mode-collapse figures: snapshots and the mode-mass heatmap."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from ganlab import data, metrics, plot  # noqa: E402


def test_mode_mass_shows_each_modes_share_of_the_high_quality_samples():
    ring = data.ring()
    on_mode = ring.centers  # one sample exactly on each centre: high quality
    first = metrics.mode_coverage(on_mode[[0, 0, 0, 1]], ring)  # 3/4 on mode 0, 1/4 on mode 1
    second = metrics.mode_coverage(on_mode[[5]], ring)
    empty = metrics.mode_coverage(torch.zeros(3, 2), ring)  # the centre: no HQ sample
    fig, ax = plt.subplots()
    plot.mode_mass([0, 10, 20], [first, second, empty], ax=ax)
    image = ax.get_images()[0].get_array()
    assert image.shape == (8, 3)  # modes x steps
    expected = np.zeros((8, 3))
    expected[0, 0], expected[1, 0], expected[5, 1] = 0.75, 0.25, 1.0
    np.testing.assert_allclose(np.asarray(image), expected)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "10", "20"]
    plt.close(fig)


def test_snapshots_draws_one_panel_per_step_and_checks_lengths():
    ring = data.ring()
    xs = [ring.sample(50, seed=s) for s in range(3)]
    axes = plot.snapshots(ring, [0, 5, 10], xs)
    assert [ax.get_title() for ax in axes] == ["step 0", "step 5", "step 10"]
    plt.close(axes[0].figure)
    with pytest.raises(ValueError, match="same length, got 2 and 3"):
        plot.snapshots(ring, [0, 5], xs)
