"""Swarming (Go-Explore): keep a save state for each set of milestones reached, move envs to the best.

A key is a set of achievement indices: required-event indices, plus badges encoded by
`make_key` above `BADGE_BASE`. Key A is beaten by key B when A is a strict subset of B; the
frontier is the keys no other key beats. Envs are moved by loading a state sampled from the
frontier, so progress one env made is shared with the others.

States are PyBoy `save_state` bytes. The archive saves to plain numpy arrays (no pickle) so it
can sit in a checkpoint beside the model weights.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import numpy as np

__all__ = ["BADGE_BASE", "Key", "StateArchive", "make_key", "plan_moves"]

Key = frozenset  # frozenset[int]
# Badge i (bit i of wObtainedBadges) is achievement BADGE_BASE + i, far above any event index.
BADGE_BASE = 1 << 16


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


@dataclasses.dataclass
class _Entry:
    state: bytes
    score: float
    order: int  # when it was stored; older loses ties


class StateArchive:
    """Best save state per achievement set, bounded to `max_size` entries."""

    def __init__(self, max_size: int):
        if max_size < 1:
            raise ValueError(f"max_size must be at least 1, got {max_size}")
        self.max_size = int(max_size)
        self._entries: dict[Key, _Entry] = {}
        self._next_order = 0
        self._frontier: list[Key] | None = None  # cached; any change to the entries clears it

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key) -> bool:
        return _as_key(key) in self._entries

    def keys(self) -> list[Key]:
        return sorted(self._entries, key=_sort_key)

    def state(self, key) -> bytes:
        return self._entries[_as_key(key)].state

    def score(self, key) -> float:
        return self._entries[_as_key(key)].score

    def offer(self, key, state: bytes, score: float = 0.0) -> bool:
        """Keep `state` when `key` is new, or known with a lower score. True when it was kept."""
        key = _as_key(key)
        if not isinstance(state, (bytes, bytearray, memoryview)) or len(state) == 0:
            raise ValueError("state must be the non-empty bytes of a PyBoy save_state")
        old = self._entries.get(key)
        if old is not None and not score > old.score:
            return False
        self._entries[key] = _Entry(bytes(state), float(score), self._next_order)
        self._next_order += 1
        self._frontier = None
        if len(self._entries) > self.max_size:  # only a new key grows the archive
            loser = self._eviction_victim()
            del self._entries[loser]
            self._frontier = None
            return loser != key
        return True

    def frontier(self) -> list[Key]:
        """Keys no other key contains strictly, most achievements first."""
        if self._frontier is None:
            front = [k for k in self._entries if not any(k < o for o in self._entries)]
            self._frontier = sorted(front, key=_sort_key)
        return list(self._frontier)

    def best(self) -> Key | None:
        """The frontier key with the most achievements (then highest score)."""
        front = self.frontier()
        if not front:
            return None
        return max(front, key=lambda k: (len(k), self._entries[k].score, -self._entries[k].order))

    def sample(self, rng: np.random.Generator, n: int) -> list[bytes]:
        """`n` states drawn uniformly, with replacement, from the frontier's keys."""
        return [self._entries[k].state for k in self.sample_keys(rng, n)]

    def sample_keys(self, rng: np.random.Generator, n: int) -> list[Key]:
        front = self.frontier()
        if not front:
            raise ValueError("the archive is empty: offer() a state before sampling")
        return [front[i] for i in rng.integers(0, len(front), size=int(n))]

    def _eviction_victim(self) -> Key:
        # Dominated keys go first, then the fewest achievements, lowest score, oldest.
        front = set(self.frontier())
        return min(self._entries, key=lambda k: (k in front, len(k), self._entries[k].score, self._entries[k].order))

    # --- checkpoints: numpy arrays and bytes only -----------------------------------------------

    def to_arrays(self) -> dict[str, np.ndarray]:
        keys = sorted(self._entries, key=lambda k: self._entries[k].order)
        flat_keys = [i for k in keys for i in sorted(k)]
        states = [self._entries[k].state for k in keys]
        return {
            "max_size": np.array([self.max_size], np.int64),
            "next_order": np.array([self._next_order], np.int64),
            "key_lengths": np.array([len(k) for k in keys], np.int64),
            "key_items": np.array(flat_keys, np.int64),
            "scores": np.array([self._entries[k].score for k in keys], np.float64),
            "orders": np.array([self._entries[k].order for k in keys], np.int64),
            "state_lengths": np.array([len(s) for s in states], np.int64),
            "states": np.frombuffer(b"".join(states), np.uint8).copy(),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> StateArchive:
        missing = {"max_size", "next_order", "key_lengths", "key_items", "scores", "orders",
                   "state_lengths", "states"} - set(arrays)
        if missing:
            raise ValueError(f"archive arrays lack {sorted(missing)}; save them with StateArchive.to_arrays()")
        a = {name: np.asarray(v) for name, v in arrays.items()}
        n = len(a["key_lengths"])
        if not (len(a["scores"]) == len(a["orders"]) == len(a["state_lengths"]) == n
                and a["key_lengths"].sum() == len(a["key_items"]) and a["state_lengths"].sum() == len(a["states"])):
            raise ValueError("archive arrays have inconsistent lengths; the checkpoint is damaged")
        archive = cls(int(a["max_size"][0]))
        archive._next_order = int(a["next_order"][0])
        key_ends = np.cumsum(a["key_lengths"])
        state_ends = np.cumsum(a["state_lengths"])
        states = a["states"].astype(np.uint8, copy=False).tobytes()
        for i in range(n):
            k0 = key_ends[i] - a["key_lengths"][i]
            s0 = state_ends[i] - a["state_lengths"][i]
            key = _as_key(a["key_items"][k0:key_ends[i]].tolist())
            archive._entries[key] = _Entry(states[s0:state_ends[i]], float(a["scores"][i]), int(a["orders"][i]))
        return archive


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
