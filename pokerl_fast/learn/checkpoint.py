"""Atomic, code-free training checkpoints.

A checkpoint is a directory ``<root>/ckpt-<global step, 12 digits>/`` holding:

  tensors.safetensors  every torch tensor of the snapshot (weights, optimizer moments, RNG/LSTM states, ...)
  arrays/<n>.npy       every numpy array (read back with ``allow_pickle=False``)
  blobs/<n>.bin        every ``bytes`` value (emulator save states)
  tree.json            the snapshot's structure; leaves point at the three stores above
  manifest.json        format version, step, metadata (config, ROM SHA-1, package version) and the size and
                       SHA-256 of every file above. Written last.

Writing goes into ``<root>/.tmp-ckpt-...`` (a name the loader never looks at); every file is fsynced, then
``manifest.json``, then the directory is renamed into place with ``os.replace`` and the parent fsynced. A crash at any
point leaves either the old set of checkpoints or the old set plus the new one, never a half-written one under a
loadable name. Loading checks every file's size and hash and skips (with a warning) any checkpoint that fails.

Nothing is unpickled on load: tensors come from safetensors, arrays from ``np.load(allow_pickle=False)``,
the rest is JSON and raw bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

FORMAT_VERSION = 1
CHECKPOINT_RE = re.compile(r"^ckpt-(\d{12})$")
TMP_PREFIX = ".tmp-ckpt-"
TRASH_PREFIX = ".old-ckpt-"


class CheckpointError(RuntimeError):
    """A checkpoint cannot be used; the message says why and what to do."""


@dataclass
class Checkpoint:
    path: Path
    step: int
    manifest: dict

    @property
    def meta(self) -> dict:
        return self.manifest["meta"]


# --- snapshot tree <-> JSON + stores ----------------------------------------------------------------------------


class _Stores:
    def __init__(self) -> None:
        self.tensors: dict[str, torch.Tensor] = {}
        self.arrays: list[np.ndarray] = []
        self.blobs: list[bytes] = []


def _encode(obj: Any, stores: _Stores, path: str) -> Any:
    if isinstance(obj, torch.Tensor):
        key = path or "root"
        stores.tensors[key] = obj.detach().to("cpu", copy=True).contiguous()
        return {"__tensor__": key}
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            raise CheckpointError(f"snapshot field {path!r} is an object array; only plain numeric arrays are saved")
        stores.arrays.append(np.ascontiguousarray(obj))
        return {"__npy__": len(stores.arrays) - 1}
    if isinstance(obj, (bytes, bytearray, memoryview)):
        stores.blobs.append(bytes(obj))
        return {"__bytes__": len(stores.blobs) - 1}
    if isinstance(obj, np.generic):
        return {"__npscalar__": obj.dtype.str, "value": obj.item()}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, stores, f"{path}/{i}") for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, stores, f"{path}/{i}") for i, v in enumerate(obj)]
    if isinstance(obj, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in obj):
            return {k: _encode(v, stores, f"{path}/{k}") for k, v in obj.items()}
        return {"__items__": [[_encode(k, stores, f"{path}/key"), _encode(v, stores, f"{path}/{k}")] for k, v in obj.items()]}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise CheckpointError(f"snapshot field {path!r} has type {type(obj).__name__}, which checkpoints cannot store")


def _decode(node: Any, tensors: dict, arrays: list, blobs: list) -> Any:
    if isinstance(node, list):
        return [_decode(v, tensors, arrays, blobs) for v in node]
    if not isinstance(node, dict):
        return node
    if "__tensor__" in node:
        return tensors[node["__tensor__"]]
    if "__npy__" in node:
        return arrays[node["__npy__"]]
    if "__bytes__" in node:
        return blobs[node["__bytes__"]]
    if "__npscalar__" in node:
        return np.dtype(node["__npscalar__"]).type(node["value"])
    if "__tuple__" in node:
        return tuple(_decode(v, tensors, arrays, blobs) for v in node["__tuple__"])
    if "__items__" in node:
        return {_decode(k, tensors, arrays, blobs): _decode(v, tensors, arrays, blobs) for k, v in node["__items__"]}
    return {k: _decode(v, tensors, arrays, blobs) for k, v in node.items()}


# --- writing ----------------------------------------------------------------------------------------------------


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        _fsync_file(path)
    except OSError:  # some filesystems refuse fsync on a directory; the rename is still atomic
        pass


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _write_bytes(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)


def _write_payload(tmp: Path, snapshot: dict) -> None:
    """Every file except the manifest. Split out so a test can inject a failure mid-write."""
    stores = _Stores()
    tree = _encode(snapshot, stores, "")
    save_file(stores.tensors, str(tmp / "tensors.safetensors"))
    (tmp / "arrays").mkdir()
    for i, array in enumerate(stores.arrays):
        with open(tmp / "arrays" / f"{i}.npy", "wb") as f:
            np.save(f, array, allow_pickle=False)
    (tmp / "blobs").mkdir()
    for i, blob in enumerate(stores.blobs):
        _write_bytes(tmp / "blobs" / f"{i}.bin", blob)
    _write_bytes(tmp / "tree.json", json.dumps(tree).encode())


def checkpoint_name(step: int) -> str:
    return f"ckpt-{step:012d}"


def save(root: str | Path, step: int, snapshot: dict, meta: dict, keep: int = 3) -> Path:
    """Write ``snapshot`` (a tree of dicts/lists/tuples, tensors, arrays, bytes, JSON scalars) atomically.

    ``meta`` (JSON-able) goes into the manifest. Keeps the newest ``keep`` checkpoints (0 keeps all).
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    final = root / checkpoint_name(step)
    tmp = root / f"{TMP_PREFIX}{step:012d}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        _write_payload(tmp, snapshot)
        files = sorted(p for p in tmp.rglob("*") if p.is_file())
        for p in files:
            _fsync_file(p)
        for d in (tmp / "arrays", tmp / "blobs"):
            _fsync_dir(d)
        manifest = {
            "format": FORMAT_VERSION,
            "step": step,
            "meta": meta,
            "files": {str(p.relative_to(tmp)): {"size": p.stat().st_size, "sha256": _sha256(p)} for p in files},
        }
        _write_bytes(tmp / "manifest.json", json.dumps(manifest, indent=1).encode())
        _fsync_file(tmp / "manifest.json")
        _fsync_dir(tmp)
        if final.exists():  # same step saved twice (e.g. exit right after a periodic save): replace it
            trash = root / f"{TRASH_PREFIX}{step:012d}-{os.getpid()}"
            os.replace(final, trash)
            shutil.rmtree(trash, ignore_errors=True)
        os.replace(tmp, final)
        _fsync_dir(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    prune(root, keep)
    return final


def prune(root: str | Path, keep: int) -> None:
    """Delete all but the newest ``keep`` checkpoints (renamed out of the pattern first, then removed)."""
    if keep <= 0:
        return
    for path, _step in _candidates(Path(root))[:-keep]:
        trash = path.with_name(TRASH_PREFIX + path.name)
        os.replace(path, trash)
        shutil.rmtree(trash, ignore_errors=True)


def clean_leftovers(root: str | Path) -> list[Path]:
    """Remove temp/trash directories left by a writer that died; returns what was removed."""
    root = Path(root)
    removed = []
    if root.is_dir():
        for p in root.iterdir():
            if p.name.startswith((TMP_PREFIX, TRASH_PREFIX)):
                shutil.rmtree(p, ignore_errors=True)
                removed.append(p)
    return removed


# --- reading ----------------------------------------------------------------------------------------------------


def _candidates(root: Path) -> list[tuple[Path, int]]:
    if not root.is_dir():
        return []
    found = [(p, int(m.group(1))) for p in root.iterdir() if p.is_dir() and (m := CHECKPOINT_RE.match(p.name))]
    return sorted(found, key=lambda x: x[1])


def read_manifest(path: str | Path) -> dict:
    """The checkpoint's manifest after checking every listed file's size and SHA-256."""
    path = Path(path)
    try:
        manifest = json.loads((path / "manifest.json").read_text())
    except FileNotFoundError:
        raise CheckpointError(f"checkpoint {path} has no manifest.json (incomplete write)") from None
    except json.JSONDecodeError as e:
        raise CheckpointError(f"checkpoint {path} has a corrupt manifest.json ({e})") from None
    if manifest.get("format") != FORMAT_VERSION:
        raise CheckpointError(
            f"checkpoint {path} has format {manifest.get('format')!r}; this pokerl_fast reads format {FORMAT_VERSION}"
        )
    for rel, info in manifest["files"].items():
        p = path / rel
        if not p.is_file() or p.stat().st_size != info["size"] or _sha256(p) != info["sha256"]:
            raise CheckpointError(f"checkpoint {path}: file {rel} is missing or does not match its manifest hash")
    return manifest


def list_checkpoints(root: str | Path) -> list[Checkpoint]:
    """Every checkpoint under ``root`` that passes verification, oldest first (broken ones are warned about)."""
    out = []
    for path, step in _candidates(Path(root)):
        try:
            out.append(Checkpoint(path, step, read_manifest(path)))
        except CheckpointError as e:
            warnings.warn(f"skipping {e}", stacklevel=2)
    return out


def latest(root: str | Path) -> Checkpoint | None:
    """The newest verified checkpoint under ``root``, or None."""
    for path, step in reversed(_candidates(Path(root))):
        try:
            return Checkpoint(path, step, read_manifest(path))
        except CheckpointError as e:
            warnings.warn(f"skipping {e}; trying an older checkpoint", stacklevel=2)
    return None


def load(ckpt: Checkpoint | str | Path) -> dict:
    """The snapshot tree saved in a checkpoint (tensors on CPU)."""
    if not isinstance(ckpt, Checkpoint):
        path = Path(ckpt)
        m = CHECKPOINT_RE.match(path.name)
        ckpt = Checkpoint(path, int(m.group(1)) if m else -1, read_manifest(path))
    path = ckpt.path
    tensors = load_file(str(path / "tensors.safetensors"))
    files = ckpt.manifest["files"]
    n_arrays = sum(1 for rel in files if rel.startswith("arrays/"))
    n_blobs = sum(1 for rel in files if rel.startswith("blobs/"))
    arrays = [np.load(path / "arrays" / f"{i}.npy", allow_pickle=False) for i in range(n_arrays)]
    blobs = [(path / "blobs" / f"{i}.bin").read_bytes() for i in range(n_blobs)]
    tree = json.loads((path / "tree.json").read_text())
    return _decode(tree, tensors, arrays, blobs)
