"""``python -m ganlab train cdcgan``: trains and exports a class-conditional DCGAN (kept out of
test_cli.py, which is being rewritten separately)."""

from __future__ import annotations

import types

import pytest
import torch

from ganlab import checkpoints, cli, data, models

# ----------------------------------------------------------------------------- train cdcgan


def tiny_labelled_set(n: int = 40):
    g = torch.Generator().manual_seed(1)
    return types.SimpleNamespace(images=torch.rand(n, 1, 28, 28, generator=g) * 2 - 1,
                                 labels=torch.arange(n) % 10, classes=[f"class {k}" for k in range(10)])  # fmt: skip


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
