"""ganlab.plot's mode-collapse figures: snapshots and the mode-mass heatmap."""

from __future__ import annotations

import math

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


def test_running_mean_is_the_mean_of_each_window_at_its_last_step():
    from ganlab import plot

    steps, means = plot.running_mean([1, 2, 3, 4, 5], [1.0, 3.0, 2.0, 6.0, 4.0], window=2)
    assert steps == [2, 3, 4, 5] and means == [2.0, 2.5, 4.0, 5.0]
    assert plot.running_mean([1, 2], [5.0, 7.0], window=3) == ([1, 2], [5.0, 7.0])
    assert len(plot.running_mean(list(range(100)), [0.0] * 100)[0]) == 97  # window 100 // 25
    with pytest.raises(ValueError, match="window must be a positive integer"):
        plot.running_mean([1], [1.0], window=0)


def _text_px(size_pt: float, fig: plt.Figure, column_px: float = 757) -> float:
    """Rendered size in px of ``size_pt`` text once the figure is shrunk into the column."""
    width_px = fig.get_figwidth() * fig.dpi
    return size_pt * fig.dpi / 72 * min(1.0, column_px / width_px)


def test_training_curves_legend_lies_below_the_axes_and_reads_at_10_px():
    from ganlab.train import History

    history = History()
    for step in range(1, 101):
        history.step.append(step)
        for name in ("loss_D", "loss_G", "p_real", "p_fake"):
            getattr(history, name).append(0.5 + 0.1 * math.sin(step))
    with plt.style.context(plot.STYLE):
        live = plot.LiveTraining(data.ring(), n_samples=50)
        fig = live.fig
        ax = fig.add_subplot()
        plot.training_curves(history, ax=ax)
        fig.canvas.draw()
        legend = ax.get_legend()
        assert legend.get_window_extent().y1 <= ax.get_window_extent().y0  # covers no trace
        assert _text_px(legend.get_texts()[0].get_fontsize(), fig) >= 10
        assert fig.get_figwidth() <= 10


def test_dirac_field_panel_holds_a_trajectory_past_the_default_square():
    path = torch.tensor([[1.0, -1.0], [2.5, 1.0], [-3.0, 1.2]], dtype=torch.float64)
    limit = max(2.0, 1.12 * float(path.abs().max()))
    ax = plot.dirac_field(path, limit=limit, title="spiral")
    low, high = ax.get_xlim()
    assert low <= -3.0 and high >= 3.0  # the last step (square) is on the panel
    assert ax.title.get_fontsize() >= 10
    plt.close(ax.figure)
