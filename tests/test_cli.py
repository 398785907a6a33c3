"""``python -m ganlab train``: user errors (one line, exit code 2, nothing created, checked
before the data is read), resume safety, Ctrl-C and --help (issue 22 items 1-3 and 8); a
dcgan run trained, resumed and exported end to end."""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path

import pytest
import torch
from test_train_images import tiny_images

from ganlab import checkpoints, cli, data, models, train_images

torch.set_num_threads(1)
TINY = ["--batch-size", "16", "--width", "4", "--latent-dim", "8", "--device", "cpu",
        "--no-progress"]  # fmt: skip


def tiny_split(n: int = 32) -> types.SimpleNamespace:
    g = torch.Generator().manual_seed(1)
    images = torch.rand(n, 1, 28, 28, generator=g) * 2 - 1
    return types.SimpleNamespace(images=images, labels=torch.arange(n) % 10,
                                 classes=tuple("0123456789"))  # fmt: skip


@pytest.fixture
def fake_data(monkeypatch):
    """Fashion-MNIST replaced by 32 random images; counts how often it is read."""
    reads = []

    def load(split):
        reads.append(split)
        return tiny_split()

    monkeypatch.setattr(data, "fashion_mnist", load, raising=False)
    return reads


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    """cli.main in this process: (exit code, stdout, stderr), SystemExit included."""
    try:
        code = cli.main(argv)
    except SystemExit as stop:
        code = stop.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def assert_user_error(code: int, err: str, *fragments: str) -> None:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("python -m ganlab train "), err
    assert ": error: " in lines[0] and "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


# ----------------------------------------------------------------------------- user errors (8)


@pytest.mark.parametrize(
    "options, named",
    [
        (["--epochs", "0"], "argument --epochs: must be a positive integer, got '0'"),
        (["--epochs", "two"], "argument --epochs: must be a positive integer, got 'two'"),
        (["--batch-size", "-1"], "argument --batch-size: must be a positive integer"),
        (["--lr", "0"], "argument --lr: must be a positive finite number, got '0'"),
        (["--lr", "nan"], "argument --lr: must be a positive finite number, got 'nan'"),
        (["--width", "0"], "argument --width: must be a positive integer"),
        (["--latent-dim", "-3"], "argument --latent-dim: must be a positive integer"),
        (["--seed", "-1"], "argument --seed: must be an integer >= 0, got '-1'"),
        (["--threads", "0"], "argument --threads: must be a positive integer, got '0'"),
        (["--threads", "-1"], "argument --threads: must be a positive integer, got '-1'"),
        (["--device", "tpu"], "argument --device: must be auto, cpu, cuda, cuda:N or mps"),
        (["--device", "cuda:x"], "argument --device: must be auto, cpu, cuda, cuda:N or mps"),
        (["--data", "cifar"], "argument --data: invalid choice: 'cifar'"),
    ],
)
def test_a_bad_option_is_one_line_exit_2_and_nothing_is_created_or_read(
    options, named, tmp_path, fake_data, capsys
):
    out = tmp_path / "run"
    code, _, err = run(["train", "dcgan", "--out", str(out), *options], capsys)
    assert_user_error(code, err, named)
    assert listing(tmp_path) == [] and fake_data == []


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_on_a_machine_without_it_is_a_user_error(tmp_path, fake_data, capsys):
    code, _, err = run(["train", "dcgan", "--device", "cuda", "--out", str(tmp_path / "r")], capsys)
    assert_user_error(code, err, "argument --device: 'cuda' is not available")
    assert listing(tmp_path) == [] and fake_data == []


def test_an_out_that_is_a_file_is_refused_before_the_data_is_read(tmp_path, fake_data, capsys):
    (tmp_path / "afile").write_text("x")
    for out in ("afile", "afile/run"):
        code, _, err = run(["train", "dcgan", "--out", str(tmp_path / out), *TINY], capsys)
        assert_user_error(code, err, "--out", "is a file")
    assert listing(tmp_path) == ["afile"] and fake_data == []


def test_an_export_that_is_a_folder_is_refused_before_the_data_is_read(tmp_path, fake_data, capsys):
    (tmp_path / "folder").mkdir()
    argv = ["train", "dcgan", "--out", str(tmp_path / "r"), "--export", str(tmp_path / "folder")]
    code, _, err = run([*argv, *TINY], capsys)
    assert_user_error(code, err, "--export", "is a folder")
    code, _, err = run(["train", "classifier", "--export", str(tmp_path / "folder")], capsys)
    assert_user_error(code, err, "--export", "is a folder")
    assert listing(tmp_path) == ["folder"] and fake_data == []


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_an_unwritable_out_is_refused(tmp_path, fake_data, capsys):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    code, _, err = run(["train", "dcgan", "--out", str(locked / "run"), *TINY], capsys)
    assert_user_error(code, err, "is not writable")


def test_user_errors_end_to_end_in_a_fresh_process(tmp_path):
    """The real command: exit code 2, one line on stderr, no traceback, nothing created."""
    env = {**os.environ, "GANLAB_DATA": str(tmp_path / "no-data"),
           "GANLAB_DATA_MIRROR": "http://127.0.0.1:9/"}  # fmt: skip
    for options in (["--threads", "-1"],):  # one: a fresh process costs seconds here
        done = subprocess.run(
            [sys.executable, "-m", "ganlab", "train", "dcgan", "--out", str(tmp_path / "r"),
             *options], capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path,
        )  # fmt: skip
        assert_user_error(done.returncode, done.stderr, "error: argument")
        assert done.stdout == "" and listing(tmp_path) == []


def test_a_data_error_is_a_message_not_a_traceback(tmp_path, monkeypatch, capsys):
    def missing(split):
        raise data.DataError("Fashion-MNIST file x was not found")

    monkeypatch.setattr(data, "fashion_mnist", missing, raising=False)
    code, _, err = run(["train", "dcgan", "--out", str(tmp_path / "r"), *TINY], capsys)
    assert code == 1 and "Traceback" not in err
    assert err.startswith("python -m ganlab: error: Fashion-MNIST file x was not found")
    assert listing(tmp_path) == []  # the folder is made only once the data is there


# ----------------------------------------------------------------------------- export (1)


def test_an_export_onto_the_checkpoint_is_refused_and_the_run_still_resumes(
    tmp_path, fake_data, capsys
):
    """Before: --export o/dcgan.pt replaced the run's checkpoint with G alone; the next
    resume failed with 'holds no discriminator'."""
    out = tmp_path / "o"
    argv = ["train", "dcgan", "--epochs", "1", "--out", str(out), *TINY]
    code, _, err = run([*argv, "--export", str(out / "dcgan.pt")], capsys)
    assert_user_error(code, err, "is this run's checkpoint")
    assert not out.exists()
    assert run(argv, capsys)[0] == 0
    code, _, err = run([*argv, "--export", str(out / ".." / "o" / "dcgan.pt")], capsys)
    assert_user_error(code, err, "is this run's checkpoint")
    argv[3] = "2"
    assert run(argv, capsys)[0] == 0
    assert checkpoints.checkpoint_meta(out / "dcgan.pt")["epoch"] == 2


def test_an_export_onto_another_runs_checkpoint_is_refused(tmp_path, fake_data, capsys):
    argv = ["train", "dcgan", "--epochs", "1", *TINY]
    assert run([*argv, "--out", str(tmp_path / "a")], capsys)[0] == 0
    other = tmp_path / "a" / "dcgan.pt"
    code, _, err = run([*argv, "--out", str(tmp_path / "b"), "--export", str(other)], capsys)
    assert_user_error(code, err, "holds a training run to resume")
    code, _, err = run(["train", "classifier", "--export", str(other)], capsys)
    assert_user_error(code, err, "holds a training run to resume")
    assert checkpoints.is_resumable(other)


# ----------------------------------------------------------------------------- resume (2, 3)


@pytest.mark.parametrize(
    "changed, named",
    [(["--lr", "0.05"], "--lr 0.05 (the checkpoint has 0.0002)"),
     (["--seed", "3"], "--seed 3 (the checkpoint has 0)"),
     (["--batch-size", "8"], "--batch-size 8 (the checkpoint has 16)"),
     (["--width", "8"], "--width 8 (the checkpoint has 4)")],
)  # fmt: skip
def test_a_resume_with_other_settings_is_refused_naming_each_and_how_to_start_fresh(
    changed, named, tmp_path, fake_data, capsys
):
    """Before: --lr 0.05 kept the checkpoint's 0.0002 yet the export recorded 0.05."""
    out = tmp_path / "o"
    argv = ["train", "dcgan", "--epochs", "1", "--out", str(out), *TINY]
    assert run(argv, capsys)[0] == 0
    before = (out / "dcgan.pt").read_bytes()
    code, _, err = run([*argv[:3], "2", *argv[4:], *changed], capsys)
    assert_user_error(code, err, named, "resume with", "use another --out, or delete")
    assert (out / "dcgan.pt").read_bytes() == before and len(fake_data) == 1


def test_a_resume_with_fewer_epochs_than_done_is_refused(tmp_path, fake_data, capsys):
    out = tmp_path / "o"
    argv = ["train", "dcgan", "--epochs", "2", "--out", str(out), *TINY]
    assert run(argv, capsys)[0] == 0
    argv[3] = "1"
    code, _, err = run([*argv, "--export", str(tmp_path / "G.pt")], capsys)
    assert_user_error(code, err, "already holds 2 epochs", "--epochs 2 or more")
    assert not (tmp_path / "G.pt").exists()


def test_the_export_records_the_settings_that_trained_it(tmp_path, fake_data, capsys):
    out = tmp_path / "o"
    argv = ["train", "dcgan", "--epochs", "1", "--out", str(out), "--lr", "0.001", *TINY]
    assert run(argv, capsys)[0] == 0
    argv[3] = "2"
    assert run([*argv, "--export", str(tmp_path / "G.pt")], capsys)[0] == 0
    meta = checkpoints.checkpoint_meta(tmp_path / "G.pt")
    ckpt = checkpoints.checkpoint_meta(out / "dcgan.pt")
    assert (
        meta["lr"] == ckpt["lr_D"] == ckpt["lr_G"] == 0.001 and meta["epochs"] == ckpt["epoch"] == 2
    )


def test_the_readme_cdcgan_commands_get_their_own_default_folders(tmp_path, monkeypatch, capsys):
    """Before: projection then classes shared runs/cdcgan/cdcgan.pt and the second died with
    a state_dict traceback after G had been overwritten."""
    monkeypatch.setattr(data, "fashion_mnist", lambda s: tiny_split(), raising=False)
    monkeypatch.chdir(tmp_path)
    for kind in ("projection", "classes"):
        argv = ["train", "cdcgan", "--discriminator", kind, "--epochs", "1", *TINY]
        assert run(argv, capsys)[0] == 0
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [
        "cdcgan_fashion_mnist_classes_width4_latent8",
        "cdcgan_fashion_mnist_projection_width4_latent8",
    ]
    # the same folder for both is refused before anything is touched, naming the difference
    out = tmp_path / "runs" / "cdcgan_fashion_mnist_projection_width4_latent8"
    before = (out / "cdcgan.pt").read_bytes()
    argv = ["train", "cdcgan", "--discriminator", "classes", "--epochs", "2", "--out", str(out)]
    code, _, err = run([*argv, *TINY], capsys)
    assert_user_error(code, err, "--discriminator classes (the checkpoint has projection)")
    assert (out / "cdcgan.pt").read_bytes() == before


def test_a_corrupt_checkpoint_in_out_is_a_user_error(tmp_path, fake_data, capsys):
    out = tmp_path / "o"
    out.mkdir()
    (out / "dcgan.pt").write_bytes(b"garbage" * 10)
    code, _, err = run(["train", "dcgan", "--out", str(out), *TINY], capsys)
    assert_user_error(code, err, "could not be read", "to start fresh")
    assert "weights_only=False" not in err and "False" not in err and fake_data == []


# ----------------------------------------------------------------------------- Ctrl-C (8)


def test_ctrl_c_says_how_to_resume_without_a_traceback(tmp_path, fake_data, monkeypatch, capsys):
    out = tmp_path / "o"
    argv = ["train", "dcgan", "--epochs", "3", "--out", str(out), *TINY]
    step = train_images.adversarial_step
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # 32 images / 16 = 2 steps an epoch: the 2nd epoch's first step
            raise KeyboardInterrupt
        return step(*args, **kwargs)

    monkeypatch.setattr(train_images, "adversarial_step", interrupted)
    code, _, err = run(argv, capsys)
    assert code == 130 and "Traceback" not in err
    assert f"{out / 'dcgan.pt'} holds the last finished epoch (1); run the same command" in err
    monkeypatch.setattr(train_images, "adversarial_step", step)
    code, text, _ = run(argv, capsys)
    assert code == 0 and "epoch 1:" not in text and "epoch 3:" in text


def test_ctrl_c_before_the_first_epoch_says_nothing_was_saved(
    tmp_path, fake_data, monkeypatch, capsys
):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train_images, "adversarial_step", interrupted)
    code, _, err = run(["train", "dcgan", "--out", str(tmp_path / "o"), *TINY], capsys)
    assert code == 130 and "nothing was saved" in err and "Traceback" not in err


# ----------------------------------------------------------------------------- --help (8)


@pytest.mark.parametrize("model", ["dcgan", "cdcgan", "classifier"])
def test_help_describes_every_option_with_its_default(model, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["train", model, "--help"])
    assert stop.value.code == 0
    text = " ".join(capsys.readouterr().out.split()).split(" options: ", 1)[1]
    parser = cli._parser()
    sub = parser._subparsers._group_actions[0].choices["train"]
    sub = sub._subparsers._group_actions[0].choices[model]
    for action in sub._actions:
        assert action.help, action.option_strings
        if action.option_strings[0] in ("-h", "--no-progress") or action.required:
            continue
        option = action.option_strings[0]
        shown = text.split(option, 1)[1].split(" --", 1)[0]
        assert "default" in shown, (option, shown)


# ----------------------------------------------------------------------------- end to end


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
    meta = checkpoints.load_checkpoint(tmp_path / "G.pt", G, sha256=sha)
    assert meta["epochs"] == 2 and meta["command"].startswith("python -m ganlab train dcgan")
