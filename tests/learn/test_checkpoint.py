"""Checkpoint files: exact round trips, atomic writes, keep-last-K, corruption and pickle refusal."""

import json
import os
import random

import numpy as np
import pytest
import torch

from pokerl_fast.learn import checkpoint


def sample_snapshot(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    py = random.Random(seed)
    gen = torch.Generator().manual_seed(seed)
    return {
        "weights": {"a.weight": torch.randn(3, 4, generator=gen), "a.bias": torch.zeros(4), "step": torch.tensor(7.0)},
        "flags": torch.tensor([True, False]),
        "rng": {"python": py.getstate(), "numpy_legacy": np.random.RandomState(seed).get_state(),
                "numpy": rng.bit_generator.state, "torch": gen.get_state()},
        "counters": {"global_step": 123, "iteration": 4, "ratio": 0.5, "name": "x", "none": None},
        "int_keys": {0: {"exp_avg": torch.ones(2)}, 1: {"exp_avg": torch.full((2,), 2.0)}},
        "env": {"emulator_states": [bytes(rng.integers(0, 256, 100, dtype=np.uint8)), b""],
                "explore": {"counts": rng.integers(0, 9, (5, 7)).astype(np.int32)},
                "scalar": np.float32(1.5), "tuple": (1, "two", 3.0)},
    }


def assert_same(a, b, path="root"):
    assert type(a) is type(b), f"{path}: {type(a)} != {type(b)}"
    if isinstance(a, dict):
        assert list(a) == list(b), path
        for k in a:
            assert_same(a[k], b[k], f"{path}/{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}/{i}")
    elif isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype and torch.equal(a, b), path
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and np.array_equal(a, b), path
    else:
        assert a == b, path


def test_round_trip_is_exact(tmp_path):
    snap = sample_snapshot()
    path = checkpoint.save(tmp_path, 123, snap, {"rom_sha1": "abc"})
    assert path.name == "ckpt-000000000123"
    ckpt = checkpoint.latest(tmp_path)
    assert ckpt.step == 123 and ckpt.meta == {"rom_sha1": "abc"}
    assert_same(checkpoint.load(ckpt), snap)


def test_restored_rng_states_continue_the_same_streams(tmp_path):
    snap = sample_snapshot()
    loaded = checkpoint.load(checkpoint.save(tmp_path, 1, snap, {}))
    a, b = random.Random(), random.Random()
    a.setstate(snap["rng"]["python"])
    b.setstate(loaded["rng"]["python"])
    assert [a.random() for _ in range(5)] == [b.random() for _ in range(5)]
    g1, g2 = np.random.default_rng(), np.random.default_rng()
    g1.bit_generator.state, g2.bit_generator.state = snap["rng"]["numpy"], loaded["rng"]["numpy"]
    assert np.array_equal(g1.integers(0, 1 << 30, 5), g2.integers(0, 1 << 30, 5))


def test_optimizer_state_round_trip_gives_the_same_next_step(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 2)
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        model(torch.randn(8, 4)).pow(2).sum().backward()
        opt.step()
    loaded = checkpoint.load(checkpoint.save(tmp_path, 3, {"m": model.state_dict(), "o": opt.state_dict()}, {}))
    model2 = torch.nn.Linear(4, 2)
    opt2 = torch.optim.Adam(model2.parameters(), lr=0.1)
    model2.load_state_dict(loaded["m"])
    opt2.load_state_dict(loaded["o"])
    x = torch.randn(8, 4)
    for m, o in ((model, opt), (model2, opt2)):
        o.zero_grad()
        m(x).pow(2).sum().backward()
        o.step()
    assert torch.equal(model.weight, model2.weight) and torch.equal(model.bias, model2.bias)


def test_keeps_only_the_last_k(tmp_path):
    for step in (10, 20, 30, 40):
        checkpoint.save(tmp_path, step, {"x": torch.tensor(step)}, {}, keep=2)
    assert [c.step for c in checkpoint.list_checkpoints(tmp_path)] == [30, 40]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt-000000000030", "ckpt-000000000040"]


def test_failure_mid_write_leaves_the_previous_checkpoint_loadable(tmp_path, monkeypatch):
    checkpoint.save(tmp_path, 10, sample_snapshot(1), {"n": 1})
    real = checkpoint._write_payload

    def half_then_fail(tmp, snapshot):
        real(tmp, snapshot)
        (tmp / "tensors.safetensors").write_bytes(b"truncated")
        raise OSError("disk full (injected)")

    monkeypatch.setattr(checkpoint, "_write_payload", half_then_fail)
    with pytest.raises(OSError, match="injected"):
        checkpoint.save(tmp_path, 20, sample_snapshot(2), {"n": 2})
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt-000000000010"]
    ckpt = checkpoint.latest(tmp_path)
    assert ckpt.step == 10 and ckpt.meta == {"n": 1}
    assert_same(checkpoint.load(ckpt), sample_snapshot(1))


def test_leftover_temp_dir_from_a_killed_writer_is_ignored_and_cleaned(tmp_path):
    checkpoint.save(tmp_path, 10, {"x": torch.tensor(1)}, {})
    # what a writer killed before its rename leaves behind: files, even a manifest, under a temp name
    leftover = tmp_path / f"{checkpoint.TMP_PREFIX}000000000020-999"
    leftover.mkdir()
    (leftover / "manifest.json").write_text(json.dumps({"format": 1, "step": 20, "meta": {}, "files": {}}))
    assert checkpoint.latest(tmp_path).step == 10
    assert checkpoint.clean_leftovers(tmp_path) == [leftover]
    assert not leftover.exists()


def test_a_corrupt_newest_checkpoint_falls_back_to_the_previous_one(tmp_path):
    checkpoint.save(tmp_path, 10, {"x": torch.tensor(1)}, {})
    newest = checkpoint.save(tmp_path, 20, {"x": torch.tensor(2)}, {})
    data = bytearray((newest / "tensors.safetensors").read_bytes())
    data[-1] ^= 0xFF
    (newest / "tensors.safetensors").write_bytes(bytes(data))
    with pytest.warns(UserWarning, match="does not match its manifest"):
        ckpt = checkpoint.latest(tmp_path)
    assert ckpt.step == 10
    with pytest.raises(checkpoint.CheckpointError, match="does not match"):
        checkpoint.load(newest)


def test_a_checkpoint_without_manifest_is_not_loadable(tmp_path):
    path = checkpoint.save(tmp_path, 10, {"x": torch.tensor(1)}, {})
    os.remove(path / "manifest.json")
    with pytest.warns(UserWarning, match="no manifest"):
        assert checkpoint.latest(tmp_path) is None


def test_loading_never_unpickles(tmp_path):
    """A pickled object array smuggled into a checkpoint (hashes fixed up) is refused, not executed."""
    path = checkpoint.save(tmp_path, 10, {"a": np.arange(3)}, {})
    evil = path / "arrays" / "0.npy"
    np.save(evil, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["files"]["arrays/0.npy"] = {"size": evil.stat().st_size, "sha256": checkpoint._sha256(evil)}
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="allow_pickle"):
        checkpoint.load(checkpoint.latest(tmp_path))


def test_object_arrays_are_refused_at_save(tmp_path):
    with pytest.raises(checkpoint.CheckpointError, match="object array"):
        checkpoint.save(tmp_path, 1, {"bad": np.array([None, 1], dtype=object)}, {})
    assert checkpoint.latest(tmp_path) is None
    assert list(tmp_path.iterdir()) == []
