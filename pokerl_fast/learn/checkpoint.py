"""Atomic, verified, code-free training checkpoints.

A checkpoint is a directory ``<root>/ckpt-<global step, 12 digits>/`` holding:

  tensors.safetensors  every torch tensor of the snapshot (weights, optimizer moments, RNG/LSTM states, ...)
  arrays/<n>.npy       every numpy array (read back with ``allow_pickle=False``)
  blobs/<n>.bin        every ``bytes`` value (emulator save states)
  tree.json            the snapshot's structure; leaves point at the three stores above
  manifest.json        format version, step, metadata (config, ROM SHA-1, package version), the size and SHA-256
                       of every file above, and the SHA-256 of the manifest's own content. Written last.

Crash guarantees:

- Writing goes into ``<root>/.tmp-ckpt-...`` (a name the loader never looks at); every file is fsynced, then
  ``manifest.json``, then the directory is renamed into place with ``os.replace`` and the parent fsynced. A kill at
  any moment (tested with SIGKILL at 20 random moments of a real run, some inside checkpoint writes) leaves the old
  set of checkpoints or the old set plus the new one, never a half-written one under a loadable name.
- A write that fails (disk full, I/O error) removes its temp directory and raises one ``CheckpointError`` line
  naming the previous checkpoint, which is untouched.
- Loading verifies a checkpoint before use: the manifest's structure and own hash, the exact set of files, and
  every file's size and SHA-256. Any damage after writing (a truncated, flipped, missing, extra or garbage file,
  a manifest with bad JSON, wrong types or missing keys, the directory replaced by a file) makes ``latest`` skip
  that checkpoint with a one-line reason and fall back to the newest valid one.

Nothing is unpickled on load: tensors come from safetensors, arrays from ``np.load(allow_pickle=False)``,
the rest is JSON and raw bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

FORMAT_VERSION = 2
"""2 adds the manifest's own hash; format 1 checkpoints (written without it) are still read."""
CHECKPOINT_RE = re.compile(r"^ckpt-(\d{12})$")
STORED_FILE_RE = re.compile(r"^(tensors\.safetensors|tree\.json|arrays/\d+\.npy|blobs/\d+\.bin)$")
TMP_PREFIX = ".tmp-ckpt-"
TRASH_PREFIX = ".old-ckpt-"
DAMAGED_PREFIX = "damaged-"


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


def _manifest_sha256(body: dict) -> str:
    """SHA-256 of the manifest's content (all but its own hash), independent of key order and spacing."""
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def save(root: str | Path, step: int, snapshot: dict, meta: dict, keep: int = 3) -> Path:
    """Write ``snapshot`` (a tree of dicts/lists/tuples, tensors, arrays, bytes, JSON scalars) atomically.

    ``meta`` (JSON-able) goes into the manifest. Keeps the newest ``keep`` checkpoints (0 keeps all). A write that
    fails with an OSError (disk full, I/O error) removes what it wrote and raises CheckpointError: one line naming
    the previous checkpoint, which is untouched.
    """
    root = Path(root)
    final = root / checkpoint_name(step)
    tmp = root / f"{TMP_PREFIX}{step:012d}-{os.getpid()}"
    try:
        root.mkdir(parents=True, exist_ok=True)
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        _write_payload(tmp, snapshot)
        files = sorted(p for p in tmp.rglob("*") if p.is_file())
        for p in files:
            _fsync_file(p)
        for d in (tmp / "arrays", tmp / "blobs"):
            _fsync_dir(d)
        body = {
            "format": FORMAT_VERSION,
            "step": step,
            "meta": meta,
            "files": {p.relative_to(tmp).as_posix(): {"size": p.stat().st_size, "sha256": _sha256(p)} for p in files},
        }
        body = json.loads(json.dumps(body))  # hash what a reader will parse (int keys become strings, ...)
        manifest = {**body, "sha256": _manifest_sha256(body)}
        _write_bytes(tmp / "manifest.json", json.dumps(manifest, indent=1).encode())
        _fsync_file(tmp / "manifest.json")
        _fsync_dir(tmp)
        if final.exists():  # same step saved twice (e.g. exit right after a periodic save): replace it
            trash = root / f"{TRASH_PREFIX}{step:012d}-{os.getpid()}"
            os.replace(final, trash)
            _remove(trash)
        os.replace(tmp, final)
        _fsync_dir(root)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        found = candidates(root)
        kept = f"the previous checkpoint {found[-1][0].name} is kept" if found else "there is no earlier checkpoint"
        raise CheckpointError(f"could not write checkpoint {final}: {e.strerror or e}; {kept}") from e
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    prune(root, keep)
    return final


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            path.unlink()
        except OSError:
            pass


def prune(root: str | Path, keep: int) -> None:
    """Delete all but the newest ``keep`` checkpoints (renamed out of the pattern first, then removed)."""
    if keep <= 0:
        return
    for path, _step in candidates(Path(root))[:-keep]:
        trash = path.with_name(TRASH_PREFIX + path.name)
        os.replace(path, trash)
        _remove(trash)


def clean_leftovers(root: str | Path) -> list[Path]:
    """Remove temp/trash directories left by a writer that died; returns what was removed."""
    root = Path(root)
    removed = []
    if root.is_dir():
        for p in root.iterdir():
            if p.name.startswith((TMP_PREFIX, TRASH_PREFIX)):
                _remove(p)
                removed.append(p)
    return removed


def set_aside_damaged(root: str | Path, newer_than: int) -> list[Path]:
    """Rename each checkpoint newer than step ``newer_than`` that fails verification (what ``latest`` skipped when
    a run resumes from that step) to ``damaged-ckpt-...``: kept for a look, never loaded, pruned or counted again.
    Returns the new paths."""
    moved = []
    for path, step in candidates(Path(root)):
        if step <= newer_than:
            continue
        try:
            read_manifest(path)
        except CheckpointError:
            target = path.with_name(DAMAGED_PREFIX + path.name)
            _remove(target)
            os.replace(path, target)
            moved.append(target)
    return moved


# --- reading ----------------------------------------------------------------------------------------------------


def candidates(root: Path) -> list[tuple[Path, int]]:
    """Everything under a checkpoint's name, oldest first (a file under that name is a damaged checkpoint)."""
    if not root.is_dir():
        return []
    found = [(p, int(m.group(1))) for p in root.iterdir() if (m := CHECKPOINT_RE.match(p.name))]
    return sorted(found, key=lambda x: x[1])


class _Damaged(Exception):
    """One reason a checkpoint fails verification (the caller adds the path)."""


def _check_manifest(manifest: Any, dir_step: int | None) -> None:
    if not isinstance(manifest, dict):
        raise _Damaged("manifest.json is not a JSON object (damaged)")
    fmt = manifest.get("format")
    if type(fmt) is int and fmt > FORMAT_VERSION:
        raise _Damaged(f"manifest.json has format {fmt}, newer than this pokerl_fast reads ({FORMAT_VERSION})")
    if type(fmt) is not int or fmt < 1:
        raise _Damaged(f"manifest.json has format {fmt!r} (damaged)")
    keys = {"format", "step", "meta", "files"} | ({"sha256"} if fmt >= 2 else set())
    if set(manifest) != keys:
        raise _Damaged(f"manifest.json has keys {sorted(manifest)}, expected {sorted(keys)} (damaged)")
    if fmt >= 2 and manifest["sha256"] != _manifest_sha256({k: v for k, v in manifest.items() if k != "sha256"}):
        raise _Damaged("manifest.json does not match its own hash (damaged)")
    step, meta, files = manifest["step"], manifest["meta"], manifest["files"]
    if type(step) is not int or (dir_step is not None and step != dir_step):
        raise _Damaged(f"manifest.json says step {step!r}, not the directory's (damaged)")
    if not isinstance(meta, dict) or not isinstance(files, dict):
        raise _Damaged("manifest.json's meta and files are not both JSON objects (damaged)")
    for rel, info in files.items():
        if not STORED_FILE_RE.match(rel):
            raise _Damaged(f"manifest.json lists {rel!r}, which is not a checkpoint file (damaged)")
        if not (isinstance(info, dict) and set(info) == {"size", "sha256"} and type(info["size"]) is int
                and isinstance(info["sha256"], str)):
            raise _Damaged(f"manifest.json's entry for {rel} is not a size and a SHA-256 (damaged)")
    for rel in ("tensors.safetensors", "tree.json"):
        if rel not in files:
            raise _Damaged(f"manifest.json does not list {rel} (damaged)")
    for store, ext in (("arrays", "npy"), ("blobs", "bin")):
        n = sum(rel.startswith(store + "/") for rel in files)
        if any(f"{store}/{i}.{ext}" not in files for i in range(n)):
            raise _Damaged(f"manifest.json's {store} are not numbered 0 to {n - 1} (damaged)")


def _check_files(path: Path, files: dict) -> None:
    for rel, info in files.items():
        p = path / rel
        if not p.is_file():
            raise _Damaged(f"{rel} is missing (damaged)")
        size = p.stat().st_size
        if size != info["size"]:
            raise _Damaged(f"{rel} has {size} bytes, not the {info['size']} its manifest says (damaged)")
        if _sha256(p) != info["sha256"]:
            raise _Damaged(f"{rel} does not match its hash (damaged)")
    on_disk = {p.relative_to(path).as_posix() for p in path.rglob("*") if not p.is_dir()}
    extra = sorted(on_disk - set(files) - {"manifest.json"})
    if extra:
        raise _Damaged(f"{extra[0]} is not in the manifest (damaged)")


def read_manifest(path: str | Path) -> dict:
    """The checkpoint's manifest after verifying the whole checkpoint: the manifest's structure and own hash, the
    exact set of files, every file's size and SHA-256. Raises CheckpointError with a one-line reason."""
    path = Path(path)
    m = CHECKPOINT_RE.match(path.name)
    try:
        if not path.is_dir():
            raise _Damaged("is not a directory (damaged)" if path.exists() else "does not exist")
        try:
            manifest = json.loads((path / "manifest.json").read_bytes().decode())
        except FileNotFoundError:
            raise _Damaged("has no manifest.json (incomplete write or damaged)") from None
        except ValueError:  # not UTF-8 or not JSON
            raise _Damaged("manifest.json is not valid JSON (damaged)") from None
        _check_manifest(manifest, int(m.group(1)) if m else None)
        _check_files(path, manifest["files"])
    except OSError as e:  # unreadable, or removed while being checked
        what = os.path.relpath(e.filename, path) if e.filename else "a file"
        raise CheckpointError(f"checkpoint {path}: {what} cannot be read ({e.strerror or e})") from None
    except _Damaged as e:
        raise CheckpointError(f"checkpoint {path}: {e}") from None
    return manifest


def list_checkpoints(root: str | Path, skipped: list[str] | None = None) -> list[Checkpoint]:
    """Every checkpoint under ``root`` that passes verification, oldest first; the one-line reason of each one
    that fails is appended to ``skipped`` when given."""
    out = []
    for path, step in candidates(Path(root)):
        try:
            out.append(Checkpoint(path, step, read_manifest(path)))
        except CheckpointError as e:
            if skipped is not None:
                skipped.append(str(e))
    return out


def latest(root: str | Path, skipped: list[str] | None = None) -> Checkpoint | None:
    """The newest checkpoint under ``root`` that passes verification, or None. The one-line reason of each newer
    one that fails (newest first) is appended to ``skipped`` when given."""
    for path, step in reversed(candidates(Path(root))):
        try:
            return Checkpoint(path, step, read_manifest(path))
        except CheckpointError as e:
            if skipped is not None:
                skipped.append(str(e))
    return None


def load(ckpt: Checkpoint | str | Path) -> dict:
    """The snapshot tree saved in a checkpoint (tensors on CPU); a path is verified first. Files that pass their
    hashes but cannot be decoded (only possible if someone rewrote the manifest to match) raise CheckpointError."""
    if not isinstance(ckpt, Checkpoint):
        path = Path(ckpt)
        m = CHECKPOINT_RE.match(path.name)
        ckpt = Checkpoint(path, int(m.group(1)) if m else -1, read_manifest(path))
    path = ckpt.path
    files = ckpt.manifest["files"]
    n_arrays = sum(1 for rel in files if rel.startswith("arrays/"))
    n_blobs = sum(1 for rel in files if rel.startswith("blobs/"))
    try:
        tensors = load_file(str(path / "tensors.safetensors"))
        arrays = [np.load(path / "arrays" / f"{i}.npy", allow_pickle=False) for i in range(n_arrays)]
        blobs = [(path / "blobs" / f"{i}.bin").read_bytes() for i in range(n_blobs)]
        tree = json.loads((path / "tree.json").read_text())
        return _decode(tree, tensors, arrays, blobs)
    except Exception as e:  # any decoding failure means the checkpoint is unusable; say so in one line
        reason = " ".join(str(e).split())
        raise CheckpointError(f"checkpoint {path}: cannot be decoded ({type(e).__name__}: {reason})") from e
