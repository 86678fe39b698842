"""The batched PyBoy environment: one native call per vector step.

``VecEnv.step(actions)`` does two things:

1. one native call (``_core.Batch.step``, GIL released) in which every env, on one of the OpenMP
   threads, presses its button, ticks its emulator ``frames_per_step`` frames, runs the scripted
   helpers, then decodes its RAM, updates exploration, computes the reward table and writes its
   observations into buffers allocated once;
2. envs whose episode ended are reset to the start state (a Python loop over the few that
   ended, not over all envs), and milestones, the stuck detector and swarming are handled.

The stuck detector (``EnvConfig.stuck_steps``) counts, per env, the steps since the env last found a new tile
(info "explore" rose) or set a new event flag (info "events" rose). A step in a text box, a menu or a battle
(info "scene", from Red's RAM: wFontLoaded, wIsInBattle) that changed what the scene shows (info "scene_changed":
text advanced, a cursor moved, HP changed) does not count: Red spends hundreds of steps in speeches and battles
between two events. ``info["stuck"]`` marks the envs at or past ``stuck_steps``; with ``stuck_ends_episode`` the
stuck envs in free play (never in a speech, menu or battle) are truncated and reset like at episode_length.

``PokerlEnv`` is the same machinery as a single Gymnasium ``Env`` (a batch of one).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv

from pokerl_fast._native import _core
from pokerl_fast.config import EnvConfig
from pokerl_fast.game.constants import KANTO_HEIGHT, KANTO_WIDTH, MAPS
from pokerl_fast.game.emulator import SOUND_EMULATED, new_pyboy
from pokerl_fast.game.rom import RomInfo, resolve_rom
from pokerl_fast.game.savestate import read_state_file
from pokerl_fast.env.emulator import Emulator
from pokerl_fast.env.progress import GAME_BEATEN_COLUMN, MILESTONE_NAMES, Progress, archive_key, milestones_held
from pokerl_fast.env.swarm import StateArchive, plan_moves

SCENE_FREE = _core.SCENE_FREE
TERM_NAMES: tuple[str, ...] = tuple(_core.TERM_NAMES)
INFO_KEYS: tuple[str, ...] = tuple(_core.INFO_NAMES)


def load_start_state(config: EnvConfig, rom: RomInfo) -> bytes:
    """The state every episode starts from: a file, or made at run time from the ROM."""
    if config.start_state is not None:  # the user's file, checked against the ROM (StartStateError if wrong)
        return read_state_file(config.start_state, rom)
    if config.start_save is not None:  # the user's battery save, continued by script (cached)
        from pokerl_fast.game.sav import start_state_from_sav

        return start_state_from_sav(config.start_save, rom.path)
    from pokerl_fast.game.red import start_state  # the test world: boot to ready; Red: the scripted intro (cached)

    return start_state(rom.path)


TRAIL_SAMPLES = 256
"""Positions kept per env for the painted map's trails: one every step, the last 256 steps (oldest first)."""
_GLOBAL_X = np.full(256, -(1 << 20), np.int32)  # map id -> global x of its top-left step (very negative: none)
_GLOBAL_Y = np.full(256, -(1 << 20), np.int32)
for _m in MAPS:
    if _m[2] >= 0 and _m[3] >= 0:
        _GLOBAL_X[_m[0]], _GLOBAL_Y[_m[0]] = _m[2], _m[3]


_MAP_SIZE = {m[0]: (m[4], m[5]) for m in MAPS}


def map_rect(map_id: int) -> tuple[int, int, int, int]:
    """The global steps (x0, y0, x1, y1) of map ``map_id`` (all zero for a map with no place)."""
    if _GLOBAL_X[map_id] < 0:
        return (0, 0, 0, 0)
    x0, y0 = int(_GLOBAL_X[map_id]), int(_GLOBAL_Y[map_id])
    w, h = _MAP_SIZE[map_id]
    return (x0, y0, x0 + w, y0 + h)


def _pack4(shades: np.ndarray) -> np.ndarray:
    """Shades (0..3) four to a byte, flat (a quarter of the size)."""
    c = np.asarray(shades, np.uint8).reshape(-1, 4)
    return (c[:, 0] << 6 | c[:, 1] << 4 | c[:, 2] << 2 | c[:, 3]).astype(np.uint8)


def _unpack4(packed: np.ndarray) -> np.ndarray:
    p = np.asarray(packed, np.uint8)
    return np.stack([(p >> 6) & 3, (p >> 4) & 3, (p >> 2) & 3, p & 3], axis=-1).reshape(-1)


def _canvas_steps(canvas: np.ndarray, cell: int) -> np.ndarray:
    """(KANTO_HEIGHT, KANTO_WIDTH, cell, cell) view of a canvas: one square of pixels per global step."""
    return canvas.reshape(KANTO_HEIGHT, cell, KANTO_WIDTH, cell).swapaxes(1, 2)


def canvas_state(canvas: np.ndarray, painted: np.ndarray) -> dict[str, np.ndarray]:
    """What a checkpoint keeps of the painted map: the painted steps' bits and only their pixels (row-major step
    order, shades four to a byte): a few KiB for a town, not the whole 50 MB canvas."""
    return {"steps": _pack4(_canvas_steps(canvas, _core.CANVAS_CELL)[painted > 0]), "painted": np.packbits(painted)}


def restore_canvas(canvas: np.ndarray, painted: np.ndarray, saved: dict[str, np.ndarray]) -> None:
    """canvas_state's inverse, in place. A state from before the full-resolution canvas ("shades": the whole canvas
    at 8 pixels a step) is scaled up 2x, nearest neighbour."""
    cell = _core.CANVAS_CELL
    view = _canvas_steps(canvas, cell)
    view[painted > 0] = 0
    painted[:] = np.unpackbits(saved["painted"])[:painted.size].reshape(painted.shape)
    mask = painted > 0
    if "steps" in saved:
        view[mask] = _unpack4(saved["steps"]).reshape(-1, cell, cell)
    else:
        old = cell // 2
        half = _unpack4(saved["shades"]).reshape(KANTO_HEIGHT * old, KANTO_WIDTH * old)
        view[mask] = _canvas_steps(half, old)[mask].repeat(2, axis=1).repeat(2, axis=2)


def observation_space(config: EnvConfig) -> gym.spaces.Dict:
    """One env's observation: what the config observes, shaped by the native core (no emulator needed)."""
    return gym.spaces.Dict({
        "screen": gym.spaces.Box(0, 255, _core.OBS_SCREEN_SHAPE, np.uint8),
        "visited": gym.spaces.Box(0, 255, _core.OBS_VISITED_SHAPE, np.uint8),
        "ram": gym.spaces.Box(0.0, 10.0, (_core.NUM_RAM_FEATURES,), np.float32),  # see RAM_FEATURE_NAMES
        "map_id": gym.spaces.Box(0, 255, (1,), np.uint8),
        **({"progress": gym.spaces.Box(0.0, 1.0, (_core.NUM_PROGRESS_FEATURES,), np.float32)}
           if config.observe_progress else {}),
    })


def helper_flags(config: EnvConfig) -> int:
    """The config's scripted helpers as the core's bit flags."""
    return ((_core.HELPER_AUTO_DIALOG if config.auto_dialog else 0)
            | (_core.HELPER_INFINITE_MONEY if config.infinite_money else 0)
            | (_core.HELPER_AUTO_FLASH if config.auto_flash else 0)
            | (_core.HELPER_AUTO_HM if config.auto_hm else 0))


def action_masks(actions: tuple[str, ...]) -> np.ndarray:
    """(num_actions, 2) joypad masks (directional, standard) for the bridge."""
    masks = np.zeros((len(actions), 2), dtype=np.uint8)
    for i, name in enumerate(actions):
        if name != "noop":
            masks[i] = _core.BUTTONS[name]
    return masks


class VecEnv(VectorEnv):
    """``num_envs`` Pokemon Red (or test world) emulators stepped as one batch.

    Observations, rewards and info arrays are preallocated ``(num_envs, ...)`` numpy buffers
    written in place every step: copy what you keep. Episodes end by truncation after
    ``episode_length`` steps and reset in the same step (``AutoresetMode.SAME_STEP``): the
    returned observation of an ended env is already its reset observation.
    """

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": ["rgb_array"]}

    def __init__(self, num_envs: int, config: EnvConfig | None = None, start_state: bytes | None = None):
        self.config = config = config or EnvConfig()
        config.validate()
        if num_envs < 1:
            raise ValueError(f"num_envs must be >= 1 (got {num_envs})")
        self.num_envs = num_envs
        self.rom = resolve_rom(config.rom)
        self.rom_sha1 = self.rom.sha1
        self.start_state = start_state if start_state is not None else load_start_state(config, self.rom)
        self.start_state_sha1 = hashlib.sha1(self.start_state).hexdigest()
        self.reward_terms = TERM_NAMES
        self.render_mode = "rgb_array"

        self.single_action_space = gym.spaces.Discrete(len(config.actions))
        self.action_space = gym.spaces.MultiDiscrete(np.full(num_envs, len(config.actions)))
        self.single_observation_space = observation_space(config)
        self.observation_space = gym.vector.utils.batch_space(self.single_observation_space, num_envs)

        self._pyboys = []
        self._emus = []
        try:
            for _ in range(num_envs):
                pb = new_pyboy(self.rom.path)
                self._pyboys.append(pb)
                self._emus.append(Emulator(pb, native_screen=config.screen_source == "native"))
        except BaseException:
            self.close()
            raise

        n = num_envs
        buffers = _core.allocate_buffers(n)  # every output array, allocated once, written in place
        self._obs = {k: buffers[k] for k in ("screen", "visited", "ram")}
        self._obs["map_id"] = buffers["map_id"].reshape(n, 1)
        if config.observe_progress:
            self._obs["progress"] = buffers["progress"]
        self._rewards = buffers["reward"]
        self._term_sums = buffers["term_sums"]
        self._info_arrays = {k: buffers["info_" + k] for k in INFO_KEYS}
        self._terminated = np.zeros(n, bool)
        self._truncated = np.zeros(n, bool)
        self._actions = np.zeros(n, np.int64)
        self._frames = buffers["frames"]
        self._elapsed = np.zeros(n, np.int64)
        self._returns = np.zeros(n, np.float64)
        self._episode_count = np.zeros(n, np.int64)
        # The stuck detector: steps since each env's last new tile or event, and the counts that step saw.
        self._since_new = np.zeros(n, np.int64)
        self._seen_explore = np.zeros(n, np.int32)
        self._seen_events = np.zeros(n, np.int32)
        self._stuck = np.zeros(n, bool)
        self._batch = _core.Batch(
            [e.driver for e in self._emus], action_masks(config.actions),
            np.asarray(config.reward.weights(TERM_NAMES), np.float32), buffers,
            hold=config.button_hold_frames, min_frames=config.min_frames_per_step,
            max_frames=config.frames_per_step, adaptive=config.adaptive_steps, helpers=helper_flags(config),
            num_threads=config.threads_for(n),
        )
        self._batch.set_mechanics(config.explore_boost, config.observe_progress, config.revisit_half_life,
                                  config.reward.levels_cap)
        self._rngs = [np.random.default_rng(config.seed + i) for i in range(n)]
        self._wram = [np.asarray(e.wram_view()) for e in self._emus]
        # Progress: the milestones reached (per episode and for the run), and the archive swarming draws from.
        self.progress = Progress(n)
        self._counts = (self._info_arrays["required_events"], self._info_arrays["badges"])  # a change marks progress
        self.archive = StateArchive(config.swarm_archive_size)
        self._swarm_rng = np.random.default_rng([config.seed, 0x5EED])
        self._archiving = bool(config.swarm_interval or config.reset_to_archive)
        # Archive cells (swarm_cell_size): each env's milestone set, as a key and as the archive's id for it.
        self._env_keys = [frozenset()] * n
        self._key_ids = np.zeros(n, np.int64)
        self.total_steps = 0
        self.total_frames = 0
        """frames all envs emulated in their steps so far (a step ticks frames_per_step, fewer with adaptive steps)"""
        # The map painted from observation (paint_interval): shades per canvas pixel, steps painted, trails.
        self.canvas = np.zeros(_core.CANVAS_SHAPE, np.uint8) if config.paint_interval else None
        self.painted = np.zeros((KANTO_HEIGHT, KANTO_WIDTH), np.uint8) if config.paint_interval else None
        self._trail_ring = np.full((n, TRAIL_SAMPLES, 2), -1, np.int32) if config.paint_interval else None
        self._trail_head = 0  # the ring's next slot: each step writes one column, nothing is shifted
        # Milestone clips (clip_steps): each env's last screens, a ring written every step.
        self._clip_ring = np.zeros((n, config.clip_steps, *self._obs["screen"].shape[1:]), np.uint8) \
            if config.clip_steps else None
        self._clips: list[tuple[str, int, int, np.ndarray]] = []
        self._info_base = None
        self._needs_reset = True

    # -- episode control -------------------------------------------------------------------

    def _reset_envs(self, ids, states: list[bytes] | None = None) -> None:
        """Start a new episode in envs ``ids``: load the start state (with reset_to_archive, sometimes a
        frontier state) and idle the env's random no-op frames, or load ``states`` as they are; then
        re-base their scores on the loaded RAM."""
        ids = np.asarray(ids, np.int64)
        idle = np.zeros(len(ids), np.int64)  # swarming moves are bit-exact: no frame ticked (native screen)
        for k, i in enumerate(ids):
            if states is not None:
                self._emus[i].load_state(states[k])
            else:
                state = self.start_state
                if (self.config.reset_to_archive and len(self.archive)
                        and self._rngs[i].random() < self.config.reset_to_archive):
                    state = self.archive.sample(self._swarm_rng, 1)[0]
                self._emus[i].load_state(state)
                idle[k] = self._rngs[i].integers(0, self.config.reset_noop_max + 1)
        self._elapsed[ids] = 0
        self._returns[ids] = 0.0
        self._batch.reset(ids, idle)
        held = self._milestones_held(ids)
        self.progress.start_episodes(ids, held, *self._counts)
        self._note_keys(ids, held)
        self._since_new[ids] = 0
        self._seen_explore[ids] = self._info_arrays["explore"][ids]
        self._seen_events[ids] = self._info_arrays["events"][ids]
        self._stuck[ids] = False

    def reset(self, *, seed: int | list[int] | None = None, options: dict | None = None):
        if seed is not None:
            seeds = seed if isinstance(seed, (list, tuple)) else [seed + i for i in range(self.num_envs)]
            self._rngs = [np.random.default_rng(s) for s in seeds]
        self._reset_envs(range(self.num_envs))
        self._needs_reset = False
        return self._obs, self._info(ended=None)

    def helper_counts(self) -> dict[str, int]:
        """Totals over all envs since construction of what the scripted helpers did (read between updates)."""
        return self._batch.helper_counts()

    def step(self, actions):
        if self._needs_reset:
            raise RuntimeError("call reset() before step()")
        np.copyto(self._actions, np.asarray(actions).reshape(self.num_envs), casting="unsafe")
        cfg = self.config
        self._batch.step(self._actions)
        self.total_steps += 1
        self.total_frames += int(self._frames.sum())
        if cfg.paint_interval:
            self._follow_trails()
            if self.total_steps % cfg.paint_interval == 0:
                self._paint()
        if cfg.clip_steps:
            self._clip_ring[:, self.total_steps % cfg.clip_steps] = self._obs["screen"]
        self._elapsed += 1
        self._returns += self._rewards
        np.greater_equal(self._elapsed, cfg.episode_length, out=self._truncated)
        self._end_beaten_games()
        if cfg.stuck_steps:
            self._detect_stuck()
        progressed = self.progress.progressed(*self._counts)
        if self._terminated.any():  # the game's end is progress too: date GAME_BEATEN before the reset
            progressed = np.union1d(progressed, np.flatnonzero(self._terminated))
        if len(progressed):
            self._record_progress(progressed)
            if cfg.explore_reset_on_progress:
                self._batch.reset_exploration(progressed)
        if cfg.swarm_cell_size and self._archiving:
            self._archive_new_cells()
        if cfg.swarm_interval and self.total_steps % cfg.swarm_interval == 0 and len(self.archive):
            moved = plan_moves(self._swarm_rng, self.num_envs, cfg.swarm_fraction)
            self._truncated[moved] = True  # a move ends the env's episode
            self._swarm_to = moved
        else:
            self._swarm_to = None
        if cfg.explore_reset_interval:  # long episodes: forget the visited tiles on a schedule
            due = np.flatnonzero((self._elapsed % cfg.explore_reset_interval == 0) & ~self._truncated
                                 & ~self._terminated)
            if len(due):
                self._batch.reset_exploration(due)
        ended = np.flatnonzero(self._truncated | self._terminated)
        info = self._info(ended if len(ended) else None)
        if len(ended):
            self._episode_count[ended] += 1
            moved = self._swarm_to if self._swarm_to is not None else np.empty(0, np.int64)
            self._reset_envs(np.setdiff1d(ended, moved))
            if len(moved):
                self._reset_envs(moved, self.archive.sample(self._swarm_rng, len(moved)))
        return self._obs, self._rewards, self._terminated, self._truncated, info

    # -- the map painted from observation ------------------------------------------------------

    def _paint(self) -> None:
        """One env in turn paints its background layer, full resolution (csrc/canvas.h)."""
        k = self.total_steps // self.config.paint_interval
        i = k % self.num_envs
        emu = self._emus[i]
        m = int(self._info_arrays["map"][i])
        _core.paint_view(emu.vram_view(), emu.oam_view(), emu.lcd_registers(), self._wram[i], map_rect(m),
                         self.canvas, self.painted)

    def _follow_trails(self) -> None:
        """Every env's global position joins its trail, every step: drawn tile by tile, a line never jumps walls
        (a warp or a map without a global place breaks it)."""
        info = self._info_arrays
        gx = _GLOBAL_X[info["map"]] + info["x"]
        gy = _GLOBAL_Y[info["map"]] + info["y"]
        ok = (_GLOBAL_X[info["map"]] >= 0) & (gx < KANTO_WIDTH) & (gy < KANTO_HEIGHT)
        slot = self._trail_ring[:, self._trail_head]
        slot[:, 0] = np.where(ok, gx, -1)
        slot[:, 1] = np.where(ok, gy, -1)
        self._trail_head = (self._trail_head + 1) % TRAIL_SAMPLES

    @property
    def trails(self) -> np.ndarray | None:
        """(num_envs, TRAIL_SAMPLES, 2) each env's last global steps, oldest first (-1: none), a copy; None when
        the map is not painted."""
        if self._trail_ring is None:
            return None
        return np.roll(self._trail_ring, -self._trail_head, axis=1)

    def take_clips(self) -> list[tuple[str, int, int, np.ndarray]]:
        """The milestone clips made since the last call: (milestone, env, vector step, (steps, OBS_H,
        OBS_PACKED_W) packed screens, oldest first) for the first time any env reached each milestone."""
        clips, self._clips = self._clips, []
        return clips

    # -- progress: milestones, the stuck detector and swarming ---------------------------------

    def _end_beaten_games(self) -> None:
        """Terminate the episodes that beat the game this step: the player in the Hall of Fame with the champion
        beaten (info game_beaten; Red then rolls the credits and starts a new game). An episode that started
        there (a start state in the Hall of Fame) plays on: it did not beat the game."""
        np.logical_and(self._info_arrays["game_beaten"] != 0,
                       self.progress.episode_steps[:, GAME_BEATEN_COLUMN] != 0, out=self._terminated)

    def _detect_stuck(self) -> None:
        """Count the steps since each env's last new tile or event, leaving out the steps in a text box, menu or
        battle that changed what it shows; mark the stuck and, if asked, truncate those in free play."""
        info = self._info_arrays
        explore, events, scene = info["explore"], info["events"], info["scene"]
        found = (explore > self._seen_explore) | (events > self._seen_events)
        self._since_new += ~((scene != SCENE_FREE) & (info["scene_changed"] != 0))  # 1, or 0 for a busy step
        self._since_new[found] = 0
        np.copyto(self._seen_explore, explore)
        np.copyto(self._seen_events, events)
        np.greater_equal(self._since_new, self.config.stuck_steps, out=self._stuck)
        if self.config.stuck_ends_episode:  # never inside a speech, a menu or a battle
            self._truncated |= self._stuck & (scene == SCENE_FREE)

    def milestones_reached(self, i: int) -> np.ndarray:
        """Bool (len(MILESTONE_NAMES),): the required events set and badges owned by env i."""
        return milestones_held(self._wram[i])

    def _milestones_held(self, ids) -> np.ndarray:
        """Bool (len(ids), len(MILESTONE_NAMES)): the milestones envs ``ids`` hold now."""
        if len(ids) == 0:
            return np.zeros((0, len(MILESTONE_NAMES)), bool)
        return milestones_held(np.stack([self._wram[i] for i in ids]))

    def _record_progress(self, ids) -> None:
        """Envs whose required events or badges changed this step: date their milestones, offer their states."""
        held = self._milestones_held(ids)
        self.progress.record(ids, held, self._elapsed, self.total_steps, *self._counts, frames=self.total_frames)
        for name, env in self.progress.first_env:
            if self._clip_ring is not None:  # the env's last clip_steps screens, oldest first
                order = (np.arange(1, self.config.clip_steps + 1) + self.total_steps) % self.config.clip_steps
                filled = min(self.total_steps, self.config.clip_steps)
                self._clips.append((name, env, self.total_steps, self._clip_ring[env, order[-filled:]].copy()))
        self.progress.first_env.clear()
        self._note_keys(ids, held)
        if self._archiving and not self.config.swarm_cell_size:  # with cells, _archive_new_cells offers the state
            for i, row in zip(ids, held):
                key = archive_key(row)
                if key and not row[GAME_BEATEN_COLUMN]:  # the Hall of Fame is no place to go back to  # among states with the same milestones, prefer the one that got there in fewer steps
                    self.archive.offer(key, self._emus[i].save_state(), score=-float(self._elapsed[i]))

    def _note_keys(self, ids, held: np.ndarray) -> None:
        """Envs ``ids`` now hold milestones ``held`` (one row each): their archive keys, for the cells."""
        if not self.config.swarm_cell_size:
            return
        for i, row in zip(ids, held):
            self._env_keys[i] = key = archive_key(row)
            self._key_ids[i] = self.archive.key_id(key)

    def cells(self) -> np.ndarray:
        """Each env's archive cell now: its map and the swarm_cell_size block of steps it stands in."""
        size, info = max(self.config.swarm_cell_size, 1), self._info_arrays
        return (info["map"].astype(np.int64) << 16) | (info["x"] // size) << 8 | info["y"] // size

    def _archive_new_cells(self) -> None:
        """Count a visit to every env's cell; an env in a cell never seen with its milestones offers its state
        (unless a larger milestone set makes it useless), the first to get there is kept."""
        cells = self.cells()
        new = np.flatnonzero(self.archive.observe(self._key_ids, cells))
        if not len(new):
            return
        beaten = self._info_arrays["game_beaten"]
        for i in new[beaten[new] == 0]:  # the Hall of Fame (the credits, then a new game) is no place to go back to
            key = self._env_keys[i]
            if not self.archive.dominated(key):
                self.archive.offer(key, self._emus[i].save_state(), score=-float(self._elapsed[i]), cell=int(cells[i]))
        self.archive.mark_seen(self._key_ids[new], cells[new])

    def _info(self, ended) -> dict[str, Any]:
        """The step's info. Without episode ends it is the same dict of live arrays every step (no
        allocation on the hot path); with ends, a copy that adds the episode's results."""
        base = self._info_base
        if base is None:
            base = dict(self._info_arrays)
            for k, name in enumerate(TERM_NAMES):
                base[f"reward/{name}"] = self._term_sums[:, k]
            base["frames"] = self._frames
            base["stuck"] = self._stuck
            self._info_base = base
        if ended is None:
            return base
        info = dict(base)
        mask = np.zeros(self.num_envs, bool)
        mask[ended] = True
        info["_episode"] = mask
        info["episode_return"] = np.where(mask, self._returns, 0.0)
        info["episode_length"] = np.where(mask, self._elapsed, 0)
        # The ended episodes' last values (info arrays and reward-term sums), before the reset rewrites them.
        info["final"] = {k: v.copy() for k, v in base.items()}
        info["final"]["milestone_steps"] = self.episode_milestones.copy()
        return info

    # -- state for checkpoints and swarming -----------------------------------------------

    def save_states(self) -> list[bytes]:
        """Each emulator's full state."""
        return [e.save_state() for e in self._emus]

    def load_states(self, states: list[bytes], ids=None) -> None:
        """Load emulator states into envs ``ids`` (default all) without re-basing rewards."""
        ids = range(self.num_envs) if ids is None else ids
        for i, s in zip(ids, states):
            self._emus[i].load_state(s)

    def get_state(self) -> dict[str, Any]:
        """Everything needed to continue exactly: emulator states, exploration, episode counters, RNGs."""
        return {
            "emulator_states": self.save_states(),
            "start_state": self.start_state,
            "kernels": self._batch.get_state(),
            "episode": {"elapsed": self._elapsed.copy(), "returns": self._returns.copy(),
                        "episode_count": self._episode_count.copy(), "frames": self._frames.copy()},
            "stuck": {"since_new": self._since_new.copy(), "explore": self._seen_explore.copy(),
                      "events": self._seen_events.copy(), "stuck": self._stuck.copy()},
            "rng": [r.bit_generator.state for r in self._rngs],
            "swarm_rng": self._swarm_rng.bit_generator.state,
            "archive": self.archive.to_arrays(),
            **self.progress.get_state(self.total_steps, self.total_frames),  # "progress", "milestones", ...
            "rom_sha1": self.rom_sha1,
            "sound_emulated": SOUND_EMULATED,
            **({"canvas": {**canvas_state(self.canvas, self.painted), "trails": self.trails}}
               if self.canvas is not None else {}),
        }

    def set_state(self, state: dict[str, Any]) -> None:
        if state["rom_sha1"] != self.rom_sha1:
            raise ValueError(
                f"state was made with ROM {state['rom_sha1'][:12]}…, this env runs {self.rom_sha1[:12]}…; use the same ROM")
        if state.get("sound_emulated", SOUND_EMULATED) != SOUND_EMULATED:
            raise ValueError(f"state was made with sound_emulated={state['sound_emulated']}; this env runs with "
                             f"{SOUND_EMULATED} and the two drift apart: start from a state made with sound off")
        if len(state["emulator_states"]) != self.num_envs:
            raise ValueError(f"state holds {len(state['emulator_states'])} envs, this env has {self.num_envs}")
        self.start_state = state["start_state"]
        self.load_states(state["emulator_states"])
        self._batch.set_state(state["kernels"])
        ep = state["episode"]
        self._elapsed[:] = ep["elapsed"]
        self._returns[:] = ep["returns"]
        self._episode_count[:] = ep["episode_count"]
        self._frames[:] = ep["frames"]
        if "stuck" in state:
            st = state["stuck"]
            self._since_new[:], self._stuck[:] = st["since_new"], st["stuck"]
            self._seen_explore[:], self._seen_events[:] = st["explore"], st["events"]
        else:  # a state from before the stuck detector: every env starts counting now
            self._since_new[:], self._stuck[:] = 0, False
            self._seen_explore[:] = self._info_arrays["explore"]
            self._seen_events[:] = self._info_arrays["events"]
        for r, s in zip(self._rngs, state["rng"]):
            r.bit_generator.state = s
        self._swarm_rng.bit_generator.state = state["swarm_rng"]
        self.archive = StateArchive.from_arrays(state["archive"])
        self._note_keys(range(self.num_envs), self._milestones_held(range(self.num_envs)))
        self.progress.set_state(state)
        self.total_steps = int(state["progress"]["total_steps"][0])
        self.total_frames = int(state["progress"].get("total_frames", [0])[0])  # 0 in states from before it
        if self.canvas is not None and "canvas" in state:
            restore_canvas(self.canvas, self.painted, state["canvas"])
            if state["canvas"]["trails"].shape == self._trail_ring.shape:
                self._trail_ring[:] = state["canvas"]["trails"]
                self._trail_head = 0
        self._needs_reset = False

    # -- the rest of the gymnasium API -------------------------------------------------------

    @property
    def milestones(self) -> dict[str, int]:
        """Milestone name (a required event or BADGE_<NAME>) -> the vector step at which any env first reached it."""
        return self.progress.first_step

    @property
    def episode_milestones(self) -> np.ndarray:
        """Per env, per milestone (MILESTONE_NAMES order): the step of the current episode at which it was first
        reached; 0 if set when the episode started, -1 if not reached. Ended episodes' rows are in
        info["final"]["milestone_steps"]."""
        return self.progress.episode_steps

    @property
    def episode_steps(self) -> np.ndarray:
        """Per env, the steps of its current episode so far (0 right after a reset; a view: copy to keep)."""
        return self._elapsed

    @property
    def episode_returns(self) -> np.ndarray:
        """Per env, the return of its current episode so far (a view: copy to keep)."""
        return self._returns

    @property
    def milestone_names(self) -> tuple[str, ...]:
        """Column names of ``episode_milestones`` and of info["final"]["milestone_steps"]."""
        return MILESTONE_NAMES

    @property
    def emulators(self):
        """The native emulator handles (read-only use: views, save_state)."""
        return tuple(self._emus)

    @property
    def pyboys(self):
        """The PyBoy instances (for tests and tools; do not tick them directly while stepping)."""
        return tuple(self._pyboys)

    def global_visit_counts(self) -> np.ndarray:
        """Visits per tile of the global Kanto map, summed over all envs."""
        return self._batch.global_counts()

    def render(self):
        """Each env's full-resolution RGB screen (PyBoy's renderer; in native mode, from the last rendered frame)."""
        return np.stack([self.screen(i) for i in range(self.num_envs)])

    def screen(self, i: int) -> np.ndarray:
        """Env i's full-resolution (144, 160, 3) RGB screen, a copy (current with screen_source "pyboy")."""
        return np.asarray(self._emus[i].screen_view())[:, :, :3].copy()

    def position(self) -> dict[str, np.ndarray]:
        """Each env's map id and (x, y) tile now (views of the live info arrays: copy to keep)."""
        return {k: self._info_arrays[k] for k in ("map", "x", "y")}

    def close(self, **kwargs) -> None:
        for pb in getattr(self, "_pyboys", []):
            pb.stop(save=False)  # never write .ram files beside the user's ROM
        self._pyboys = []
        self._emus = []


class PokerlEnv(gym.Env):
    """A single environment (a batch of one) with the Gymnasium ``Env`` API."""

    metadata = {"render_modes": ["rgb_array"]}

    def __init__(self, config: EnvConfig | None = None, render_mode: str | None = None,
                 start_state: bytes | None = None):
        self._vec = VecEnv(1, config, start_state=start_state)
        self.config = self._vec.config
        self.observation_space = self._vec.single_observation_space
        self.action_space = self._vec.single_action_space
        self.render_mode = render_mode
        self.reward_terms = self._vec.reward_terms

    def _obs(self):
        return {k: v[0].copy() for k, v in self._vec._obs.items()}

    def _info(self, info):
        return {k: (v[0].item() if isinstance(v, np.ndarray) else v) for k, v in info.items() if k != "final"}

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        _, info = self._vec.reset(seed=seed)
        return self._obs(), self._info(info)

    def step(self, action):
        _, rew, term, trunc, info = self._vec.step(np.array([int(action)]))
        return self._obs(), float(rew[0]), bool(term[0]), bool(trunc[0]), self._info(info)

    def render(self):
        return self._vec.render()[0]

    def close(self):
        self._vec.close()


def _config_with(rom, overrides: dict) -> EnvConfig:
    cfg = EnvConfig()
    reward = overrides.pop("reward", None)
    cfg = dataclasses.replace(cfg, rom=os.fspath(rom) if rom is not None else None, **overrides)
    if reward is not None:
        cfg.reward = reward if not isinstance(reward, dict) else dataclasses.replace(cfg.reward, **reward)
    return cfg


def _split_start_state(overrides: dict) -> bytes | None:
    """``start_state=`` may be bytes (used as is) or a path (an EnvConfig field)."""
    start = overrides.get("start_state")
    if isinstance(start, (bytes, bytearray)):
        return bytes(overrides.pop("start_state"))
    return None


def make_env(rom=None, **overrides) -> PokerlEnv:
    """One Gymnasium env. ``rom=None``: $POKERL_ROM or the bundled test world. Overrides: EnvConfig fields;
    ``start_state=`` accepts bytes or a path."""
    state_bytes = _split_start_state(overrides)
    return PokerlEnv(_config_with(rom, overrides), start_state=state_bytes)


def make_vec_env(num_envs: int, rom=None, **overrides) -> VecEnv:
    """``num_envs`` envs stepped as one batch. Overrides: EnvConfig fields; ``start_state=`` accepts bytes or a path."""
    state_bytes = _split_start_state(overrides)
    return VecEnv(num_envs, _config_with(rom, overrides), start_state=state_bytes)
