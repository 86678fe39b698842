"""Milestones: which required events and badges an env holds, when each episode reached each, and when the run did.

A milestone is a required event (``constants.REQUIRED_EVENTS``, in that order), a badge (``BADGE_<NAME>``, in
wObtainedBadges bit order) or ``GAME_BEATEN``: the player in the Hall of Fame with the champion beaten (ram.h
game_beaten), which ends the episode as terminated. ``milestones_held`` reads them from WRAM images; ``Progress`` keeps, per env, the
step of the current episode at which each was first reached and, for the run, the vector step at which any env
first reached it. The vector env asks it which envs progressed each step (their required-event or badge count
changed) and offers those envs' states to the swarming archive; the logger summarises ended episodes' ``earned``
rows (held at the start is not reached) with ``steps_by_milestone``; the trainer prints and logs the run's firsts
once with ``Progress.take_new_firsts`` (milestones an env started its episode with are never a first).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pokerl_fast.env.swarm import Key, make_key
from pokerl_fast.game import constants as C

BADGE_NAMES = ("BOULDER", "CASCADE", "THUNDER", "RAINBOW", "SOUL", "MARSH", "VOLCANO", "EARTH")
GAME_BEATEN = "GAME_BEATEN"
MILESTONE_NAMES: tuple[str, ...] = (*C.REQUIRED_EVENTS, *(f"BADGE_{b}" for b in BADGE_NAMES), GAME_BEATEN)
"""What counts as progress: every required event, then every badge (wObtainedBadges bit order), then the game's end."""
NUM_REQUIRED = len(C.REQUIRED_EVENTS)
NUM_BADGES = len(BADGE_NAMES)
GAME_BEATEN_COLUMN = MILESTONE_NAMES.index(GAME_BEATEN)

# Where each required event's bit sits in a WRAM image (offset from WRAM_BASE) and its mask, in REQUIRED_EVENTS order.
REQUIRED_OFFSETS = np.array([C.EVENT_FLAGS_BY_NAME[n][0] - C.WRAM_BASE for n in C.REQUIRED_EVENTS], np.int64)
REQUIRED_MASKS = np.array([1 << C.EVENT_FLAGS_BY_NAME[n][1] for n in C.REQUIRED_EVENTS], np.uint8)
BADGES_OFFSET = C.OBTAINED_BADGES - C.WRAM_BASE
_BADGE_BITS = np.arange(8, dtype=np.uint8)
_MAP_OFFSET = C.CUR_MAP - C.WRAM_BASE
_CHAMPION_OFFSET = C.EVENT_BEAT_CHAMPION_RIVAL_ADDR - C.WRAM_BASE
_CHAMPION_MASK = 1 << C.EVENT_BEAT_CHAMPION_RIVAL_BIT


def milestones_held(wram: np.ndarray) -> np.ndarray:
    """Bool ``(..., len(MILESTONE_NAMES))``: the milestones set in each WRAM image of ``wram`` (``(..., WRAM_SIZE)``)."""
    wram = np.asarray(wram, np.uint8)
    events = (wram[..., REQUIRED_OFFSETS] & REQUIRED_MASKS) != 0
    badges = (wram[..., BADGES_OFFSET, None] >> _BADGE_BITS) & 1 != 0
    beaten = (wram[..., _MAP_OFFSET, None] == C.MAP_HALL_OF_FAME) & ((wram[..., _CHAMPION_OFFSET, None] & _CHAMPION_MASK) != 0)
    return np.concatenate([events, badges, beaten], axis=-1)


def archive_key(held: np.ndarray) -> Key:
    """The swarming archive's key for one env's held milestones (a row of ``milestones_held``)."""
    badges = int(np.packbits(held[NUM_REQUIRED:NUM_REQUIRED + NUM_BADGES], bitorder="little")[0])
    return make_key(np.flatnonzero(held[:NUM_REQUIRED]).tolist(), badges)


def steps_by_milestone(rows: np.ndarray, names: tuple[str, ...] = MILESTONE_NAMES) -> list[tuple[str, np.ndarray]]:
    """Ended episodes' milestone rows (``(episodes, len(names))``, -1: not reached) as (name, the steps of the
    episodes that reached it), for each milestone some episode reached, in ``names`` order."""
    rows = np.asarray(rows)
    reached = rows >= 0
    return [(names[k], rows[reached[:, k], k]) for k in np.flatnonzero(reached.any(axis=0))]


def earned(rows: np.ndarray) -> np.ndarray:
    """Milestone rows (``Progress.episode_steps`` or ended episodes' ``milestone_steps``) with the milestones held
    at the episode's start (step 0) blanked to -1: what the episode itself reached."""
    rows = np.asarray(rows)
    return np.where(rows > 0, rows, -1)


class Progress:
    """Milestone bookkeeping for ``num_envs`` envs: per-episode steps, the run's first steps, who progressed.

    The counts passed in (``required``, ``badges``) are the vector env's per-env info arrays of the same names:
    comparing them with the last noted counts is how a step's progress is spotted without reading every WRAM.
    """

    names = MILESTONE_NAMES

    def __init__(self, num_envs: int):
        self.episode_steps = np.full((num_envs, len(MILESTONE_NAMES)), -1, np.int64)
        """Per env, per milestone (MILESTONE_NAMES order): the step of the current episode at which it was first
        reached; 0 if held when the episode started, -1 if not reached. A milestone reached during the episode is
        dated by the step that reached it, 1 or more (``record`` sees the step count after the step), so > 0 is
        "earned in this episode" and 0 is "held at the start" (``earned``)."""
        self.first_step: dict[str, int] = {}
        """Milestone name -> the vector step at which any env first reached it (in the order reached)."""
        self.first_env: list[tuple[str, int]] = []
        """(milestone, env) of each first reached since the vector env last took them (milestone clips)."""
        self.first_frames: dict[str, int] = {}
        """Milestone name -> frames all envs had emulated when it was first reached (adaptive steps vary a
        step's frames, so mechanisms are compared in frames too)."""
        self._prev_required = np.zeros(num_envs, np.int32)
        self._prev_badges = np.zeros(num_envs, np.int32)
        self._taken: set[str] = set()

    def note(self, ids, required: np.ndarray, badges: np.ndarray) -> None:
        """Remember envs ``ids``' required-event and badge counts, to spot the next change."""
        self._prev_required[ids] = required[ids]
        self._prev_badges[ids] = badges[ids]

    def start_episodes(self, ids, held: np.ndarray, required: np.ndarray, badges: np.ndarray) -> None:
        """Envs ``ids`` began an episode holding ``held`` (one row each): those milestones count as step 0."""
        self.episode_steps[ids] = np.where(held, 0, -1)
        self.note(ids, required, badges)

    def progressed(self, required: np.ndarray, badges: np.ndarray) -> np.ndarray:
        """Indices of the envs whose required-event or badge count changed since it was last noted."""
        return np.flatnonzero((required != self._prev_required) | (badges != self._prev_badges))

    def record(self, ids, held: np.ndarray, elapsed: np.ndarray, step: int,
               required: np.ndarray, badges: np.ndarray, frames: int = 0) -> None:
        """Envs ``ids`` (which progressed) hold ``held`` after ``elapsed[ids]`` steps of their episode, at vector
        step ``step`` (``frames`` emulated by all envs so far): date the milestones new to their episode and to
        the run, and note their counts."""
        ids = np.asarray(ids, np.int64)
        rows = self.episode_steps[ids]
        new = (rows < 0) & held  # held at the episode's start (0) is not reached now, nor by the run
        self.episode_steps[ids] = np.where(new, elapsed[ids, None], rows)
        for env, row in zip(ids, new):  # env by env, so the run's firsts keep the order a per-env scan finds them in
            for k in np.flatnonzero(row):
                if MILESTONE_NAMES[k] not in self.first_step:
                    self.first_step[MILESTONE_NAMES[k]] = step
                    self.first_frames[MILESTONE_NAMES[k]] = frames
                    self.first_env.append((MILESTONE_NAMES[k], int(env)))
        self.note(ids, required, badges)

    def take_new_firsts(self) -> list[tuple[str, int]]:
        """(name, vector step) of the run's firsts not taken before (restored ones count as taken), in order."""
        new = [(name, step) for name, step in self.first_step.items() if name not in self._taken]
        self._taken.update(name for name, _ in new)
        return new

    # -- checkpoints: the keys and formats VecEnv.get_state always used ---------------------------

    def get_state(self, total_steps: int, total_frames: int = 0) -> dict[str, Any]:
        """The tracker's part of the vector env's state; ``total_steps`` (the env's vector step) and
        ``total_frames`` (frames all envs emulated) ride along under "progress"."""
        return {
            "progress": {"prev_required": self._prev_required.copy(), "prev_badges": self._prev_badges.copy(),
                         "total_steps": np.array([total_steps], np.int64),
                         "total_frames": np.array([total_frames], np.int64)},
            "milestones": dict(self.first_step),
            "milestone_frames": dict(self.first_frames),
            "episode_milestones": self.episode_steps.copy(),
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore from a vector env state (``state["progress"]["total_steps"]`` is the env's to read)."""
        self._prev_required[:] = state["progress"]["prev_required"]
        self._prev_badges[:] = state["progress"]["prev_badges"]
        self.first_step = dict(state["milestones"])
        self.first_frames = dict(state.get("milestone_frames", {}))
        self._taken = set(self.first_step)
        if "episode_milestones" in state:  # states saved before per-env milestones existed leave them unknown (-1)
            rows = np.asarray(state["episode_milestones"])
            self.episode_steps[:] = -1  # milestones added since the state was saved (GAME_BEATEN): not reached
            self.episode_steps[:, :rows.shape[1]] = rows

