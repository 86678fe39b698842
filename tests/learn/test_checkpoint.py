"""Checkpoint files: exact round trips, atomic writes, keep-last-K, a full disk, any damage, pickle refusal."""

import errno
import json
import os
import random
import shutil

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


class FullDisk:
    """``open`` for the checkpoint writer on a disk with ``free`` bytes left: the write that passes them writes what
    fits, then fails with ENOSPC, as a real full disk does."""

    def __init__(self, free: int):
        self.free = free

    def open(self, path, mode="r", *args, **kwargs):
        f = open(path, mode, *args, **kwargs)
        return _LimitedFile(f, self) if "w" in mode else f


class _LimitedFile:
    def __init__(self, f, disk: FullDisk):
        self.f, self.disk = f, disk

    def write(self, data) -> int:
        data = bytes(data)
        n = min(len(data), self.disk.free)
        self.f.write(data[:n])
        self.disk.free -= n
        if n < len(data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return n

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()

    def __getattr__(self, name):
        return getattr(self.f, name)


def test_full_disk_mid_write_keeps_the_previous_checkpoint_and_says_so(tmp_path, monkeypatch):
    checkpoint.save(tmp_path, 10, sample_snapshot(1), {"n": 1})
    # what the writer writes through open() (tensors go through safetensors): arrays, blobs, tree.json, manifest
    written = sum(p.stat().st_size for p in (tmp_path / "ckpt-000000000010").rglob("*")
                  if p.is_file() and p.name != "tensors.safetensors")
    for free in (0, 70, 200, written // 2, written - 300, written - 1):  # full in each file, the manifest last
        monkeypatch.setattr(checkpoint, "open", FullDisk(free).open, raising=False)
        with pytest.raises(checkpoint.CheckpointError) as err:
            checkpoint.save(tmp_path, 20, sample_snapshot(2), {"n": 2})
        monkeypatch.undo()
        assert str(err.value) == (f"could not write checkpoint {tmp_path / 'ckpt-000000000020'}: No space left on "
                                  "device; the previous checkpoint ckpt-000000000010 is kept")
        assert [p.name for p in tmp_path.iterdir()] == ["ckpt-000000000010"]  # nothing half-written left
        skipped = []
        ckpt = checkpoint.latest(tmp_path, skipped)
        assert ckpt.step == 10 and ckpt.meta == {"n": 1} and skipped == []
        assert_same(checkpoint.load(ckpt), sample_snapshot(1))
    checkpoint.save(tmp_path, 20, sample_snapshot(2), {"n": 2})  # with room again, the next save works
    assert checkpoint.latest(tmp_path).step == 20


def test_a_failed_first_write_says_there_is_no_earlier_checkpoint(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoint, "open", FullDisk(0).open, raising=False)
    with pytest.raises(checkpoint.CheckpointError, match="No space left on device; there is no earlier checkpoint"):
        checkpoint.save(tmp_path, 10, sample_snapshot(1), {})
    assert list(tmp_path.iterdir()) == []


def test_an_error_mid_write_leaves_nothing_behind(tmp_path, monkeypatch):
    checkpoint.save(tmp_path, 10, sample_snapshot(1), {"n": 1})
    real = checkpoint._write_payload

    def half_then_fail(tmp, snapshot):
        real(tmp, snapshot)
        (tmp / "tensors.safetensors").write_bytes(b"truncated")
        raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint, "_write_payload", half_then_fail)
    with pytest.raises(KeyboardInterrupt):
        checkpoint.save(tmp_path, 20, sample_snapshot(2), {"n": 2})
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt-000000000010"]
    assert checkpoint.latest(tmp_path).step == 10


def test_leftover_temp_dir_from_a_killed_writer_is_ignored_and_cleaned(tmp_path):
    checkpoint.save(tmp_path, 10, {"x": torch.tensor(1)}, {})
    # what a writer killed before its rename leaves behind: files, even a manifest, under a temp name
    leftover = tmp_path / f"{checkpoint.TMP_PREFIX}000000000020-999"
    leftover.mkdir()
    (leftover / "manifest.json").write_text(json.dumps({"format": 1, "step": 20, "meta": {}, "files": {}}))
    assert checkpoint.latest(tmp_path).step == 10
    assert checkpoint.clean_leftovers(tmp_path) == [leftover]
    assert not leftover.exists()


# --- damage: every kind falls back to the newest valid checkpoint with one line saying why --------------------


def flip(p, at=None):
    data = bytearray(p.read_bytes())
    data[len(data) // 2 if at is None else at] ^= 0xFF
    p.write_bytes(bytes(data))


def truncate(p):
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])


def garbage(p):
    p.write_bytes(random.Random(0).randbytes(p.stat().st_size))


def edit_manifest(edit, rehash=True):
    """Change the parsed manifest; with ``rehash`` its own hash is recomputed, so that the check behind it runs."""

    def damage(path):
        m = json.loads((path / "manifest.json").read_text())
        edit(m)
        if rehash and "sha256" in m:
            m["sha256"] = checkpoint._manifest_sha256({k: v for k, v in m.items() if k != "sha256"})
        (path / "manifest.json").write_text(json.dumps(m))

    return damage


def replace_by_file(p):
    shutil.rmtree(p) if p.is_dir() else p.unlink()
    p.write_bytes(b"x")


def replace_by_dir(p):
    p.unlink()
    p.mkdir()


FILES = ["tensors.safetensors", "arrays/0.npy", "blobs/0.bin", "tree.json", "manifest.json"]
HOW = {"truncated": truncate, "flipped": flip, "garbage": garbage, "missing": os.remove}
REASON = {"truncated": "has", "flipped": "does not match its hash",
          "garbage": "does not match its hash", "missing": "is missing"}
MANIFEST_REASON = {"truncated": "not valid JSON", "flipped": "not valid JSON", "garbage": "not valid JSON",
                   "missing": "has no manifest.json"}
DAMAGE = {f"{how} {rel}": (lambda d, rel=rel, how=how: HOW[how](d / rel),
                           MANIFEST_REASON[how] if rel == "manifest.json" else f"{rel} {REASON[how]}")
          for rel in FILES for how in HOW}
DAMAGE.update({
    "manifest: not JSON": (lambda d: (d / "manifest.json").write_text('{"format": 2, "step"'), "not valid JSON"),
    "manifest: not UTF-8": (lambda d: (d / "manifest.json").write_bytes(b'{"\xff": 1}'), "not valid JSON"),
    "manifest: a list": (lambda d: (d / "manifest.json").write_text("[]"), "not a JSON object"),
    "manifest: null": (lambda d: (d / "manifest.json").write_text("null"), "not a JSON object"),
    "manifest: empty": (lambda d: (d / "manifest.json").write_text(""), "not valid JSON"),
    "manifest: a directory": (lambda d: replace_by_dir(d / "manifest.json"),
                              "manifest.json cannot be read (Is a directory)"),
    "manifest: meta changed": (edit_manifest(lambda m: m["meta"].update(n=3), rehash=False), "its own hash"),
    "manifest: a file hash changed": (edit_manifest(lambda m: m["files"]["tree.json"].update(sha256="0" * 64),
                                                    rehash=False), "its own hash"),
    "manifest: own hash missing": (edit_manifest(lambda m: m.pop("sha256")), "expected ["),
    "manifest: an unknown key": (edit_manifest(lambda m: m.update(extra=1)), "expected ["),
    "manifest: format missing": (edit_manifest(lambda m: m.pop("format")), "format None"),
    "manifest: format a string": (edit_manifest(lambda m: m.update(format="2")), "format '2'"),
    "manifest: format true": (edit_manifest(lambda m: m.update(format=True)), "format True"),
    "manifest: a newer format": (edit_manifest(lambda m: m.update(format=3)),
                                 "format 3, newer than this pokerl_fast reads (2)"),
    "manifest: format 1 with a hash": (edit_manifest(lambda m: m.update(format=1)), "expected ["),
    "manifest: step missing": (edit_manifest(lambda m: m.pop("step")), "expected ["),
    "manifest: step a string": (edit_manifest(lambda m: m.update(step="20")), "says step '20'"),
    "manifest: another step": (edit_manifest(lambda m: m.update(step=30)), "says step 30"),
    "manifest: meta a number": (edit_manifest(lambda m: m.update(meta=5)), "not both JSON objects"),
    "manifest: files a list": (edit_manifest(lambda m: m.update(files=[])), "not both JSON objects"),
    "manifest: files missing": (edit_manifest(lambda m: m.pop("files")), "expected ["),
    "manifest: size a string": (edit_manifest(lambda m: m["files"]["tree.json"].update(size="9")),
                                "entry for tree.json is not"),
    "manifest: hash missing": (edit_manifest(lambda m: m["files"]["tree.json"].pop("sha256")),
                               "entry for tree.json is not"),
    "manifest: entry a list": (edit_manifest(lambda m: m["files"].update({"tree.json": [1, 2]})),
                               "entry for tree.json is not"),
    "manifest: a path outside": (edit_manifest(lambda m: m["files"].update({"../x": {"size": 1, "sha256": ""}})),
                                 "lists '../x', which is not a checkpoint file"),
    "manifest: tree.json unlisted": (edit_manifest(lambda m: m["files"].pop("tree.json")),
                                     "does not list tree.json"),
    "manifest: an array unlisted": (edit_manifest(lambda m: m["files"].pop("arrays/0.npy")),
                                    "arrays are not numbered"),
    "extra file": (lambda d: (d / "notes.txt").write_text("hi"), "notes.txt is not in the manifest"),
    "extra array": (lambda d: shutil.copy(d / "arrays/0.npy", d / "arrays/9.npy"), "arrays/9.npy is not in the"),
    "blobs dir missing": (lambda d: shutil.rmtree(d / "blobs"), "blobs/0.bin is missing"),
    "arrays dir a file": (lambda d: replace_by_file(d / "arrays"), "arrays/0.npy is missing"),
    "a blob a directory": (lambda d: replace_by_dir(d / "blobs" / "0.bin"), "blobs/0.bin is missing"),
    "checkpoint dir a file": (lambda d: replace_by_file(d), "is not a directory"),
    "checkpoint dir empty": (lambda d: [replace_by_file(d), os.remove(d), d.mkdir()], "has no manifest.json"),
})  # fmt: skip


def two_checkpoints(root):
    checkpoint.save(root, 10, sample_snapshot(1), {"n": 1})
    return checkpoint.save(root, 20, sample_snapshot(2), {"n": 2})


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_any_damage_to_the_newest_checkpoint_falls_back_with_one_line(tmp_path, kind):
    damage, reason = DAMAGE[kind]
    newest = two_checkpoints(tmp_path)
    damage(newest)
    skipped = []
    ckpt = checkpoint.latest(tmp_path, skipped)
    assert ckpt.step == 10 and ckpt.meta == {"n": 1}
    assert_same(checkpoint.load(ckpt), sample_snapshot(1))
    (line,) = skipped
    assert line.startswith(f"checkpoint {newest}: ") and reason in line, line
    assert "\n" not in line
    assert [c.step for c in checkpoint.list_checkpoints(tmp_path)] == [10]
    with pytest.raises(checkpoint.CheckpointError, match="damaged|cannot be read|newer than"):
        checkpoint.load(newest)


def test_every_flipped_byte_or_bit_of_the_manifest_is_caught(tmp_path):
    newest = two_checkpoints(tmp_path)
    original = (newest / "manifest.json").read_bytes()
    rng = random.Random(0)
    for at in range(len(original)):
        for mask in (0xFF, 1 << rng.randrange(8)):
            data = bytearray(original)
            data[at] ^= mask
            (newest / "manifest.json").write_bytes(bytes(data))
            ckpt = checkpoint.latest(tmp_path)
            # a change that parses to the same manifest (none here, but e.g. 1e-05 -> 1E-05) is no damage
            assert ckpt.step == 10 or ckpt.manifest == json.loads(original), (at, mask)


def test_damage_to_every_checkpoint_leaves_none_and_says_why_for_each(tmp_path):
    newest = two_checkpoints(tmp_path)
    flip(newest / "tensors.safetensors")
    os.remove(tmp_path / "ckpt-000000000010" / "manifest.json")
    skipped = []
    assert checkpoint.latest(tmp_path, skipped) is None
    assert [line.split(": ", 1)[1] for line in skipped] == [
        "tensors.safetensors does not match its hash (damaged)",
        "has no manifest.json (incomplete write or damaged)",
    ]


def test_a_format_1_checkpoint_without_its_own_hash_is_still_read(tmp_path):
    newest = two_checkpoints(tmp_path)
    edit_manifest(lambda m: [m.pop("sha256"), m.update(format=1)], rehash=False)(newest)
    assert checkpoint.latest(tmp_path).step == 20
    assert_same(checkpoint.load(newest), sample_snapshot(2))


def test_damaged_newer_checkpoints_are_set_aside_and_never_pruned_or_loaded(tmp_path):
    newest = two_checkpoints(tmp_path)
    valid = checkpoint.save(tmp_path, 30, sample_snapshot(3), {})
    replace_by_file(newest)
    assert checkpoint.set_aside_damaged(tmp_path, 10) == [tmp_path / "damaged-ckpt-000000000020"]
    assert (tmp_path / "damaged-ckpt-000000000020").is_file() and valid.is_dir()  # a valid one stays
    checkpoint.save(tmp_path, 11, {"x": torch.tensor(1)}, {}, keep=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "ckpt-000000000011", "ckpt-000000000030", "damaged-ckpt-000000000020"]


def test_pruning_and_cleaning_remove_files_under_checkpoint_names_too(tmp_path):
    (tmp_path / "ckpt-000000000005").write_text("a file, not a checkpoint")
    (tmp_path / f"{checkpoint.TMP_PREFIX}000000000007-1").write_text("a leftover file")
    checkpoint.clean_leftovers(tmp_path)
    for step in (10, 20):
        checkpoint.save(tmp_path, step, {"x": torch.tensor(step)}, {}, keep=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt-000000000010", "ckpt-000000000020"]


def test_loading_never_unpickles(tmp_path):
    """A pickled object array smuggled into a checkpoint (hashes fixed up) is refused, not executed."""
    path = checkpoint.save(tmp_path, 10, {"a": np.arange(3)}, {})
    evil = path / "arrays" / "0.npy"
    np.save(evil, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    entry = {"size": evil.stat().st_size, "sha256": checkpoint._sha256(evil)}
    edit_manifest(lambda m: m["files"].update({"arrays/0.npy": entry}))(path)
    with pytest.raises(checkpoint.CheckpointError, match="allow_pickle") as err:
        checkpoint.load(checkpoint.latest(tmp_path))
    assert "\n" not in str(err.value)


def test_object_arrays_are_refused_at_save(tmp_path):
    with pytest.raises(checkpoint.CheckpointError, match="object array"):
        checkpoint.save(tmp_path, 1, {"bad": np.array([None, 1], dtype=object)}, {})
    assert checkpoint.latest(tmp_path) is None
    assert list(tmp_path.iterdir()) == []
