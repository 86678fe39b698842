"""Swarming (Go-Explore): keep save states of the progress envs made, and move envs to the frontier.

A key is a set of achievement indices: required-event indices, plus badges encoded by `make_key` above
`BADGE_BASE`. Key A is beaten by key B when A is a strict subset of B; the frontier is the keys no other key
beats. Within a key, states are kept per *cell*: an integer the vector env computes from where the player stands
(Go-Explore's cells: the map and a coarse block of steps, ``EnvConfig.swarm_cell_size``), or 0 for every state
when cells are off, which keeps one state per key. Envs are moved by loading a state drawn from the frontier's
cells, each with weight 1 / sqrt(1 + visits), the steps envs have spent in that cell: cells at the edge of what
the envs know are drawn most, so progress one env made is shared with the others and pushed further.

The vector env reports where its envs stand every step (``observe``: one vectorized lookup, visits counted) and
offers a state only for a cell the archive has never seen. States are PyBoy ``save_state`` bytes, kept
zlib-compressed (a save state is mostly zeros: 150 kB become about 2 kB); the archive saves to plain numpy arrays
(no pickle) so it can sit in a checkpoint beside the model weights.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Iterable

import numpy as np

__all__ = ["BADGE_BASE", "Key", "StateArchive", "make_key", "plan_moves"]

Key = frozenset  # frozenset[int]
# Badge i (bit i of wObtainedBadges) is achievement BADGE_BASE + i, far above any event index.
BADGE_BASE = 1 << 16
CELL_BITS = 32
"""A cell is below 2**32; (key id << CELL_BITS) | cell is the code ``observe`` looks up."""


def make_key(events: Iterable[int] = (), badges: int = 0) -> Key:
    """Key for a set of reached required-event indices and a badge byte."""
    if not 0 <= badges <= 0xFF:
        raise ValueError(f"badges must be the wObtainedBadges byte (0-255), got {badges}")
    key = _as_key(events)
    return key | {BADGE_BASE + i for i in range(8) if badges >> i & 1}


def _as_key(key) -> Key:
    if isinstance(key, (str, bytes)):
        raise TypeError(f"an archive key is a set of achievement indices, got {type(key).__name__} {key!r}")
    out = frozenset(int(k) for k in key)
    if any(k < 0 for k in out):
        raise ValueError(f"achievement indices must be >= 0, got {sorted(out)}")
    return out


def _as_cell(cell) -> int:
    cell = int(cell)
    if not 0 <= cell < 1 << CELL_BITS:
        raise ValueError(f"a cell is an integer in [0, 2**{CELL_BITS}), got {cell}")
    return cell


@dataclasses.dataclass
class _Entry:
    packed: bytes  # the save state, zlib-compressed
    score: float
    order: int  # when it was stored; older loses ties


class StateArchive:
    """Best save state per (achievement set, cell), bounded to `max_size` entries."""

    def __init__(self, max_size: int):
        if max_size < 1:
            raise ValueError(f"max_size must be at least 1, got {max_size}")
        self.max_size = int(max_size)
        self._entries: dict[tuple[Key, int], _Entry] = {}
        self._next_order = 0
        self._frontier: list[Key] | None = None  # cached; any change to the entries clears it
        # Cells seen (stored or not) as sorted codes (key id << CELL_BITS | cell) with the steps spent in each.
        self._ids: dict[Key, int] = {}
        self._seen = np.empty(0, np.int64)
        self._visits = np.empty(0, np.int64)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key) -> bool:
        """Whether any state is kept for achievement set `key`."""
        key = _as_key(key)
        return any(k == key for k, _ in self._entries)

    def keys(self) -> list[Key]:
        """The achievement sets kept, most achievements first."""
        return sorted({k for k, _ in self._entries}, key=_sort_key)

    def cells(self, key) -> list[int]:
        """The cells kept for `key`, in increasing order."""
        key = _as_key(key)
        return sorted(c for k, c in self._entries if k == key)

    def _entry(self, key, cell) -> _Entry:
        key = _as_key(key)
        if cell is None:  # the key's best-scoring state (the oldest among equals)
            cells = [c for k, c in self._entries if k == key]
            if not cells:
                raise KeyError(key)
            cell = max(cells, key=lambda c: (self._entries[key, c].score, -self._entries[key, c].order))
        return self._entries[key, _as_cell(cell)]

    def state(self, key, cell: int | None = None) -> bytes:
        """The save state kept for (`key`, `cell`); without a cell, the key's best-scoring one."""
        return zlib.decompress(self._entry(key, cell).packed)

    def score(self, key, cell: int | None = None) -> float:
        return self._entry(key, cell).score

    def visits(self, key, cell: int = 0) -> int:
        """Steps envs spent in (`key`, `cell`), as reported to ``observe``."""
        return int(self._visits_of([self._code(_as_key(key), _as_cell(cell))])[0])

    def dominated(self, key) -> bool:
        """Whether a kept achievement set strictly contains `key` (a state for it would never be drawn)."""
        key = _as_key(key)
        return any(key < k for k, _ in self._entries)

    def offer(self, key, state: bytes, score: float = 0.0, cell: int = 0) -> bool:
        """Keep `state` for (`key`, `cell`) when that is new, or known with a lower score. True when it was kept."""
        key, cell = _as_key(key), _as_cell(cell)
        if not isinstance(state, (bytes, bytearray, memoryview)) or len(state) == 0:
            raise ValueError("state must be the non-empty bytes of a PyBoy save_state")
        old = self._entries.get((key, cell))
        if old is not None and not score > old.score:
            return False
        self._entries[key, cell] = _Entry(zlib.compress(bytes(state), 1), float(score), self._next_order)
        self._next_order += 1
        self._frontier = None
        if len(self._entries) > self.max_size:  # only a new entry grows the archive
            loser = self._eviction_victim()
            del self._entries[loser]
            self._frontier = None
            return loser != (key, cell)
        return True

    def frontier(self) -> list[Key]:
        """Keys no other key contains strictly, most achievements first."""
        if self._frontier is None:
            keys = {k for k, _ in self._entries}
            self._frontier = sorted((k for k in keys if not any(k < o for o in keys)), key=_sort_key)
        return list(self._frontier)

    def best(self) -> Key | None:
        """The frontier key with the most achievements (then highest score)."""
        front = self.frontier()
        if not front:
            return None
        return max(front, key=lambda k: (len(k), self._entry(k, None).score, -self._entry(k, None).order))

    def frontier_entries(self) -> list[tuple[Key, int]]:
        """(key, cell) of every state on the frontier, most achievements first, then by cell."""
        front = self.frontier()
        return [(k, c) for k in front for c in self.cells(k)]

    def sample(self, rng: np.random.Generator, n: int) -> list[bytes]:
        """`n` states drawn with replacement from the frontier's cells (``sample_entries``)."""
        return [self.state(k, c) for k, c in self.sample_entries(rng, n)]

    def sample_entries(self, rng: np.random.Generator, n: int) -> list[tuple[Key, int]]:
        """`n` (key, cell) drawn with replacement from the frontier, each with weight 1 / sqrt(1 + visits); while
        no visit was reported (cells off) that is uniform."""
        entries = self.frontier_entries()
        if not entries:
            raise ValueError("the archive is empty: offer() a state before sampling")
        visits = self._visits_of([self._code(k, c) for k, c in entries])
        if not visits.any():
            return [entries[i] for i in rng.integers(0, len(entries), size=int(n))]
        weights = 1.0 / np.sqrt(1.0 + visits)
        return [entries[i] for i in rng.choice(len(entries), size=int(n), p=weights / weights.sum())]

    def _eviction_victim(self) -> tuple[Key, int]:
        # Dominated keys go first, then the fewest achievements, then the most visited cell, lowest score, oldest.
        front = set(self.frontier())
        items = list(self._entries)
        visits = self._visits_of([self._code(k, c) for k, c in items])
        rank = {item: (item[0] in front, len(item[0]), -int(v), self._entries[item].score, self._entries[item].order)
                for item, v in zip(items, visits)}
        return min(items, key=rank.__getitem__)

    # --- where the envs stand: cells seen and the steps spent in them ---------------------------

    def key_id(self, key) -> int:
        """A small integer naming `key` in ``observe``'s codes (given on first use, kept in checkpoints)."""
        key = _as_key(key)
        if key not in self._ids:
            self._ids[key] = len(self._ids)
        return self._ids[key]

    def _code(self, key: Key, cell: int) -> int:
        """The code ``observe`` counts (key, cell) under; -1 (never seen) for a key no env reported."""
        return self._ids[key] << CELL_BITS | cell if key in self._ids else -1

    def _lookup(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where each code sits in the seen codes, and whether it is there."""
        idx = np.searchsorted(self._seen, codes)
        hit = idx < len(self._seen)
        hit[hit] = self._seen[idx[hit]] == codes[hit]
        return idx, hit

    def _visits_of(self, codes) -> np.ndarray:
        codes = np.asarray(codes, np.int64)
        idx, hit = self._lookup(codes)
        out = np.zeros(len(codes), np.int64)
        out[hit] = self._visits[idx[hit]]
        return out

    def observe(self, key_ids: np.ndarray, cells: np.ndarray) -> np.ndarray:
        """Envs stand in cells ``cells`` holding achievement sets ``key_ids`` (``key_id``), one step each: count
        a visit for every seen cell. Returns the envs whose cell was never seen; call ``mark_seen`` with them once
        handled (offered or not), so each new cell is handled once."""
        codes = np.asarray(key_ids, np.int64) << CELL_BITS | np.asarray(cells, np.int64)
        idx, hit = self._lookup(codes)
        np.add.at(self._visits, idx[hit], 1)
        return ~hit

    def mark_seen(self, key_ids: np.ndarray, cells: np.ndarray) -> None:
        """Cells an env just entered for the first time: seen from now on, with one visit each."""
        codes = np.asarray(key_ids, np.int64) << CELL_BITS | np.asarray(cells, np.int64)
        new, counts = np.unique(codes, return_counts=True)
        fresh = ~np.isin(new, self._seen)
        seen = np.concatenate([self._seen, new[fresh]])
        visits = np.concatenate([self._visits, counts[fresh]])
        order = np.argsort(seen, kind="stable")
        self._seen, self._visits = seen[order], visits[order]

    # --- checkpoints: numpy arrays and bytes only -----------------------------------------------

    def to_arrays(self) -> dict[str, np.ndarray]:
        items = sorted(self._entries, key=lambda k: self._entries[k].order)
        states = [self._entries[k].packed for k in items]
        ids = sorted(self._ids, key=self._ids.__getitem__)
        return {
            "max_size": np.array([self.max_size], np.int64),
            "next_order": np.array([self._next_order], np.int64),
            "key_lengths": np.array([len(k) for k, _ in items], np.int64),
            "key_items": np.array([i for k, _ in items for i in sorted(k)], np.int64),
            "cells": np.array([c for _, c in items], np.int64),
            "scores": np.array([self._entries[k].score for k in items], np.float64),
            "orders": np.array([self._entries[k].order for k in items], np.int64),
            "state_lengths": np.array([len(s) for s in states], np.int64),
            "states": np.frombuffer(b"".join(states), np.uint8).copy(),
            "compressed": np.array([1], np.int64),
            "id_lengths": np.array([len(k) for k in ids], np.int64),
            "id_items": np.array([i for k in ids for i in sorted(k)], np.int64),
            "seen": self._seen.copy(),
            "visits": self._visits.copy(),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> StateArchive:
        """An archive saved by ``to_arrays``; one saved before cells existed (no "cells", raw states) loads too."""
        missing = {"max_size", "next_order", "key_lengths", "key_items", "scores", "orders",
                   "state_lengths", "states"} - set(arrays)
        if missing:
            raise ValueError(f"archive arrays lack {sorted(missing)}; save them with StateArchive.to_arrays()")
        a = {name: np.asarray(v) for name, v in arrays.items()}
        n = len(a["key_lengths"])
        cells = a.get("cells", np.zeros(n, np.int64))
        if not (len(a["scores"]) == len(a["orders"]) == len(a["state_lengths"]) == len(cells) == n
                and a["key_lengths"].sum() == len(a["key_items"]) and a["state_lengths"].sum() == len(a["states"])
                and len(a.get("seen", ())) == len(a.get("visits", ()))):
            raise ValueError("archive arrays have inconsistent lengths; the checkpoint is damaged")
        archive = cls(int(a["max_size"][0]))
        archive._next_order = int(a["next_order"][0])
        compressed = bool(a.get("compressed", [0])[0])
        keys = _split_keys(a["key_lengths"], a["key_items"])
        state_ends = np.cumsum(a["state_lengths"])
        states = a["states"].astype(np.uint8, copy=False).tobytes()
        for i in range(n):
            s0 = state_ends[i] - a["state_lengths"][i]
            raw = states[s0:state_ends[i]]
            archive._entries[keys[i], _as_cell(cells[i])] = _Entry(
                raw if compressed else zlib.compress(raw, 1), float(a["scores"][i]), int(a["orders"][i]))
        if "id_lengths" in a:
            archive._ids = {k: i for i, k in enumerate(_split_keys(a["id_lengths"], a["id_items"]))}
            archive._seen = a["seen"].astype(np.int64)
            archive._visits = a["visits"].astype(np.int64)
        return archive


def _split_keys(lengths: np.ndarray, items: np.ndarray) -> list[Key]:
    ends = np.cumsum(lengths)
    return [_as_key(items[e - n:e].tolist()) for e, n in zip(ends, lengths)]


def _sort_key(k: Key):
    return (-len(k), sorted(k))


def plan_moves(rng: np.random.Generator, num_envs: int, fraction: float) -> np.ndarray:
    """Indices (sorted, distinct) of round(fraction * num_envs) envs to move to archived states."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    if num_envs < 0:
        raise ValueError(f"num_envs must be >= 0, got {num_envs}")
    count = int(round(fraction * num_envs))
    return np.sort(rng.choice(num_envs, size=count, replace=False)).astype(np.int64)
