"""ganlab.train_images: adversarial_step and conditional_step against a step by hand,
fit_epochs (resumable, class-conditional, bf16 forward passes) and fit_classifier."""

from __future__ import annotations

import copy
import math
import types

import pytest
import torch
import torch.nn.functional as F
from conftest import CLASSES, F64, conditional_players, images, log_softmax_by_hand, params
from test_train import ADAM
from torch.testing import assert_close

from ganlab import checkpoints, cli, losses, models, train_images

LATENT, WIDTH = 8, 4


def players(seed: int = 0):
    torch.manual_seed(seed)
    return models.DCGANGenerator(LATENT, WIDTH), models.DCGANDiscriminator(WIDTH)


def tiny_images(n: int = 48, seed: int = 1) -> torch.Tensor:
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_adversarial_step_is_d_step_then_g_step_on_the_same_fake_batch():
    G, D = players()
    G_ref, D_ref = copy.deepcopy(G), copy.deepcopy(D)
    x, z = tiny_images(16), torch.randn(16, LATENT)
    adam = {"lr": 1e-3, "betas": (0.5, 0.999)}
    d_stats, g_stats = train_images.adversarial_step(
        G,
        D,
        x,
        z,
        torch.optim.Adam(D.parameters(), **adam),
        torch.optim.Adam(G.parameters(), **adam),
    )
    # by hand: one fake batch, D step on it detached, then G through the updated D
    opt_D, opt_G = (torch.optim.Adam(m.parameters(), **adam) for m in (D_ref, G_ref))
    fake = G_ref(z)
    loss_D = losses.d_loss_minimax(D_ref(x), D_ref(fake.detach()))
    opt_D.zero_grad()
    loss_D.backward()
    opt_D.step()
    loss_G = losses.g_loss_nonsaturating(D_ref(fake))
    opt_G.zero_grad()
    loss_G.backward()
    opt_G.step()
    assert_close(d_stats["loss_D"], loss_D.item())
    assert_close(g_stats["loss_G"], loss_G.item())
    for a, b in zip(list(G.parameters()) + list(D.parameters()),
                    list(G_ref.parameters()) + list(D_ref.parameters()), strict=True):  # fmt: skip
        assert_close(a, b)


def test_fit_epochs_records_every_step_and_calls_back_per_epoch():
    G, D = players()
    seen = []
    history = train_images.fit_epochs(
        G, D, tiny_images(50), 2, batch_size=16, progress=False,
        callback=lambda e, h, G, D: seen.append((e, len(h))),
    )  # fmt: skip
    assert seen == [(1, 3), (2, 6)]  # 50 // 16 = 3 full batches per epoch; the rest is dropped
    assert history.step == [1, 2, 3, 4, 5, 6]


def test_an_interrupted_run_resumes_to_the_same_result(tmp_path):
    images = tiny_images()
    G_a, D_a = players()
    full = train_images.fit_epochs(G_a, D_a, images, 3, batch_size=16, progress=False)

    G_b, D_b = players()
    ckpt = tmp_path / "run.pt"
    train_images.fit_epochs(G_b, D_b, images, 2, batch_size=16, progress=False, checkpoint=ckpt)
    G_c, D_c = players(seed=99)  # a fresh process: other weights, restored from the checkpoint
    resumed = train_images.fit_epochs(
        G_c, D_c, images, 3, batch_size=16, progress=False, checkpoint=ckpt
    )

    assert resumed.step == full.step
    assert_close(resumed.loss_G, full.loss_G)
    for a, b in zip(G_c.state_dict().values(), G_a.state_dict().values(), strict=True):
        assert_close(a, b)
    assert checkpoints.load_checkpoint(ckpt, *players())["epoch"] == 3


def test_fit_epochs_rejects_too_few_images():
    G, D = players()
    with pytest.raises(ValueError, match=r"N >= batch_size = 64, got \(10, 1, 28, 28\)"):
        train_images.fit_epochs(G, D, tiny_images(10), 1, batch_size=64, progress=False)


def test_classifier_learns_a_separable_toy_and_the_command_exports_it(
    tmp_path, monkeypatch, capsys
):
    from ganlab import data

    g = torch.Generator().manual_seed(0)
    labels = torch.arange(60) % 2
    images = torch.rand(60, 1, 28, 28, generator=g) * 0.2 - 1 + labels[:, None, None, None] * 1.5
    split = types.SimpleNamespace(images=images, labels=labels, classes=["dark", "bright"])
    torch.manual_seed(0)
    model = models.ImageClassifier(classes=2, width=4, feature_dim=8)
    epoch_losses = train_images.fit_classifier(
        model, images, labels, 5, batch_size=16, progress=False
    )
    assert epoch_losses[-1] < epoch_losses[0]
    assert (model.predict(images) == labels).all()
    assert model.features(images[:3]).shape == (3, 8)

    monkeypatch.setattr(data, "fashion_mnist", lambda s: split, raising=False)
    out = tmp_path / "clf.pt"
    assert (
        cli.main(["train", "classifier", "--epochs", "1", "--export", str(out), "--no-progress"])
        == 0
    )
    assert "test accuracy" in capsys.readouterr().out
    assert checkpoints.load_checkpoint(out, models.ImageClassifier(classes=2))["epochs"] == 1


def test_bf16_runs_the_forward_passes_in_bf16_and_keeps_losses_and_weights_fp32():
    """precision=torch.bfloat16: the convolutions compute in bf16, the losses and every weight
    stay fp32, and the first step's losses are the fp32 step's to bf16's rounding."""
    G, D = players()
    G16, D16 = copy.deepcopy(G), copy.deepcopy(D)
    seen = []
    hook = D16.net[0].register_forward_hook(lambda m, args, out: seen.append(out.dtype))
    kwargs = {"batch_size": 16, "progress": False}
    h32 = train_images.fit_epochs(G, D, tiny_images(16), 1, **kwargs)
    h16 = train_images.fit_epochs(G16, D16, tiny_images(16), 1, precision=torch.bfloat16, **kwargs)
    hook.remove()
    assert seen and set(seen) == {torch.bfloat16}
    assert {p.dtype for p in [*G16.parameters(), *D16.parameters()]} == {torch.float32}
    assert_close(h16.loss_D, h32.loss_D, rtol=0.02, atol=0.02)
    assert_close(h16.loss_G, h32.loss_G, rtol=0.02, atol=0.02)
    assert h16.loss_D != h32.loss_D  # bf16 was really used


def test_precision_other_than_fp32_and_bf16_or_bf16_with_labels_is_refused():
    G, D = players()
    with pytest.raises(ValueError, match="precision must be torch.float32 or torch.bfloat16"):
        train_images.fit_epochs(G, D, tiny_images(16), 1, batch_size=16, precision=torch.float16)
    Gc, Dc = (
        models.ConditionalDCGANGenerator(10, LATENT, WIDTH),
        models.ProjectionDiscriminator(10, WIDTH),
    )
    with pytest.raises(ValueError, match="bfloat16 is for unconditional training"):
        train_images.fit_epochs(Gc, Dc, tiny_images(16), 1, batch_size=16,
                                labels=torch.zeros(16).long(), precision=torch.bfloat16)  # fmt: skip


# ----------------------------------------------------------------------------- conditional training


@pytest.mark.parametrize("kind", ["ProjectionDiscriminator", "ClassifyingDiscriminator"])
def test_conditional_step_is_a_d_step_then_a_g_step_through_the_new_D_by_hand(kind):
    G, D = conditional_players(kind)
    G_ref, D_ref = copy.deepcopy(G), copy.deepcopy(D)
    G0, D0 = params(G), params(D)
    gen = torch.Generator().manual_seed(0)
    x_real, z = tiny_images(8), torch.randn(8, LATENT, generator=gen)
    y_real, y_fake = (
        torch.randint(CLASSES, (8,), generator=gen),
        torch.randint(CLASSES, (8,), generator=gen),
    )
    opts = [torch.optim.Adam(m.parameters(), **ADAM) for m in (D, G)]
    d_stats, g_stats = train_images.conditional_step(G, D, x_real, y_real, z, y_fake, *opts)

    opt_D, opt_G = (torch.optim.Adam(m.parameters(), **ADAM) for m in (D_ref, G_ref))
    x_fake = G_ref(z, y_fake)
    if kind == "ProjectionDiscriminator":
        d_real, d_fake = D_ref(x_real, y_real), D_ref(x_fake.detach(), y_fake)
        loss_D = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
        p_real, p_fake = torch.sigmoid(d_real), torch.sigmoid(d_fake)
    else:
        ls_real, ls_fake = (
            log_softmax_by_hand(D_ref(x_real)),
            log_softmax_by_hand(D_ref(x_fake.detach())),
        )
        loss_D = -ls_real[torch.arange(8), y_real].mean() - ls_fake[:, CLASSES].mean()
        p_real, p_fake = 1 - ls_real[:, CLASSES].exp(), 1 - ls_fake[:, CLASSES].exp()
    opt_D.zero_grad()
    loss_D.backward()
    d_grads = [p.grad.clone() for p in D_ref.parameters()]
    opt_D.step()
    if kind == "ProjectionDiscriminator":
        loss_G = F.softplus(-D_ref(x_fake, y_fake)).mean()
    else:
        loss_G = -log_softmax_by_hand(D_ref(x_fake))[torch.arange(8), y_fake].mean()
    opt_G.zero_grad()
    loss_G.backward()  # also leaves gradients on D_ref, but D_ref takes no second step
    opt_G.step()

    assert_close(d_stats["loss_D"], loss_D.item())
    assert_close(g_stats["loss_G"], loss_G.item())
    assert_close(d_stats["p_real"], p_real.mean().item())
    assert_close(d_stats["p_fake"], p_fake.mean().item())
    for p, q in zip(list(G.parameters()) + list(D.parameters()),
                    list(G_ref.parameters()) + list(D_ref.parameters()), strict=True):  # fmt: skip
        assert_close(p, q)
    # D's gradients are those of its own loss only: G's update left them alone
    for p, g in zip(D.parameters(), d_grads, strict=True):
        assert_close(p.grad, g.to(p.grad.dtype))
    # both players moved
    assert any(not torch.equal(p, q) for p, q in zip(G.parameters(), G0, strict=True))
    assert any(not torch.equal(p, q) for p, q in zip(D.parameters(), D0, strict=True))


def test_fit_epochs_with_labels_pairs_each_image_with_its_label_by_hand():
    """Two steps of fit_epochs(labels=...) == shuffle, z, random fake classes, conditional_step."""
    G, D = conditional_players("ProjectionDiscriminator")
    G_ref, D_ref = copy.deepcopy(G), copy.deepcopy(D)
    x, y = tiny_images(32), torch.arange(32) % CLASSES
    history = train_images.fit_epochs(G, D, x, 1, batch_size=16, labels=y, seed=0, progress=False)
    assert len(history) == 2

    generator = torch.Generator().manual_seed(0)
    opts = [torch.optim.Adam(m.parameters(), lr=2e-4, betas=(0.5, 0.999)) for m in (D_ref, G_ref)]
    order = torch.randperm(32, generator=generator)
    for i in range(2):
        rows = order[16 * i : 16 * (i + 1)]
        z = torch.randn(16, LATENT, generator=generator)
        y_fake = torch.randint(CLASSES, (16,), generator=generator)
        d_stats, g_stats = train_images.conditional_step(
            G_ref, D_ref, x[rows], y[rows], z, y_fake, *opts
        )
        assert_close(history.loss_D[i], d_stats["loss_D"])
        assert_close(history.loss_G[i], g_stats["loss_G"])
    for p, q in zip(list(G.parameters()) + list(D.parameters()),
                    list(G_ref.parameters()) + list(D_ref.parameters()), strict=True):  # fmt: skip
        assert_close(p, q)


def test_fit_epochs_trains_a_classifying_pair_on_64_images():
    G, D = conditional_players("ClassifyingDiscriminator")
    history = train_images.fit_epochs(G, D, tiny_images(64), 1, batch_size=16,
                                      labels=torch.arange(64) % CLASSES, progress=False)  # fmt: skip
    assert len(history) == 4
    assert all(math.isfinite(v) for column in history.as_dict().values() for v in column)


@pytest.mark.parametrize(
    ("labels", "error", "message"),
    [
        (torch.arange(63) % CLASSES, ValueError, r"labels \(one class per image\) must have shape \(64,\), one per sample, got \(63,\)"),
        (torch.arange(64) % 11, ValueError, r"must lie in \[0, 9\] \(10 classes\), got 10"),
        (torch.full((64,), -3), ValueError, r"got -3"),
        (torch.zeros(64), TypeError, r"got dtype torch\.float32"),
    ],
)  # fmt: skip
def test_fit_epochs_rejects_bad_labels_before_training(labels, error, message):
    G, D = conditional_players("ProjectionDiscriminator")
    G0, D0 = params(G), params(D)
    with pytest.raises(error, match=message):
        train_images.fit_epochs(
            G, D, tiny_images(64), 1, batch_size=16, labels=labels, progress=False
        )
    for model, before in ((G, G0), (D, D0)):
        for p, q in zip(model.parameters(), before, strict=True):
            assert torch.equal(p, q)


def test_fit_epochs_takes_dcgans_config_and_refuses_what_its_loop_does_not_do():
    assert train_images.DCGAN.changes() == {"lr_D": 2e-4, "lr_G": 2e-4, "batch_size": 128}
    G, D = players()
    with pytest.raises(ValueError, match=r"without \['d_steps', 'penalty'\]"):
        train_images.fit_epochs(G, D, tiny_images(16), 1, batch_size=16, d_steps=2,
                                penalty=losses.r1(1.0), progress=False)  # fmt: skip
    with pytest.raises(TypeError, match=r"unknown training setting\(s\) \['lr'\]"):
        train_images.fit_epochs(G, D, tiny_images(16), 1, batch_size=16, lr=1e-3)


def frozen_step(G, D, x_real, y_real, x_fake_batch):
    """conditional_step with learning rate 0 (nothing moves): its stats are the losses."""
    z, y_fake = x_fake_batch
    opt_D, opt_G = (torch.optim.SGD(m.parameters(), lr=0.0) for m in (D, G))
    return train_images.conditional_step(G, D, x_real, y_real, z, y_fake, opt_D, opt_G)


def test_projection_discriminator_trains_on_the_minimax_and_nonsaturating_losses():
    G, D = conditional_players("ProjectionDiscriminator")
    G, D = G.to(F64).eval(), D.to(F64).eval()
    x_real, y_real = images(4, 1).to(F64), torch.tensor([0, 1, 2, 3])
    z, y_fake = torch.randn(3, LATENT, dtype=F64), torch.tensor([4, 5, 6])
    d_stats, g_stats = frozen_step(G, D, x_real, y_real, (z, y_fake))
    d_real, d_fake = D(x_real, y_real), D(G(z, y_fake), y_fake)
    expected = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()  # -log D, -log(1 - D)
    assert d_stats["loss_D"] == pytest.approx(expected.item(), rel=1e-12)
    assert g_stats["loss_G"] == pytest.approx(F.softplus(-d_fake).mean().item(), rel=1e-12)
    assert d_stats["p_real"] == pytest.approx(torch.sigmoid(d_real).mean().item(), rel=1e-12)
    assert d_stats["p_fake"] == pytest.approx(torch.sigmoid(d_fake).mean().item(), rel=1e-12)


def test_classifying_discriminator_logits_realness_and_losses():
    G, D = conditional_players("ClassifyingDiscriminator")
    G, D = G.to(F64).eval(), D.to(F64).eval()
    with torch.no_grad():  # larger logits than the N(0, 0.02) initialisation gives
        D.body.head.weight.mul_(50)
    x_real, y_real = images(4, 1).to(F64), torch.tensor([0, 9, 2, 3])
    z, y_fake = torch.randn(3, LATENT, dtype=F64), torch.tensor([4, 5, 6])
    x_fake = G(z, y_fake)
    logits = D(x_real)
    assert logits.shape == (4, CLASSES + 1)
    # realness is the logit of P(real) = 1 - softmax(l)_C, whatever the label
    realness = D.realness(x_real, y_real)
    p_fake = log_softmax_by_hand(logits)[:, CLASSES].exp()
    assert_close(torch.sigmoid(realness), 1 - p_fake)
    assert_close(D.realness(x_real, y_fake.new_zeros(4)), realness)
    d_stats, g_stats = frozen_step(G, D, x_real, y_real, (z, y_fake))
    ls_real, ls_fake = log_softmax_by_hand(D(x_real)), log_softmax_by_hand(D(x_fake))
    expected = -ls_real[torch.arange(4), y_real].mean() - ls_fake[:, CLASSES].mean()
    assert d_stats["loss_D"] == pytest.approx(expected.item(), rel=1e-12)
    assert d_stats["p_real"] == pytest.approx(torch.sigmoid(realness).mean().item(), rel=1e-12)
    fake_realness = D.realness(x_fake, y_fake)
    assert d_stats["p_fake"] == pytest.approx(torch.sigmoid(fake_realness).mean().item(), rel=1e-12)
    loss_G = -ls_fake[torch.arange(3), y_fake].mean()
    assert g_stats["loss_G"] == pytest.approx(loss_G.item(), rel=1e-12)
    # the extra class C is "fake": it is not a label a real image may carry
    with pytest.raises(ValueError, match=r"y_real .* must lie in \[0, 9\] \(10 classes\), got 10"):
        frozen_step(G, D, x_real, torch.tensor([0, 10, 2, 3]), (z, y_fake))


def test_conditional_step_refuses_an_unconditional_discriminator():
    G, _ = conditional_players("ProjectionDiscriminator")
    D = models.DCGANDiscriminator(WIDTH)
    with pytest.raises(
        TypeError, match="conditional discriminator of models, got DCGANDiscriminator"
    ):
        frozen_step(
            G, D, images(2), torch.tensor([0, 1]), (torch.randn(2, LATENT), torch.tensor([1, 2]))
        )
