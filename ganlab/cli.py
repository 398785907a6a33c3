"""``python -m ganlab train dcgan|cdcgan|classifier``: train the book's image models (chapters 4-6).

A progress bar per epoch; after every epoch a grid of 64 samples from fixed latents
(``OUT/samples_epoch_NNN.png``; conditional: row r shows class r) and an atomic checkpoint
(``OUT/MODEL.pt``: models, optimisers, random state, history). Run the same command again after an interruption and it resumes after
the last finished epoch. ``--export FILE`` then writes the generator alone (what the book ships)
and prints its SHA-256.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import torch


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ganlab", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train a model")
    models = train.add_subparsers(dest="model", required=True)
    dcgan = models.add_parser("dcgan", help="DCGAN on 28x28 images (Fashion-MNIST or MNIST)")
    cdcgan = models.add_parser(
        "cdcgan", help="class-conditional DCGAN (chapter 6): G(z, y) and a conditional D"
    )
    cdcgan.add_argument("--discriminator", choices=["projection", "classes"],
                        default="projection",
                        help="projection D(x, y), or a (C + 1)-way classifier with a fake class")  # fmt: skip
    for p in (dcgan, cdcgan):
        p.add_argument("--data", choices=["fashion_mnist", "mnist"], default="fashion_mnist")
        p.add_argument("--epochs", type=int, default=5)
        p.add_argument("--batch-size", type=int, default=128)
        p.add_argument("--lr", type=float, default=2e-4)
        p.add_argument(
            "--width", type=int, default=32, help="channels of the first D layer (G: 4x)"
        )
        p.add_argument("--latent-dim", type=int, default=64)
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--out", type=Path, default=None, help="folder for the run (runs/MODEL)")
        p.add_argument("--device", default="auto", help="auto (cuda, mps, cpu), cpu, cuda, mps")
        p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
        p.add_argument("--export", type=Path, default=None,
                       help="after training, write the generator alone here (the shipped weights)")  # fmt: skip
        p.add_argument("--no-progress", action="store_true", help="no progress bar")
    clf = models.add_parser("classifier", help="the small CNN classifier of chapters 4 and 5")
    clf.add_argument("--data", choices=["fashion_mnist", "mnist"], default="fashion_mnist")
    clf.add_argument("--epochs", type=int, default=3)
    clf.add_argument("--batch-size", type=int, default=128)
    clf.add_argument("--seed", type=int, default=0)
    clf.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    clf.add_argument("--export", type=Path, required=True, help="where to write the weights")
    clf.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def train_dcgan(args: argparse.Namespace, argv: list[str]) -> int:
    from ganlab import data, models, plot, train

    if args.threads:
        torch.set_num_threads(args.threads)
    device = train.get_device() if args.device == "auto" else torch.device(args.device)
    train_set = getattr(data, args.data)("train")
    train.seed_everything(args.seed)
    conditional = args.model == "cdcgan"
    if conditional:
        classes = len(train_set.classes)
        G = models.ConditionalDCGANGenerator(classes, args.latent_dim, args.width).to(device)
        make_D = {"projection": models.ProjectionDiscriminator,
                  "classes": models.ClassifyingDiscriminator}[args.discriminator]  # fmt: skip
        D = make_D(classes, args.width).to(device)
    else:
        G = models.DCGANGenerator(latent_dim=args.latent_dim, width=args.width).to(device)
        D = models.DCGANDiscriminator(width=args.width).to(device)
    args.out = args.out or Path("runs") / args.model
    args.out.mkdir(parents=True, exist_ok=True)
    checkpoint = args.out / f"{args.model}.pt"
    if conditional:  # 8 samples of each class, one class per row
        z_fixed = G.sample_latent(8 * G.classes, seed=12345)
        inputs = (z_fixed, G.labels_for(len(z_fixed), torch.arange(len(z_fixed)) // 8))
    else:
        inputs = (G.sample_latent(64, seed=12345),)
    started = time.perf_counter()

    def after_epoch(
        epoch: int, history: train.History, G: torch.nn.Module, D: torch.nn.Module
    ) -> None:
        with torch.no_grad(), models.evaluating(G):
            grid = plot.tile_images(G(*inputs), nrow=8)
        import matplotlib.pyplot as plt

        plt.imsave(
            args.out / f"samples_epoch_{epoch:03d}.png", grid.numpy(), cmap="gray", vmin=0, vmax=1
        )
        last = history.last()
        print(f"epoch {epoch}: loss_D {last['loss_D']:.3f}, loss_G {last['loss_G']:.3f}, "
              f"D(x) {last['d_real']:.2f}, D(G(z)) {last['d_fake']:.2f}, "
              f"{time.perf_counter() - started:.0f} s so far", flush=True)  # fmt: skip

    history = train.fit_epochs(
        G, D, train_set.images, args.epochs, batch_size=args.batch_size, lr=args.lr,
        labels=train_set.labels if conditional else None, seed=args.seed, checkpoint=checkpoint, callback=after_epoch, progress=not args.no_progress,
    )  # fmt: skip
    print(f"trained {args.epochs} epochs ({len(history)} steps); checkpoint {checkpoint}")
    if args.export is not None:
        command = "python -m ganlab " + shlex.join(argv)
        sha = train.save_checkpoint(
            args.export, G.cpu(), None, command=command, seed=args.seed, epochs=args.epochs,
            data=args.data, latent_dim=args.latent_dim, width=args.width,
            discriminator=getattr(args, "discriminator", None),
            batch_size=args.batch_size, lr=args.lr, torch=str(torch.__version__),
        )  # fmt: skip
        print(f"exported the generator to {args.export}, SHA-256 {sha}")
    return 0


def train_classifier(args: argparse.Namespace, argv: list[str]) -> int:
    from ganlab import data, models, train

    if args.threads:
        torch.set_num_threads(args.threads)
    train_set, test_set = getattr(data, args.data)("train"), getattr(data, args.data)("test")
    train.seed_everything(args.seed)
    model = models.ImageClassifier(classes=len(train_set.classes))
    losses = train.fit_classifier(model, train_set.images, train_set.labels, args.epochs,
                                  batch_size=args.batch_size, seed=args.seed,
                                  progress=not args.no_progress)  # fmt: skip
    accuracy = float((model.predict(test_set.images) == test_set.labels).float().mean())
    print(f"losses per epoch {[round(x, 4) for x in losses]}; test accuracy {100 * accuracy:.2f} %")
    sha = train.save_checkpoint(
        args.export, model, None, command="python -m ganlab " + shlex.join(argv), seed=args.seed,
        epochs=args.epochs, data=args.data, test_accuracy=accuracy, torch=str(torch.__version__),
    )  # fmt: skip
    print(f"exported the classifier to {args.export}, SHA-256 {sha}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(argv)
    if args.command == "train" and args.model in ("dcgan", "cdcgan"):
        return train_dcgan(args, argv)
    if args.command == "train" and args.model == "classifier":
        return train_classifier(args, argv)
    return 2  # argparse rejects anything else first
