"""``python -m ganlab train dcgan|cdcgan|classifier``: train the book's image models (ch. 4, 5, 7).

A progress bar per epoch; after every epoch a grid of 64 samples from fixed latents
(``OUT/samples_epoch_NNN.png``; conditional: row r shows class r) and an atomic checkpoint
(``OUT/MODEL.pt``: models, optimisers, random state, history, settings). Run the same command
again after an interruption and it resumes after the last finished epoch; a command whose
settings differ from the checkpoint's is refused, naming each difference. ``--export FILE``
then writes the generator alone (what the book ships) and prints its SHA-256.

Every option is checked before any data is read or any file is written: a user error is one
line on stderr and exit code 2, as argparse does.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

import torch

from ganlab import checkpoints, cpu, data, models, plot, train, train_images
from ganlab.checkpoints import CheckpointError
from ganlab.data import DataError
from ganlab.train import TrainingDiverged

DEFAULT_FOLDER = "runs/MODEL_DATA[_DISCRIMINATOR][_widthW][_latentZ]"
"""The default --out: one folder per configuration, so two configurations never share one."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line: ``PROG: error: MESSAGE``, exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default, except where there is none (None, or a flag)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def _number(text: str, convert, accept, expected: str):
    """``convert(text)`` if it parses and ``accept`` holds, else argparse's one-line error."""
    try:
        value = convert(text)
    except ValueError:
        value = None
    if value is None or not accept(value):
        raise argparse.ArgumentTypeError(f"must be {expected}, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    return _number(text, int, lambda v: v > 0, "a positive integer")


def _seed(text: str) -> int:
    return _number(text, int, lambda v: v >= 0, "an integer >= 0")


def _positive_float(text: str) -> float:
    return _number(text, float, lambda v: 0 < v < float("inf"), "a positive finite number")


def _device(text: str) -> str:
    """'auto', 'cpu', 'mps', 'cuda' or 'cuda:N', refused unless this machine has it."""
    kind, _, index = text.partition(":")
    if kind not in ("auto", "cpu", "cuda", "mps") or (
        index and (kind != "cuda" or not index.isdigit())
    ):
        raise argparse.ArgumentTypeError(f"must be auto, cpu, cuda, cuda:N or mps, got {text!r}")
    if kind == "cuda":
        if not torch.cuda.is_available():
            build = "is built without CUDA" if torch.version.cuda is None else "finds no CUDA GPU"
            raise argparse.ArgumentTypeError(
                f"{text!r} is not available: this torch {torch.__version__} {build} "
                "(use --device cpu or auto)"
            )
        if index and int(index) >= torch.cuda.device_count():
            raise argparse.ArgumentTypeError(
                f"{text!r} is not available: this machine has {torch.cuda.device_count()} "
                "CUDA device(s)"
            )
    mps = getattr(torch.backends, "mps", None)
    if kind == "mps" and (mps is None or not mps.is_available()):
        raise argparse.ArgumentTypeError(f"{text!r} is not available on this machine")
    return text


def _parser() -> _Parser:
    parser = _Parser(prog="python -m ganlab", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train a model", description="train a model")
    models = train.add_subparsers(dest="model", required=True)
    style = {"formatter_class": _Help}
    dcgan = models.add_parser(
        "dcgan", help="DCGAN on 28x28 images (Fashion-MNIST or MNIST)", **style,
        description="Train a DCGAN (chapter 4); run the same command again to resume.",
    )  # fmt: skip
    cdcgan = models.add_parser(
        "cdcgan", help="class-conditional DCGAN (chapter 7): G(z, y) and a conditional D",
        description="Train a class-conditional DCGAN (chapter 7); run the same command again "
        "to resume.", **style,
    )  # fmt: skip
    cdcgan.add_argument("--discriminator", choices=["projection", "classes"],
                        default="projection",
                        help="projection D(x, y), or a (C + 1)-way classifier with a fake class")  # fmt: skip
    for p in (dcgan, cdcgan):
        p.add_argument("--data", choices=["fashion_mnist", "mnist"], default="fashion_mnist",
                       help="the training images")  # fmt: skip
        p.add_argument("--epochs", type=_positive_int, default=5,
                       help="passes over the training set, in all (a resumed run continues "
                       "up to this many)")  # fmt: skip
        p.add_argument("--batch-size", type=_positive_int, default=128, help="images per step")
        p.add_argument("--lr", type=_positive_float, default=2e-4,
                       help="Adam's learning rate for G and D (beta1 = 0.5)")  # fmt: skip
        p.add_argument("--width", type=_positive_int, default=32,
                       help="channels of the first D layer (G: 4x)")  # fmt: skip
        p.add_argument("--latent-dim", type=_positive_int, default=64,
                       help="the size of z")  # fmt: skip
        p.add_argument("--seed", type=_seed, default=0,
                       help="seeds the weights, the batches and the noise")  # fmt: skip
        p.add_argument("--out", type=Path, default=None,
                       help=f"folder for the checkpoint and the sample grids (default: "
                       f"{DEFAULT_FOLDER}, e.g. runs/dcgan_fashion_mnist)")  # fmt: skip
        p.add_argument(
            "--device",
            type=_device,
            default="auto",
            help="auto (cuda, then mps, then cpu), cpu, cuda, cuda:N or mps",
        )
        p.add_argument("--threads", type=_positive_int, default=None,
                       help="torch CPU threads (default: the idle cores, see "
                     "ganlab.cpu; GANLAB_THREADS=N also sets it)")  # fmt: skip
        p.add_argument("--export", type=Path, default=None,
                       help="after training, write the generator alone to this file (the "
                       "shipped weights) and print its SHA-256 (default: no export)")  # fmt: skip
        p.add_argument("--no-progress", action="store_true", help="no progress bar")
    clf = models.add_parser(
        "classifier", help="the small CNN classifier of chapters 4 and 5", **style,
        description="Train the small CNN classifier of chapters 4 and 5 and export it.",
    )  # fmt: skip
    clf.add_argument("--data", choices=["fashion_mnist", "mnist"], default="fashion_mnist",
                     help="the training and test images")  # fmt: skip
    clf.add_argument("--epochs", type=_positive_int, default=3, help="passes over the training set")
    clf.add_argument("--batch-size", type=_positive_int, default=128, help="images per step")
    clf.add_argument("--seed", type=_seed, default=0, help="seeds the weights and the batches")
    clf.add_argument("--threads", type=_positive_int, default=None,
                     help="torch CPU threads (default: the idle cores, see "
                     "ganlab.cpu; GANLAB_THREADS=N also sets it)")  # fmt: skip
    clf.add_argument("--export", type=Path, required=True,
                     help="where to write the weights (required)")  # fmt: skip
    clf.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def default_folder(args: argparse.Namespace) -> Path:
    """runs/MODEL_DATA[_DISCRIMINATOR][_widthW][_latentZ]: its own folder per configuration
    (the width and latent size appear only when they differ from the defaults 32 and 64)."""
    name = f"{args.model}_{args.data}"
    if getattr(args, "discriminator", None):
        name += f"_{args.discriminator}"
    if args.width != 32:
        name += f"_width{args.width}"
    if args.latent_dim != 64:
        name += f"_latent{args.latent_dim}"
    return Path("runs") / name


def _fail(args: argparse.Namespace, message: str) -> NoReturn:
    """A user error found after parsing: reported like argparse's own, exit code 2."""
    _Parser(prog=f"python -m ganlab train {args.model}").error(message)


def _check_writable_file(args: argparse.Namespace, option: str, path: Path) -> None:
    """Refuse a file path that is a folder or whose folder cannot be created or written."""
    if path.is_dir():
        _fail(args, f"{option} {path} is a folder; give a file name")
    _check_writable_folder(args, option, path.parent, path)


def _check_writable_folder(
    args: argparse.Namespace, option: str, folder: Path, shown: Path
) -> None:
    """Refuse a folder that exists as a file, or that cannot be created or written to."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        _fail(args, f"{option} {shown} cannot be created: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        _fail(args, f"{option} {shown} cannot be written: {existing} is not writable")


OPTIONS = {"data": "--data", "discriminator": "--discriminator", "width": "--width",
           "latent_dim": "--latent-dim", "seed": "--seed", "batch_size": "--batch-size",
           "lr_D": "--lr", "lr_G": "--lr"}  # fmt: skip
"""Checkpoint meta key -> the option that sets it: what a resume must repeat."""


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    """What the checkpoint records beyond ``fit_epochs``'s own settings."""
    settings = {"model": args.model, "data": args.data, "width": args.width,
                "latent_dim": args.latent_dim}  # fmt: skip
    if args.model == "cdcgan":
        settings["discriminator"] = args.discriminator
    return settings


def _check_resume(args: argparse.Namespace, checkpoint: Path) -> None:
    """Refuse to resume a checkpoint that is unreadable, of another configuration, or
    further along than --epochs; the message names each difference and how to start fresh."""
    fresh = f"use another --out, or delete {checkpoint}, to start fresh"
    if checkpoint.is_dir():
        _fail(args, f"the checkpoint path {checkpoint} is a folder; {fresh}")
    if not checkpoint.exists():
        return
    try:
        meta = checkpoints.checkpoint_meta(checkpoint)
    except checkpoints.CheckpointError as error:
        _fail(args, f"{error}; {fresh}")
    if meta.get("model", args.model) != args.model:
        _fail(args, f"{checkpoint} is a {meta['model']} run, not {args.model}; {fresh}")
    ours = {**_settings(args), "seed": args.seed, "batch_size": args.batch_size,
            "lr_D": args.lr, "lr_G": args.lr}  # fmt: skip
    differences = list(dict.fromkeys(  # --lr sets lr_D and lr_G: name it once
        f"{option} {ours[key]} (the checkpoint has {meta[key]})"
        for key, option in OPTIONS.items()
        if key in ours and key in meta and meta[key] != ours[key]
    ))  # fmt: skip
    if differences:
        again = " ".join(dict.fromkeys(f"{OPTIONS[k]} {meta[k]}" for k in OPTIONS
                                       if k in meta and k in ours))  # fmt: skip
        _fail(args, f"{checkpoint} was trained with other settings: {', '.join(differences)}; "
                    f"resume with {again}, or {fresh}")  # fmt: skip
    if int(meta.get("epoch", 0)) > args.epochs:
        done = meta["epoch"]
        _fail(args, f"{checkpoint} already holds {done} epochs, more than --epochs "
                    f"{args.epochs}; ask for --epochs {done} or more, or {fresh}")  # fmt: skip


def _check_export(args: argparse.Namespace, checkpoint: Path | None) -> None:
    """Refuse an --export that is a folder, unwritable, the run's checkpoint, or another
    checkpoint that holds a run to resume (writing G alone there would lose it)."""
    export = args.export
    _check_writable_file(args, "--export", export)
    if checkpoint is not None and export.resolve() == checkpoint.resolve():
        _fail(args, f"--export {export} is this run's checkpoint; writing the generator alone "
                    "there would destroy the run to resume: choose another file")  # fmt: skip
    if export.is_file() and checkpoints.is_resumable(export):
        _fail(args, f"--export {export} holds a training run to resume (a checkpoint with "
                    "optimiser state); writing the generator alone there would lose it: "
                    "choose another file")  # fmt: skip


def _set_threads(args: argparse.Namespace) -> torch.dtype:
    """torch's threads for convolutions, from ganlab.cpu's plan (or --threads), printed; returns
    the plan's precision for image training (bf16 where this CPU computes it natively)."""
    plan = cpu.setup("conv", args.threads)
    print(plan)
    return plan.precision


def train_dcgan(args: argparse.Namespace, argv: list[str]) -> int:
    args.out = args.out or default_folder(args)
    checkpoint = args.out / f"{args.model}.pt"
    if args.out.exists() and not args.out.is_dir():
        _fail(args, f"--out {args.out} is a file, not a folder")
    _check_writable_folder(args, "--out", args.out, args.out)
    _check_resume(args, checkpoint)
    if args.export is not None:
        _check_export(args, checkpoint)
    precision = _set_threads(args)
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
    args.out.mkdir(parents=True, exist_ok=True)
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
              f"D(x) {last['p_real']:.2f}, D(G(z)) {last['p_fake']:.2f}, "
              f"{time.perf_counter() - started:.0f} s so far", flush=True)  # fmt: skip

    try:
        history = train_images.fit_epochs(
            G, D, train_set.images, args.epochs, batch_size=args.batch_size, lr_D=args.lr, lr_G=args.lr,
            labels=train_set.labels if conditional else None, seed=args.seed,
            checkpoint=checkpoint, callback=after_epoch, progress=not args.no_progress,
            settings=_settings(args),
            precision=precision if not conditional and device.type == "cpu" else torch.float32,
        )  # fmt: skip
    except KeyboardInterrupt:
        if checkpoint.is_file():
            epoch = checkpoints.checkpoint_meta(checkpoint).get("epoch", "?")
            print(f"\ninterrupted: {checkpoint} holds the last finished epoch ({epoch}); run "
                  "the same command to resume", file=sys.stderr)  # fmt: skip
        else:
            print("\ninterrupted before the first epoch finished: nothing was saved; run the "
                  "same command to start again", file=sys.stderr)  # fmt: skip
        return 130
    print(f"trained {args.epochs} epochs ({len(history)} steps); checkpoint {checkpoint}")
    if args.export is not None:
        command = "python -m ganlab " + shlex.join(argv)
        sha = checkpoints.save_checkpoint(
            args.export, G.cpu(), None, command=command, seed=args.seed, epochs=args.epochs,
            data=args.data, latent_dim=args.latent_dim, width=args.width,
            discriminator=getattr(args, "discriminator", None),
            batch_size=args.batch_size, lr=args.lr, torch=str(torch.__version__),
        )  # fmt: skip
        print(f"exported the generator to {args.export}, SHA-256 {sha}")
    return 0


def train_classifier(args: argparse.Namespace, argv: list[str]) -> int:
    _check_export(args, None)
    _set_threads(args)
    train_set, test_set = getattr(data, args.data)("train"), getattr(data, args.data)("test")
    train.seed_everything(args.seed)
    model = models.ImageClassifier(classes=len(train_set.classes))
    try:
        losses = train_images.fit_classifier(model, train_set.images, train_set.labels, args.epochs,
                                             batch_size=args.batch_size, seed=args.seed,
                                             progress=not args.no_progress)  # fmt: skip
    except KeyboardInterrupt:
        print("\ninterrupted: nothing was saved (the classifier trains in one go); run the "
              "same command to start again", file=sys.stderr)  # fmt: skip
        return 130
    accuracy = float((model.predict(test_set.images) == test_set.labels).float().mean())
    print(f"losses per epoch {[round(x, 4) for x in losses]}; test accuracy {100 * accuracy:.2f} %")
    sha = checkpoints.save_checkpoint(
        args.export, model, None, command="python -m ganlab " + shlex.join(argv), seed=args.seed,
        epochs=args.epochs, data=args.data, test_accuracy=accuracy, torch=str(torch.__version__),
    )  # fmt: skip
    print(f"exported the classifier to {args.export}, SHA-256 {sha}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0, 1 for a failure while running, 2 for a
    user error, 130 after Ctrl-C)."""
    argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(argv)
    run = train_classifier if args.model == "classifier" else train_dcgan
    try:
        return run(args, argv)
    except (DataError, CheckpointError, TrainingDiverged) as error:
        print(f"python -m ganlab: error: {error}", file=sys.stderr)
        return 1
