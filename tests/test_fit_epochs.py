"""train.adversarial_step, train.fit_epochs (resumable), and ``python -m ganlab train dcgan``."""

from __future__ import annotations

import copy
import types

import pytest
import torch
from torch.testing import assert_close

from ganlab import cli, losses, models, train

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
    d_stats, g_stats = train.adversarial_step(
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
    history = train.fit_epochs(G, D, tiny_images(50), 2, batch_size=16, progress=False,
                               callback=lambda e, h, G, D: seen.append((e, len(h))))  # fmt: skip
    assert seen == [(1, 3), (2, 6)]  # 50 // 16 = 3 full batches per epoch; the rest is dropped
    assert history.step == [1, 2, 3, 4, 5, 6]


def test_an_interrupted_run_resumes_to_the_same_result(tmp_path):
    images = tiny_images()
    G_a, D_a = players()
    full = train.fit_epochs(G_a, D_a, images, 3, batch_size=16, progress=False)

    G_b, D_b = players()
    ckpt = tmp_path / "run.pt"
    train.fit_epochs(G_b, D_b, images, 2, batch_size=16, progress=False, checkpoint=ckpt)
    G_c, D_c = players(seed=99)  # a fresh process: other weights, restored from the checkpoint
    resumed = train.fit_epochs(G_c, D_c, images, 3, batch_size=16, progress=False, checkpoint=ckpt)

    assert resumed.step == full.step
    assert_close(resumed.loss_G, full.loss_G)
    for a, b in zip(G_c.state_dict().values(), G_a.state_dict().values(), strict=True):
        assert_close(a, b)
    assert train.load_checkpoint(ckpt, *players())["epoch"] == 3


def test_fit_epochs_rejects_too_few_images():
    G, D = players()
    with pytest.raises(ValueError, match=r"N >= batch_size = 64, got \(10, 1, 28, 28\)"):
        train.fit_epochs(G, D, tiny_images(10), 1, batch_size=64, progress=False)


def test_a_tampered_checkpoint_is_rejected_before_loading(tmp_path):
    G, D = players()
    sha = train.save_checkpoint(tmp_path / "g.pt", G)
    data = bytearray((tmp_path / "g.pt").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / "g.pt").write_bytes(bytes(data))
    with pytest.raises(train.CheckpointError, match="has SHA-256"):
        train.load_checkpoint(tmp_path / "g.pt", players()[0], sha256=sha)


def test_resuming_needs_the_optimiser_state(tmp_path):
    G, D = players()
    train.save_checkpoint(tmp_path / "g.pt", G, D, epoch=1)
    with pytest.raises(train.CheckpointError, match="holds no opt_G state"):
        train.load_checkpoint(tmp_path / "g.pt", G, D, opt_G=torch.optim.Adam(G.parameters()))


def test_command_line_trains_resumes_and_exports(tmp_path, monkeypatch, capsys):
    from ganlab import data

    fake_data = types.SimpleNamespace(images=tiny_images(40))
    monkeypatch.setattr(data, "fashion_mnist", lambda split: fake_data, raising=False)
    argv = ["train", "dcgan", "--epochs", "1", "--batch-size", "16", "--width", "4",
            "--latent-dim", "8", "--out", str(tmp_path / "run"), "--device", "cpu", "--no-progress"]  # fmt: skip
    assert cli.main(argv) == 0
    assert (tmp_path / "run" / "samples_epoch_001.png").is_file()
    argv[3] = "2"  # same command, more epochs: resumes after epoch 1
    assert cli.main([*argv, "--export", str(tmp_path / "G.pt")]) == 0
    out = capsys.readouterr().out
    assert "epoch 1:" in out and "epoch 2:" in out and out.count("epoch 1:") == 1
    sha = out.rsplit("SHA-256 ", 1)[1].split()[0]
    G = models.DCGANGenerator(8, 4)
    meta = train.load_checkpoint(tmp_path / "G.pt", G, sha256=sha)
    assert meta["epochs"] == 2 and meta["command"].startswith("python -m ganlab train dcgan")


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
    epoch_losses = train.fit_classifier(model, images, labels, 5, batch_size=16, progress=False)
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
    assert train.load_checkpoint(out, models.ImageClassifier(classes=2))["epochs"] == 1


@pytest.mark.parametrize(
    "name", ["dcgan_fashion_mnist", "dcgan_fashion_mnist_epoch1", "classifier_fashion_mnist"]
)
def test_shipped_weights_load_with_their_checksum_and_command(name):
    model, meta = train.load_pretrained(name)
    assert not model.training
    assert meta["command"].startswith("python -m ganlab train")
    assert meta["seed"] == 0


def test_load_pretrained_rejects_unknown_names_and_a_wrong_checksum(monkeypatch):
    with pytest.raises(ValueError, match="unknown pretrained model 'gpt'"):
        train.load_pretrained("gpt")
    monkeypatch.setattr(train, "DCGAN_FASHION_MNIST_SHA256", "0" * 64)
    with pytest.raises(train.CheckpointError, match="expected 0000"):
        train.load_pretrained("dcgan_fashion_mnist")


def test_bf16_runs_the_forward_passes_in_bf16_and_keeps_losses_and_weights_fp32():
    """precision=torch.bfloat16: the convolutions compute in bf16, the losses and every weight
    stay fp32, and the first step's losses are the fp32 step's to bf16's rounding."""
    G, D = players()
    G16, D16 = copy.deepcopy(G), copy.deepcopy(D)
    seen = []
    hook = D16.net[0].register_forward_hook(lambda m, args, out: seen.append(out.dtype))
    kwargs = {"batch_size": 16, "progress": False}
    h32 = train.fit_epochs(G, D, tiny_images(16), 1, **kwargs)
    h16 = train.fit_epochs(G16, D16, tiny_images(16), 1, precision=torch.bfloat16, **kwargs)
    hook.remove()
    assert seen and set(seen) == {torch.bfloat16}
    assert {p.dtype for p in [*G16.parameters(), *D16.parameters()]} == {torch.float32}
    assert_close(h16.loss_D, h32.loss_D, rtol=0.02, atol=0.02)
    assert_close(h16.loss_G, h32.loss_G, rtol=0.02, atol=0.02)
    assert h16.loss_D != h32.loss_D  # bf16 was really used


def test_precision_other_than_fp32_and_bf16_or_bf16_with_labels_is_refused():
    G, D = players()
    with pytest.raises(ValueError, match="precision must be torch.float32 or torch.bfloat16"):
        train.fit_epochs(G, D, tiny_images(16), 1, batch_size=16, precision=torch.float16)
    Gc, Dc = (
        models.ConditionalDCGANGenerator(10, LATENT, WIDTH),
        models.ProjectionDiscriminator(10, WIDTH),
    )
    with pytest.raises(ValueError, match="bfloat16 is for unconditional training"):
        train.fit_epochs(Gc, Dc, tiny_images(16), 1, batch_size=16, labels=torch.zeros(16).long(),
                         precision=torch.bfloat16)  # fmt: skip
