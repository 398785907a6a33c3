"""Chapters 6 and 7's code: widgets.ClassPicker and class_picker_animation, the "beyond" section of
ganlab.experiments (critic_run, cycle_run, paired_run, trained_critics_1d; their toy data sets
are tested in test_data.py), ``python -m ganlab train cdcgan`` and the shipped
class-conditional generators."""

from __future__ import annotations

import math
import types

import pytest
import torch
from torch.testing import assert_close

from ganlab import checkpoints, cli, data, experiments, lipschitz, metrics, models, widgets

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
    assert f"calls {100 * count / 16:.0f} % of them" in picker.status()


def test_without_a_classifier_there_is_no_hit_rate(G):
    picker = widgets.ClassPicker({"proj": G}, CLASSES, label=1)
    assert picker.hit_rate() is None
    assert picker.status() == "proj: 16 samples of 'class 1'"


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
    assert ui.children[1].value == picker.status() == "classes: 4 samples of 'class 7'"


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


# ----------------------------------------------------------------------------- critics


def test_critics_name_the_five_settings_with_the_papers_hyperparameters():
    assert list(experiments.CRITICS) == [
        "minimax", "WGAN (clipping)", "WGAN-GP", "hinge", "least squares", "SN",
        "SN + hinge"]  # fmt: skip
    clip = experiments.CRITICS["WGAN (clipping)"].config
    assert clip.weight_clip == 0.01 and clip.d_steps == 5 and clip.optimizer == "rmsprop"
    assert (clip.lr_D, clip.lr_G) == (5e-5, 5e-5)
    gp = experiments.CRITICS["WGAN-GP"].config
    assert gp.betas == (0.0, 0.9) and gp.d_steps == 5 and gp.loss == "wasserstein"
    assert gp.penalty.__name__ == "wgan_gp(10)" and (gp.lr_D, gp.lr_G) == (1e-4, 1e-4)
    assert [name for name, c in experiments.CRITICS.items() if c.spectral_norm] == [
        "SN", "SN + hinge"]  # fmt: skip


@pytest.fixture(scope="module")
def clipping_run():
    """A tiny "WGAN (clipping)" run, 25 steps measured every 10, with fit's History kept."""
    histories = []
    real_fit = experiments.critics.fit

    def spy(*args, **kwargs):
        histories.append(real_fit(*args, **kwargs))
        return histories[-1]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(experiments.critics, "fit", spy)
        run = experiments.critic_run(data.ring(), "WGAN (clipping)", steps=25, width=8,
                                     batch_size=32, every=10, n_eval=100)  # fmt: skip
    return run, histories[0]


def test_critic_run_measures_at_0_every_few_steps_and_at_the_end(clipping_run):
    run, history = clipping_run
    assert run.name == "WGAN (clipping)"
    assert run.steps == [0, 10, 20, 25]
    for series in (run.quality, run.gap, run.loss_D, run.loss_G, run.samples):
        assert len(series) == len(run.steps)
    assert all(math.isfinite(q) and q >= 0 for q in run.quality)
    assert all(math.isfinite(g) for g in run.gap)
    assert math.isnan(run.loss_D[0]) and math.isnan(run.loss_G[0])  # nothing trained yet
    # the losses are averaged over the steps since the previous measurement
    assert len(history) == 25
    for i, (start, end) in enumerate([(0, 10), (10, 20), (20, 25)], start=1):
        assert run.loss_D[i] == pytest.approx(sum(history.loss_D[start:end]) / (end - start))
        assert run.loss_G[i] == pytest.approx(sum(history.loss_G[start:end]) / (end - start))


def test_critic_run_step_0_is_the_untrained_pair_on_fixed_samples(clipping_run):
    run, _ = clipping_run
    ring = data.ring()
    G0, D0, _ = experiments.build_players(ring, "vanilla", 8, 0)
    x_real, x_fake = ring.sample(100, seed=20_000), G0.sample(100, seed=10_000)
    with torch.no_grad():
        gap = float(D0(x_real).mean() - D0(x_fake).mean())
    assert run.gap[0] == pytest.approx(gap, abs=1e-6)
    assert run.quality[0] == pytest.approx(metrics.sliced_wasserstein(x_fake, x_real))
    assert_close(run.samples[0], x_fake)


def test_weight_clipping_run_keeps_every_critic_parameter_within_001(clipping_run):
    run, _ = clipping_run
    assert all(float(p.detach().abs().max()) <= 0.01 for p in run.D.parameters())


def test_critic_run_rejects_an_unknown_setting():
    with pytest.raises(ValueError, match="unknown critic setting 'WGAN-LP'"):
        experiments.critic_run(data.ring(), "WGAN-LP", steps=1)


def test_critic_run_overrides_reach_fit(monkeypatch):
    seen = []
    real_fit = experiments.critics.fit

    def spy(G, D, dist, steps, config, **kw):
        seen.append((config, real_fit(G, D, dist, steps, config, **kw)))

    monkeypatch.setattr(experiments.critics, "fit", spy)
    experiments.critic_run(data.ring(), "minimax", steps=1, width=8, n_eval=10, lr_G=3e-4)
    assert seen[-1][0].lr_G == 3e-4 and seen[-1][0].loss == "nonsaturating"
    experiments.critic_run(data.ring(), "WGAN (clipping)", steps=1, width=8, n_eval=10,
                           lr_G=2e-4, weight_clip=0.05)  # fmt: skip
    config = seen[-1][0]
    assert config.optimizer == "rmsprop" and config.weight_clip == 0.05
    assert (config.lr_G, config.lr_D) == (2e-4, 5e-5)  # the override, and the table's 5e-5
    assert experiments.CRITICS["WGAN (clipping)"].config.lr_G == 5e-5  # the table unchanged
    with pytest.raises(TypeError, match=r"unknown training setting\(s\) \['lr'\]"):
        experiments.critic_run(data.ring(), "minimax", steps=1, width=8, n_eval=10, lr=1e-3)


# ----------------------------------------------------------------------------- CycleGAN


@pytest.fixture(scope="module")
def cycle():
    return experiments.cycle_run(data.ring(), experiments.square_ring(), 10.0, steps=20, width=8,
                                 batch_size=32, seed=3)  # fmt: skip


def test_cycle_run_reports_a_mode_map_and_cycle_errors(cycle):
    assert cycle.cycle_weight == 10.0
    assert len(cycle.mode_map) == 8 and all(-1 <= k <= 7 for k in cycle.mode_map)
    assert all(isinstance(k, int) for k in cycle.mode_map)
    assert math.isfinite(cycle.cycle_error_a) and math.isfinite(cycle.cycle_error_b)
    assert 0 <= cycle.quality_b <= 1


def test_cycle_run_is_deterministic_for_a_seed(cycle):
    again = experiments.cycle_run(data.ring(), experiments.square_ring(), 10.0, steps=20, width=8,
                                  batch_size=32, seed=3)  # fmt: skip
    assert again.mode_map == cycle.mode_map
    assert again.cycle_error_a == cycle.cycle_error_a
    for p, q in zip(again.G.parameters(), cycle.G.parameters(), strict=True):
        assert torch.equal(p, q)


@pytest.mark.parametrize("std", [0.02, 1.0])
def test_mode_map_is_the_nearest_b_mode_within_3_std_of_g_of_each_a_mode(std):
    """An untrained G sends the ring's centres near the origin, about 1.8 from the nearest
    square mode: outside 3 std of narrow modes (-1), inside 3 std of wide ones."""
    square = experiments.square_ring(std=std)
    run = experiments.cycle_run(data.ring(), square, 1.0, steps=5, width=8, batch_size=16)
    with torch.no_grad():
        images = run.G(data.ring().centers)
    expected = []
    for y in images:
        d = [float((y - m).norm()) for m in square.centers]
        k = min(range(8), key=d.__getitem__)
        expected.append(k if d[k] <= 3 * std else -1)
    assert run.mode_map == expected
    assert (-1 in run.mode_map) == (std == 0.02)


@pytest.mark.parametrize(
    "kwargs, message",
    [({"cycle_weight": -1.0}, "cycle_weight must be >= 0"),
     ({"cycle_weight": float("nan")}, "cycle_weight must be >= 0"), ({"steps": 0}, "steps")],
)  # fmt: skip
def test_cycle_run_rejects_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        experiments.cycle_run(data.ring(), experiments.square_ring(), **{"steps": 1, **kwargs})


# ----------------------------------------------------------------------------- pix2pix


def test_valid_fraction_counts_outputs_near_either_answer():
    x = torch.tensor([0.0, 0.0, 0.0, 0.5])
    y = torch.tensor([1.0, -0.8, 0.5, 1.8])  # misses 0, 0.2, 0.5, 0.3
    run = experiments.PairedRun(1.0, torch.nn.Identity(), x, y)
    assert run.valid_fraction(0.0) == 0.25
    assert run.valid_fraction(0.1) == 0.25
    assert run.valid_fraction() == 0.5  # tolerance 0.25
    assert run.valid_fraction(0.35) == 0.75
    assert run.valid_fraction(0.6) == 1.0


def test_paired_run_outputs_on_a_grid_and_is_deterministic():
    run = experiments.paired_run(1.0, 1.0, steps=10, width=8, batch_size=32, seed=2)
    assert run.adversarial_weight == 1.0
    assert run.x.shape == run.y.shape == (19 * 20,)
    assert_close(run.x.unique(), torch.linspace(-0.9, 0.9, 19))
    again = experiments.paired_run(1.0, 1.0, steps=10, width=8, batch_size=32, seed=2)
    assert torch.equal(run.y, again.y)
    # valid_fraction of a real run, by hand
    miss = torch.minimum((run.y - run.x - 1).abs(), (run.y - run.x + 1).abs())
    assert run.valid_fraction(0.3) == pytest.approx(float((miss <= 0.3).float().mean()))
    plain = experiments.paired_run(0.0, 1.0, steps=10, width=8, batch_size=32, seed=2)
    assert not torch.equal(plain.y, run.y)  # the adversarial term changes the result


@pytest.mark.parametrize("weights", [(-1.0, 1.0), (1.0, -0.5), (float("nan"), 1.0)])
def test_paired_run_rejects_negative_weights(weights):
    with pytest.raises(ValueError, match="the loss weights must be >= 0"):
        experiments.paired_run(*weights, steps=1)


# ----------------------------------------------------------------------------- 1-D critics


@pytest.fixture(scope="module")
def critics_1d():
    return experiments.trained_critics_1d(4.0, 0.1, steps=100, seed=0)


def test_trained_critics_1d_score_the_reals_above_the_fakes(critics_1d):
    assert set(critics_1d) == {"minimax", "WGAN-GP"}
    assert not any(D.training for D in critics_1d.values())
    real = 0.1 * torch.randn(500, 1, generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        D = critics_1d["minimax"]
        assert (torch.sigmoid(D(real)).mean() > 0.9) and (torch.sigmoid(D(real + 4)).mean() < 0.1)
        f = critics_1d["WGAN-GP"]
        assert float(f(torch.tensor([[0.0]]))) > float(f(torch.tensor([[4.0]])))


def test_the_1d_critics_slope_is_the_soft_penalty_optimum(critics_1d):
    """For a linear critic f(x) = s x the loss s d + lam (|s| - 1)^2 is least at
    s = -(1 + d / (2 lam)) = -3 for d = 4, lam = 1 (the book's "about -3")."""
    f = critics_1d["WGAN-GP"]
    with torch.no_grad():
        slope = float(f(torch.tensor([[4.0]])) - f(torch.tensor([[0.0]]))) / 4
    assert slope == pytest.approx(-3.0, abs=0.4)


def test_trained_critics_1d_rejects_zero_steps():
    with pytest.raises(ValueError, match="steps"):
        experiments.trained_critics_1d(steps=0)


# ----------------------------------------------------------------------------- train cdcgan


def tiny_labelled_set(n: int = 40):
    g = torch.Generator().manual_seed(1)
    return types.SimpleNamespace(images=torch.rand(n, 1, 28, 28, generator=g) * 2 - 1,
                                 labels=torch.arange(n) % 10, classes=CLASSES)  # fmt: skip


@pytest.mark.parametrize(
    "kind, make_D",
    [("projection", models.ProjectionDiscriminator), ("classes", models.ClassifyingDiscriminator)],
)
def test_command_line_trains_and_exports_a_conditional_dcgan(
    kind, make_D, tmp_path, monkeypatch, capsys
):
    import matplotlib.pyplot as plt

    split = tiny_labelled_set()
    monkeypatch.setattr(data, "fashion_mnist", lambda s: split, raising=False)
    out = tmp_path / "run"
    argv = ["train", "cdcgan", "--discriminator", kind, "--epochs", "1", "--batch-size", "16",
            "--width", "4", "--latent-dim", "8", "--out", str(out), "--device", "cpu",
            "--no-progress", "--export", str(tmp_path / "G.pt")]  # fmt: skip
    assert cli.main(argv) == 0
    # the checkpoint holds this G and the chosen kind of D
    G, D = models.ConditionalDCGANGenerator(10, 8, 4), make_D(10, 4)
    checkpoints.load_checkpoint(out / "cdcgan.pt", G, D)
    # the sample grid: 8 samples of each class, one class per row, 28 px + 1 px padding
    grid = plt.imread(out / "samples_epoch_001.png")
    assert grid.shape[:2] == (10 * 29 + 1, 8 * 29 + 1)
    # the exported generator alone, with its SHA-256 and settings
    text = capsys.readouterr().out
    assert "epoch 1:" in text
    sha = text.rsplit("SHA-256 ", 1)[1].split()[0]
    G = models.ConditionalDCGANGenerator(classes=10, latent_dim=8, width=4)
    meta = checkpoints.load_checkpoint(tmp_path / "G.pt", G, sha256=sha)
    assert meta["discriminator"] == kind
    assert meta["command"].startswith(f"python -m ganlab train cdcgan --discriminator {kind}")
    assert (meta["latent_dim"], meta["width"], meta["epochs"]) == (8, 4, 1)
    assert G.sample(2, seed=0, labels=1).shape == (2, 1, 28, 28)


def test_command_line_rejects_an_unknown_discriminator(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "cdcgan", "--discriminator", "hinge"])
    assert "invalid choice: 'hinge'" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["projection", "classes"])
def test_shipped_conditional_generators_load_and_sample_each_class(kind):
    G, meta = checkpoints.load_pretrained(f"cdcgan_fashion_mnist_{kind}")
    assert isinstance(G, models.ConditionalDCGANGenerator) and not G.training
    assert G.classes == 10
    assert meta["discriminator"] == kind
    assert meta["command"].startswith("python -m ganlab train cdcgan")
    x = G.sample(10, seed=0, labels=torch.arange(10))
    assert x.shape == (10, 1, 28, 28)
    assert x.min() >= -1 and x.max() <= 1
    assert G.sample(3, seed=0, labels=4).shape == (3, 1, 28, 28)


def test_spectral_norm_critic_run_starts_from_the_plain_d_and_keeps_every_layer_at_1():
    plain = experiments.critic_run(data.ring(), "minimax", steps=1, width=8, n_eval=10)
    sn = experiments.critic_run(data.ring(), "SN", steps=30, width=8, n_eval=10)
    weights = [m for m in plain.D.modules() if isinstance(m, torch.nn.Linear)]
    originals = [m.parametrizations.weight.original for m in sn.D.modules()
                 if isinstance(m, torch.nn.Linear)]  # fmt: skip
    assert len(weights) == len(originals) == 4
    fresh = experiments.build_players(data.ring(), "vanilla", 8, 0)[1]
    first = [m.weight for m in fresh.modules() if isinstance(m, torch.nn.Linear)]
    sn_start = models.spectral_normalise(experiments.build_players(data.ring(), "vanilla", 8, 0)[1])
    start = [m.parametrizations.weight.original for m in sn_start.modules()
             if isinstance(m, torch.nn.Linear)]  # fmt: skip
    for a, b in zip(first, start, strict=True):
        assert torch.equal(a, b)  # normalising keeps the initial weights
    sigmas = lipschitz.spectral_norms(sn.D)
    assert all(abs(s - 1) < 0.05 for s in sigmas), sigmas
