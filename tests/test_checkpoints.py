"""ganlab.checkpoints: the round trip, digests and refusals; checkpoints under faults and
careless use (issue 22): integrity, compatibility, settings on resume, honest errors, and a
save killed at random moments; the shipped weights."""

from __future__ import annotations

import hashlib
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
from conftest import assert_params_equal, params
from test_train import RING, CountingSampler
from test_train_images import LATENT, WIDTH, players, tiny_images  # the same tiny DCGAN pair
from torch.testing import assert_close

from ganlab import checkpoints, models, train_images

torch.set_num_threads(1)


def snapshot(*modules: torch.nn.Module) -> list[torch.Tensor]:
    return [t.detach().clone() for m in modules for t in m.state_dict().values()]


def assert_unchanged(before: list[torch.Tensor], *modules: torch.nn.Module) -> None:
    for a, b in zip(before, snapshot(*modules), strict=True):
        assert_close(a, b, rtol=0, atol=0)


def resumable(path: Path, epochs: int = 1, **kwargs) -> None:
    G, D = players()
    train_images.fit_epochs(G, D, tiny_images(32), epochs, batch_size=16, progress=False,
                            checkpoint=path, **kwargs)  # fmt: skip


# ----------------------------------------------------------------------------- round trip


def record_call(tag: str) -> None:  # unpickling a tampered file would call this
    UNPICKLED.append(tag)


UNPICKLED: list[str] = []


class Tampered:
    def __reduce__(self):
        return (record_call, ("ran code while loading",))


@pytest.fixture
def checkpoint(tmp_path, make_models):
    """A checkpoint of a small G and D with some meta; returns (path, sha, G, D, meta)."""
    G, D = make_models(seed=0)
    meta = {"step": 10, "loss": "nonsaturating", "lrs": [1e-3, 2e-3], "toy": {"name": "ring8"}}
    path = tmp_path / "ck" / "gan.pt"
    sha = checkpoints.save_checkpoint(path, G, D, **meta)
    return path, sha, G, D, meta


def test_checkpoint_round_trip_restores_parameters_and_meta(checkpoint, make_models):
    path, sha, G, D, meta = checkpoint
    G2, D2 = make_models(seed=1)
    assert not torch.equal(next(G2.parameters()), next(G.parameters()))
    assert checkpoints.load_checkpoint(path, G2, D2) == meta
    assert_params_equal(G2, params(G))
    assert_params_equal(D2, params(D))


def test_checkpoint_sha256_is_the_file_digest(checkpoint):
    path, sha, *_ = checkpoint
    assert sha == checkpoints.sha256_file(path) == hashlib.sha256(path.read_bytes()).hexdigest()
    assert os.listdir(path.parent) == ["gan.pt"]  # the temporary file was renamed away


def test_load_with_the_right_sha_passes(checkpoint, make_models):
    path, sha, G, _, meta = checkpoint
    G2, _ = make_models(seed=1)
    assert checkpoints.load_checkpoint(path, G2, sha256=sha) == meta
    assert checkpoints.load_checkpoint(path, G2, sha256=sha.upper()) == meta
    assert_params_equal(G2, params(G))


def test_load_with_a_wrong_sha_raises_before_unpickling(checkpoint, make_models, monkeypatch):
    path, *_ = checkpoint
    G2, _ = make_models(seed=1)
    before = params(G2)

    def no_load(*args, **kwargs):
        raise AssertionError("torch.load was called although the digest did not match")

    monkeypatch.setattr(torch, "load", no_load)
    with pytest.raises(checkpoints.CheckpointError, match="expected " + "0" * 64):
        checkpoints.load_checkpoint(path, G2, sha256="0" * 64)
    assert_params_equal(G2, before)


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_corrupt_checkpoint_raises_checkpoint_error(checkpoint, make_models, damage):
    path, *_ = checkpoint
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2] if damage == "truncate" else b"not a checkpoint" * 64)
    G2, _ = make_models(seed=1)
    with pytest.raises(checkpoints.CheckpointError, match="could not be read"):
        checkpoints.load_checkpoint(path, G2)


def test_missing_checkpoint_raises_checkpoint_error(tmp_path, make_models):
    G, _ = make_models()
    with pytest.raises(checkpoints.CheckpointError, match="no checkpoint at"):
        checkpoints.load_checkpoint(tmp_path / "nope.pt", G)


def test_pickled_objects_are_rejected_without_running_them(tmp_path, make_models):
    """weights_only=True: a file holding an arbitrary object is refused and its code never runs."""
    G, _ = make_models()
    path = tmp_path / "tampered.pt"
    torch.save({"G": G.state_dict(), "D": None, "meta": Tampered()}, path)
    with pytest.raises(checkpoints.CheckpointError, match="could not be read"):
        checkpoints.load_checkpoint(path, G)
    assert UNPICKLED == []
    # meta that is not plain data, which the loader would refuse, is refused when saving
    plain_path = tmp_path / "custom.pt"
    with pytest.raises(TypeError, match="checkpoint meta note is a test_train.CountingSampler"):
        checkpoints.save_checkpoint(plain_path, G, note=CountingSampler(RING))
    assert not plain_path.exists()


def test_a_file_that_is_not_a_ganlab_checkpoint_is_rejected(tmp_path, make_models):
    G, _ = make_models()
    for i, payload in enumerate([[1, 2, 3], {"D": None}]):
        path = tmp_path / f"other{i}.pt"
        torch.save(payload, path)
        with pytest.raises(checkpoints.CheckpointError, match="does not hold a ganlab state dict"):
            checkpoints.load_checkpoint(path, G)


def test_loading_D_from_a_checkpoint_without_D_raises(tmp_path, make_models):
    G, D = make_models(seed=0)
    path = tmp_path / "g_only.pt"
    checkpoints.save_checkpoint(path, G)
    G2, D2 = make_models(seed=1)
    D_before = params(D2)
    with pytest.raises(checkpoints.CheckpointError, match="holds no discriminator"):
        checkpoints.load_checkpoint(path, G2, D2)
    assert_params_equal(D2, D_before)
    assert checkpoints.load_checkpoint(path, G2) == {}  # G alone loads fine


def test_a_failed_load_leaves_G_unchanged(tmp_path, make_models):
    G, _ = make_models(seed=0)
    path = tmp_path / "g_only.pt"
    checkpoints.save_checkpoint(path, G)
    G2, D2 = make_models(seed=1)
    G_before = params(G2)
    with pytest.raises(checkpoints.CheckpointError):
        checkpoints.load_checkpoint(path, G2, D2)
    assert_params_equal(G2, G_before)


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_checkpoint_file_mode_follows_the_umask_like_torch_save(tmp_path, make_models):
    G, _ = make_models()
    checkpoints.save_checkpoint(tmp_path / "a.pt", G)
    torch.save({"G": G.state_dict()}, tmp_path / "b.pt")
    mode = os.stat(tmp_path / "a.pt").st_mode & 0o777
    assert mode == os.stat(tmp_path / "b.pt").st_mode & 0o777


def test_a_tampered_checkpoint_is_rejected_before_loading(tmp_path):
    G, D = players()
    sha = checkpoints.save_checkpoint(tmp_path / "g.pt", G)
    data = bytearray((tmp_path / "g.pt").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / "g.pt").write_bytes(bytes(data))
    with pytest.raises(checkpoints.CheckpointError, match="has SHA-256"):
        checkpoints.load_checkpoint(tmp_path / "g.pt", players()[0], sha256=sha)


def test_resuming_needs_the_optimiser_state(tmp_path):
    G, D = players()
    checkpoints.save_checkpoint(tmp_path / "g.pt", G, D, epoch=1)
    with pytest.raises(checkpoints.CheckpointError, match="holds no opt_G state"):
        checkpoints.load_checkpoint(tmp_path / "g.pt", G, D, opt_G=torch.optim.Adam(G.parameters()))


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
        with pytest.raises(checkpoints.CheckpointError, match="corrupt|could not be read|damaged"):
            checkpoints.load_checkpoint(tmp_path / "bad.pt", G, D)
        assert_unchanged(before, G, D)


def test_the_digest_of_the_contents_is_stored_and_checked(tmp_path):
    G, D = players()
    checkpoints.save_checkpoint(tmp_path / "a.pt", G, D, epoch=1)
    payload = torch.load(tmp_path / "a.pt", weights_only=True)
    assert len(payload["sha256"]) == 64
    payload["G"]["net.0.weight"][0, 0, 0, 0] += 1.0  # a changed weight, saved without a new digest
    torch.save(payload, tmp_path / "b.pt")
    with pytest.raises(checkpoints.CheckpointError, match=r"is corrupt: its contents have SHA-256"):
        checkpoints.checkpoint_meta(tmp_path / "b.pt")


def test_files_without_a_digest_still_load(tmp_path):
    """Files written before the digest was recorded (the shipped weights) keep loading."""
    G, _ = players()
    torch.save({"G": G.state_dict(), "D": None, "meta": {"x": 1}}, tmp_path / "old.pt")
    assert checkpoints.load_checkpoint(tmp_path / "old.pt", players(1)[0]) == {"x": 1}


# ----------------------------------------------------------------------------- errors (7)


def test_a_garbage_file_never_advises_weights_only_false(tmp_path):
    path = tmp_path / "garbage.pt"
    path.write_bytes(b"garbage" * 100)
    with pytest.raises(checkpoints.CheckpointError) as error:
        checkpoints.load_checkpoint(path, players()[0])
    message = str(error.value)
    assert "weights_only=False" not in message and "weights_only` set to `False" not in message
    assert "could not be read" in message and "\n" not in message


def test_a_pickled_object_is_named_without_the_unsafe_advice(tmp_path):
    import numpy as np

    G, _ = players()
    torch.save({"G": G.state_dict(), "D": None, "meta": {"x": np.float64(1.0)}}, tmp_path / "n.pt")
    with pytest.raises(checkpoints.CheckpointError, match="holds a pickled numpy") as error:
        checkpoints.load_checkpoint(tmp_path / "n.pt", G)
    assert "False" not in str(error.value)


def test_an_empty_file_says_it_is_empty(tmp_path):
    (tmp_path / "empty.pt").touch()
    with pytest.raises(checkpoints.CheckpointError, match=r"the file is empty \(0 bytes\)"):
        checkpoints.load_checkpoint(tmp_path / "empty.pt", players()[0])


@pytest.mark.parametrize(
    "value", [__import__("numpy").float64(1.0), Path("x"), {1.5j: 1}, object(), {("a",): 1}]
)
def test_save_refuses_meta_that_its_loader_would_refuse(tmp_path, value):
    with pytest.raises(TypeError, match="checkpoint meta note"):
        checkpoints.save_checkpoint(tmp_path / "m.pt", players()[0], note=value)
    assert list(tmp_path.iterdir()) == []


def test_save_accepts_every_kind_of_plain_meta(tmp_path):
    meta = {"a": None, "b": True, "c": 3, "d": 0.5, "e": "s", "f": [1, (2.0, "x")],
            "g": {"h": {"i": [None]}}, "t": torch.arange(3)}  # fmt: skip
    checkpoints.save_checkpoint(tmp_path / "m.pt", players()[0], **meta)
    loaded = checkpoints.load_checkpoint(tmp_path / "m.pt", players()[0])
    assert torch.equal(loaded.pop("t"), meta.pop("t")) and loaded == meta


# ----------------------------------------------------------------------------- export (1)


def test_writing_the_generator_alone_over_a_resumable_checkpoint_is_refused(tmp_path):
    """Before: an export onto the run's checkpoint destroyed D, the optimisers and the RNG."""
    path = tmp_path / "run.pt"
    resumable(path)
    raw = path.read_bytes()
    with pytest.raises(checkpoints.CheckpointError, match="holds a training run to resume"):
        checkpoints.save_checkpoint(path, players()[0], command="export")
    assert path.read_bytes() == raw
    resumable(path, epochs=2)  # the run still resumes
    assert checkpoints.checkpoint_meta(path)["epoch"] == 2


def test_the_generator_alone_may_replace_an_export(tmp_path):
    path = tmp_path / "G.pt"
    checkpoints.save_checkpoint(path, players()[0], n=1)
    checkpoints.save_checkpoint(path, players()[1], n=2)
    assert checkpoints.checkpoint_meta(path) == {"n": 2}


# ----------------------------------------------------------------------------- settings (2)


@pytest.mark.parametrize(
    "change, named",
    [({"lr_G": 0.05}, "lr_G 0.0002 there, 0.05 here"), ({"seed": 3}, "seed 0 there, 3 here"),
     ({"batch_size": 8}, "batch_size 16 there, 8 here")],
)  # fmt: skip
def test_a_resume_with_other_settings_is_refused_naming_each(tmp_path, change, named):
    """Before: the checkpoint's lr (or RNG state) silently won over the new settings."""
    path = tmp_path / "run.pt"
    resumable(path)
    G, D = players(seed=7)
    before = snapshot(G, D)
    settings = {"lr_G": 2e-4, "seed": 0, "batch_size": 16, **change}
    with pytest.raises(checkpoints.CheckpointError, match=named):
        train_images.fit_epochs(
            G, D, tiny_images(32), 2, progress=False, checkpoint=path, **settings
        )
    assert_unchanged(before, G, D)
    assert checkpoints.checkpoint_meta(path)["epoch"] == 1


def test_a_resume_asking_for_fewer_epochs_than_done_is_refused(tmp_path):
    path = tmp_path / "run.pt"
    resumable(path, epochs=2)
    with pytest.raises(checkpoints.CheckpointError, match="already holds 2 epochs"):
        resumable(path, epochs=1)


def test_the_checkpoint_records_the_settings_of_the_run(tmp_path):
    path = tmp_path / "run.pt"
    resumable(path, settings={"width": WIDTH})
    meta = checkpoints.checkpoint_meta(path)
    keys = ("seed", "batch_size", "lr_D", "lr_G", "optimizer", "betas", "loss", "images", "width")
    assert {k: meta[k] for k in keys} == {
        "seed": 0, "batch_size": 16, "lr_D": 2e-4, "lr_G": 2e-4, "optimizer": "adam",
        "betas": [0.5, 0.999],
        "loss": "nonsaturating", "images": [32, 1, 28, 28], "width": WIDTH,
    }  # fmt: skip
    with pytest.raises(checkpoints.CheckpointError, match="width 4 there, 8 here"):
        resumable(path, epochs=2, settings={"width": 8})


# ----------------------------------------------------------------------------- architecture (3)


def test_another_architecture_is_refused_before_any_model_is_touched(tmp_path):
    """Before: a raw state_dict traceback after G had already been overwritten."""
    torch.manual_seed(0)
    G = models.ConditionalDCGANGenerator(10, LATENT, WIDTH)
    D = models.ProjectionDiscriminator(10, WIDTH)
    path = tmp_path / "cdcgan.pt"
    opt_G, opt_D = torch.optim.Adam(G.parameters()), torch.optim.Adam(D.parameters())
    checkpoints.save_checkpoint(path, G, D, opt_G=opt_G, opt_D=opt_D, generator=torch.Generator())
    torch.manual_seed(1)
    G2, D2 = (
        models.ConditionalDCGANGenerator(10, LATENT, WIDTH),
        models.ClassifyingDiscriminator(10, WIDTH),
    )
    before = snapshot(G2, D2)
    with pytest.raises(checkpoints.CheckpointError, match="D of another architecture"):
        checkpoints.load_checkpoint(path, G2, D2)
    assert_unchanged(before, G2, D2)
    G3 = models.DCGANGenerator(LATENT, 2 * WIDTH)
    with pytest.raises(
        checkpoints.CheckpointError, match="G of another architecture.*nothing was loaded"
    ):
        checkpoints.load_checkpoint(path, G3)


def test_optimiser_state_of_another_model_is_refused_before_loading(tmp_path):
    G, D = players()
    path = tmp_path / "run.pt"
    checkpoints.save_checkpoint(path, G, D, opt_G=torch.optim.Adam(G.parameters()))
    G2, D2 = players(1)
    opt = torch.optim.Adam(list(G2.parameters())[:2])
    before = snapshot(G2)
    with pytest.raises(checkpoints.CheckpointError, match="parameter groups of sizes"):
        checkpoints.load_checkpoint(path, G2, opt_G=opt)
    assert_unchanged(before, G2)


# ----------------------------------------------------------------------------- crash safety

WRITER = textwrap.dedent(
    """
    import os, sys, torch
    torch.set_num_threads(1)
    from ganlab import checkpoints
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
                checkpoints.save_checkpoint(path, G, D, opt_G=opt_G, opt_D=opt_D,
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
            meta = checkpoints.load_checkpoint(path, G, D, opt_G=opt_G, opt_D=opt_D,
                                               generator=torch.Generator())  # fmt: skip
            assert meta["count"] in (last, last + 1), (meta, last)
            assert G[0].weight[0, 0].item() == meta["count"]
            last = meta["count"]
    finally:
        helper.stdin.close()
        helper.kill()
        helper.wait(timeout=10)
    checkpoints.save_checkpoint(path, G, D, opt_G=opt_G, opt_D=opt_D, generator=torch.Generator())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.pt"]
    assert kills == 40 and last > 0 and mid_write >= 1  # some kills must land inside a save
    print(f"{kills} kills, {mid_write} during a write, last count {last}")


# ----------------------------------------------------------------------------- shipped weights


@pytest.mark.parametrize(
    "name", ["dcgan_fashion_mnist", "dcgan_fashion_mnist_epoch1", "classifier_fashion_mnist"]
)
def test_shipped_weights_load_with_their_checksum_and_command(name):
    model, meta = checkpoints.load_pretrained(name)
    assert not model.training
    assert meta["command"].startswith("python -m ganlab train")
    assert meta["seed"] == 0


def test_load_pretrained_rejects_unknown_names_and_a_wrong_checksum(monkeypatch):
    with pytest.raises(ValueError, match="unknown pretrained model 'gpt'"):
        checkpoints.load_pretrained("gpt")
    monkeypatch.setattr(checkpoints, "DCGAN_FASHION_MNIST_SHA256", "0" * 64)
    with pytest.raises(checkpoints.CheckpointError, match="expected 0000"):
        checkpoints.load_pretrained("dcgan_fashion_mnist")


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
