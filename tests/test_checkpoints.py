"""Checkpoints under faults and careless use (issue 22): integrity, compatibility, settings
on resume, honest errors, and a save killed at random moments."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch
from test_fit_epochs import LATENT, WIDTH, players, tiny_images  # the same tiny DCGAN pair
from torch.testing import assert_close

from ganlab import models, train

torch.set_num_threads(1)


def snapshot(*modules: torch.nn.Module) -> list[torch.Tensor]:
    return [t.detach().clone() for m in modules for t in m.state_dict().values()]


def assert_unchanged(before: list[torch.Tensor], *modules: torch.nn.Module) -> None:
    for a, b in zip(before, snapshot(*modules), strict=True):
        assert_close(a, b, rtol=0, atol=0)


def resumable(path: Path, epochs: int = 1, **kwargs) -> None:
    G, D = players()
    train.fit_epochs(G, D, tiny_images(32), epochs, batch_size=16, progress=False,
                     checkpoint=path, **kwargs)  # fmt: skip


# ----------------------------------------------------------------------------- integrity (4)


def test_flipped_bytes_inside_a_checkpoint_are_refused_and_nothing_is_loaded(tmp_path):
    """Before: 16 flipped bytes in the tensor data loaded with no error (torch checks no CRC)."""
    path = tmp_path / "run.pt"
    resumable(path)
    raw = path.read_bytes()
    rng = random.Random(0)
    for _ in range(12):
        damaged = bytearray(raw)
        start = rng.randrange(len(raw) // 4, 3 * len(raw) // 4)
        for i in range(16):
            damaged[start + i] ^= 0xFF
        (tmp_path / "bad.pt").write_bytes(bytes(damaged))
        G, D = players(seed=5)
        before = snapshot(G, D)
        with pytest.raises(train.CheckpointError, match="corrupt|could not be read|damaged"):
            train.load_checkpoint(tmp_path / "bad.pt", G, D)
        assert_unchanged(before, G, D)


def test_the_digest_of_the_contents_is_stored_and_checked(tmp_path):
    G, D = players()
    train.save_checkpoint(tmp_path / "a.pt", G, D, epoch=1)
    payload = torch.load(tmp_path / "a.pt", weights_only=True)
    assert len(payload["sha256"]) == 64
    payload["G"]["net.0.weight"][0, 0, 0, 0] += 1.0  # a changed weight, saved without a new digest
    torch.save(payload, tmp_path / "b.pt")
    with pytest.raises(train.CheckpointError, match=r"is corrupt: its contents have SHA-256"):
        train.checkpoint_meta(tmp_path / "b.pt")


def test_files_without_a_digest_still_load(tmp_path):
    """Files written before the digest was recorded (the shipped weights) keep loading."""
    G, _ = players()
    torch.save({"G": G.state_dict(), "D": None, "meta": {"x": 1}}, tmp_path / "old.pt")
    assert train.load_checkpoint(tmp_path / "old.pt", players(1)[0]) == {"x": 1}


# ----------------------------------------------------------------------------- errors (7)


def test_a_garbage_file_never_advises_weights_only_false(tmp_path):
    path = tmp_path / "garbage.pt"
    path.write_bytes(b"garbage" * 100)
    with pytest.raises(train.CheckpointError) as error:
        train.load_checkpoint(path, players()[0])
    message = str(error.value)
    assert "weights_only=False" not in message and "weights_only` set to `False" not in message
    assert "could not be read" in message and "\n" not in message


def test_a_pickled_object_is_named_without_the_unsafe_advice(tmp_path):
    import numpy as np

    G, _ = players()
    torch.save({"G": G.state_dict(), "D": None, "meta": {"x": np.float64(1.0)}}, tmp_path / "n.pt")
    with pytest.raises(train.CheckpointError, match="holds a pickled numpy") as error:
        train.load_checkpoint(tmp_path / "n.pt", G)
    assert "False" not in str(error.value)


def test_an_empty_file_says_it_is_empty(tmp_path):
    (tmp_path / "empty.pt").touch()
    with pytest.raises(train.CheckpointError, match=r"the file is empty \(0 bytes\)"):
        train.load_checkpoint(tmp_path / "empty.pt", players()[0])


@pytest.mark.parametrize(
    "value", [__import__("numpy").float64(1.0), Path("x"), {1.5j: 1}, object(), {("a",): 1}]
)
def test_save_refuses_meta_that_its_loader_would_refuse(tmp_path, value):
    with pytest.raises(TypeError, match="checkpoint meta note"):
        train.save_checkpoint(tmp_path / "m.pt", players()[0], note=value)
    assert list(tmp_path.iterdir()) == []


def test_save_accepts_every_kind_of_plain_meta(tmp_path):
    meta = {"a": None, "b": True, "c": 3, "d": 0.5, "e": "s", "f": [1, (2.0, "x")],
            "g": {"h": {"i": [None]}}, "t": torch.arange(3)}  # fmt: skip
    train.save_checkpoint(tmp_path / "m.pt", players()[0], **meta)
    loaded = train.load_checkpoint(tmp_path / "m.pt", players()[0])
    assert torch.equal(loaded.pop("t"), meta.pop("t")) and loaded == meta


# ----------------------------------------------------------------------------- export (1)


def test_writing_the_generator_alone_over_a_resumable_checkpoint_is_refused(tmp_path):
    """Before: an export onto the run's checkpoint destroyed D, the optimisers and the RNG."""
    path = tmp_path / "run.pt"
    resumable(path)
    raw = path.read_bytes()
    with pytest.raises(train.CheckpointError, match="holds a training run to resume"):
        train.save_checkpoint(path, players()[0], command="export")
    assert path.read_bytes() == raw
    resumable(path, epochs=2)  # the run still resumes
    assert train.checkpoint_meta(path)["epoch"] == 2


def test_the_generator_alone_may_replace_an_export(tmp_path):
    path = tmp_path / "G.pt"
    train.save_checkpoint(path, players()[0], n=1)
    train.save_checkpoint(path, players()[1], n=2)
    assert train.checkpoint_meta(path) == {"n": 2}


# ----------------------------------------------------------------------------- settings (2)


@pytest.mark.parametrize(
    "change, named",
    [({"lr": 0.05}, "lr 0.0002 there, 0.05 here"), ({"seed": 3}, "seed 0 there, 3 here"),
     ({"batch_size": 8}, "batch_size 16 there, 8 here")],
)  # fmt: skip
def test_a_resume_with_other_settings_is_refused_naming_each(tmp_path, change, named):
    """Before: the checkpoint's lr (or RNG state) silently won over the new settings."""
    path = tmp_path / "run.pt"
    resumable(path)
    G, D = players(seed=7)
    before = snapshot(G, D)
    settings = {"lr": 2e-4, "seed": 0, "batch_size": 16, **change}
    with pytest.raises(train.CheckpointError, match=named):
        train.fit_epochs(G, D, tiny_images(32), 2, progress=False, checkpoint=path, **settings)
    assert_unchanged(before, G, D)
    assert train.checkpoint_meta(path)["epoch"] == 1


def test_a_resume_asking_for_fewer_epochs_than_done_is_refused(tmp_path):
    path = tmp_path / "run.pt"
    resumable(path, epochs=2)
    with pytest.raises(train.CheckpointError, match="already holds 2 epochs"):
        resumable(path, epochs=1)


def test_the_checkpoint_records_the_settings_of_the_run(tmp_path):
    path = tmp_path / "run.pt"
    resumable(path, settings={"width": WIDTH})
    meta = train.checkpoint_meta(path)
    keys = ("seed", "batch_size", "lr", "betas", "loss", "images", "width")
    assert {k: meta[k] for k in keys} == {
        "seed": 0, "batch_size": 16, "lr": 2e-4, "betas": [0.5, 0.999],
        "loss": "nonsaturating", "images": [32, 1, 28, 28], "width": WIDTH,
    }  # fmt: skip
    with pytest.raises(train.CheckpointError, match="width 4 there, 8 here"):
        resumable(path, epochs=2, settings={"width": 8})


# ----------------------------------------------------------------------------- architecture (3)


def test_another_architecture_is_refused_before_any_model_is_touched(tmp_path):
    """Before: a raw state_dict traceback after G had already been overwritten."""
    torch.manual_seed(0)
    G = models.ConditionalDCGANGenerator(10, LATENT, WIDTH)
    D = models.ProjectionDiscriminator(10, WIDTH)
    path = tmp_path / "cdcgan.pt"
    opt_G, opt_D = torch.optim.Adam(G.parameters()), torch.optim.Adam(D.parameters())
    train.save_checkpoint(path, G, D, opt_G=opt_G, opt_D=opt_D, generator=torch.Generator())
    torch.manual_seed(1)
    G2, D2 = (
        models.ConditionalDCGANGenerator(10, LATENT, WIDTH),
        models.ClassifyingDiscriminator(10, WIDTH),
    )
    before = snapshot(G2, D2)
    with pytest.raises(train.CheckpointError, match="D of another architecture"):
        train.load_checkpoint(path, G2, D2)
    assert_unchanged(before, G2, D2)
    G3 = models.DCGANGenerator(LATENT, 2 * WIDTH)
    with pytest.raises(
        train.CheckpointError, match="G of another architecture.*nothing was loaded"
    ):
        train.load_checkpoint(path, G3)


def test_optimiser_state_of_another_model_is_refused_before_loading(tmp_path):
    G, D = players()
    path = tmp_path / "run.pt"
    train.save_checkpoint(path, G, D, opt_G=torch.optim.Adam(G.parameters()))
    G2, D2 = players(1)
    opt = torch.optim.Adam(list(G2.parameters())[:2])
    before = snapshot(G2)
    with pytest.raises(train.CheckpointError, match="parameter groups of sizes"):
        train.load_checkpoint(path, G2, opt_G=opt)
    assert_unchanged(before, G2)


# ----------------------------------------------------------------------------- crash safety

WRITER = textwrap.dedent(
    """
    import os, sys, torch
    torch.set_num_threads(1)
    from ganlab import train
    torch.manual_seed(0)
    G = torch.nn.Sequential(torch.nn.Linear(256, 512), torch.nn.Linear(512, 256))
    G.latent_dim = 256
    D = torch.nn.Linear(256, 1)
    opt_G, opt_D = torch.optim.Adam(G.parameters()), torch.optim.Adam(D.parameters())
    generator = torch.Generator().manual_seed(0)
    path = sys.argv[1]
    for line in sys.stdin:  # one forked writer per request: the parent kills it at random
        start = int(line)
        pid = os.fork()
        if pid == 0:
            for count in range(start, start + 10**6):
                with torch.no_grad():
                    for p in G.parameters():
                        p.fill_(count)
                train.save_checkpoint(path, G, D, opt_G=opt_G, opt_D=opt_D,
                                      generator=generator, count=count)
                os.write(1, f"saved {count}\\n".encode())
            os._exit(0)
        os.write(1, f"pid {pid}\\n".encode())
        os.waitpid(pid, 0)
        os.write(1, b"reaped\\n")
    """
)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_save_killed_at_random_moments_never_loses_the_last_checkpoint(tmp_path):
    """SIGKILL a process that saves a 1 MB checkpoint in a loop, 40 times at random moments.

    Guarantee: the checkpoint on disk always loads and holds the last save that returned (or
    the one being written); a killed save leaves at most one temporary file, and the next save
    removes it."""
    path = tmp_path / "run.pt"
    helper = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, bufsize=1)  # fmt: skip
    rng = random.Random(22)
    G = torch.nn.Sequential(torch.nn.Linear(256, 512), torch.nn.Linear(512, 256))
    D = torch.nn.Linear(256, 1)
    last, kills, mid_write = -1, 0, 0
    try:
        for _ in range(40):
            helper.stdin.write(f"{last + 1}\n")
            helper.stdin.flush()
            line = helper.stdout.readline()
            assert line.startswith("pid "), line
            pid = int(line.split()[1])
            time.sleep(rng.uniform(0.0, 0.25))
            os.kill(pid, signal.SIGKILL)
            kills += 1
            for line in iter(helper.stdout.readline, "reaped\n"):
                assert line.startswith("saved "), line
                last = int(line.split()[1])
            leftovers = list(tmp_path.glob("run.pt.*.tmp"))
            assert len(leftovers) <= 1, leftovers
            mid_write += len(leftovers)
            if last < 0:
                assert not path.exists() or path.stat().st_size > 0
                continue
            opt_G, opt_D = torch.optim.Adam(G.parameters()), torch.optim.Adam(D.parameters())
            meta = train.load_checkpoint(path, G, D, opt_G=opt_G, opt_D=opt_D,
                                         generator=torch.Generator())  # fmt: skip
            assert meta["count"] in (last, last + 1), (meta, last)
            assert G[0].weight[0, 0].item() == meta["count"]
            last = meta["count"]
    finally:
        helper.stdin.close()
        helper.kill()
        helper.wait(timeout=10)
    train.save_checkpoint(path, G, D, opt_G=opt_G, opt_D=opt_D, generator=torch.Generator())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.pt"]
    assert kills == 40 and last > 0 and mid_write >= 1  # some kills must land inside a save
    print(f"{kills} kills, {mid_write} during a write, last count {last}")
