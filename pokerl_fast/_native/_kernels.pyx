# distutils: language = c++
"""Thin binding over csrc/core.h: batched RAM decode, exploration, reward and observation kernels.

Python allocates every buffer once (``allocate_buffers``); ``Kernels`` checks dtype, shape and contiguity
once, stores row pointers, and ``update()`` fills every buffer for every env in one GIL-free native call.
The emulator memory is read through raw addresses (``wram_ptrs``, ``screen_ptrs``): whoever passes them
keeps that memory alive and at the same address for the life of the ``Kernels`` object.
"""

from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t, uintptr_t
from libc.string cimport memcpy
from libcpp.vector cimport vector

import numpy as np

cdef extern from "core.h" namespace "pokerl" nogil:
    const int WRAM_SIZE
    const int SCREEN_H, SCREEN_W, SCREEN_CHANNELS
    const int OBS_H, OBS_W, OBS_PACKED_W
    const int VISIT_ROWS, VISIT_COLS, VISIT_PLAYER_ROW, VISIT_PLAYER_COL
    const int EXPLORE_WORDS
    const int KANTO_WIDTH "pokerl::red::KANTO_WIDTH"
    const int KANTO_HEIGHT "pokerl::red::KANTO_HEIGHT"
    enum: C_NUM_RAM_FEATURES "pokerl::NUM_RAM_FEATURES"
    enum: C_NUM_TERMS "pokerl::NUM_TERMS"
    enum: C_NUM_INFO "pokerl::NUM_INFO"
    enum: C_NUM_STAGES "pokerl::NUM_STAGES"
    const char* C_RAM_FEATURE_NAMES "pokerl::RAM_FEATURE_NAMES"[]
    const char* C_TERM_NAMES "pokerl::TERM_NAMES"[]
    const char* C_INFO_NAMES "pokerl::INFO_NAMES"[]

    cdef cppclass RamState:
        uint8_t map, x, y, facing, badges, party_count
        uint8_t species[6]
        uint8_t levels[6]
        uint16_t hp[6]
        uint16_t max_hp[6]
        uint8_t in_battle
        int32_t money
        uint8_t num_bag_items
        uint8_t bag_ids[20]
        uint8_t bag_qty[20]
        uint8_t events[320]
        uint8_t dex_owned[19]
        uint8_t dex_seen[19]
        uint8_t joy_ignore, walk_counter
        int32_t badge_count, event_count, required_count, level_sum, hp_sum, max_hp_sum
        int32_t dex_owned_count, dex_seen_count

    void decode_ram(const uint8_t* wram, RamState& s)
    bint c_ready_for_input "pokerl::ready_for_input"(const uint8_t* wram)
    void c_encode_screen "pokerl::encode_screen"(const uint8_t* rgba, uint8_t* out)

    cdef cppclass Exploration:
        vector[uint64_t] bits
        int64_t count
        int64_t fallback_count()
        void export_fallback(int32_t* out)
        void load(const uint64_t* words, const int32_t* triples, int64_t n_triples)

    cdef cppclass RewardState:
        double score[10]
        double sums[10]
        double heal
        int32_t battles_won, blackouts, event_base
        uint64_t items_seen[4]
        int32_t prev_in_battle, prev_party_count, prev_blackout
        double prev_hp_fraction

    cdef cppclass EnvCore:
        const uint8_t* wram
        const uint8_t* screen
        bint screen_is_shades
        uint8_t* obs_screen
        uint8_t* obs_visited
        float* obs_ram
        uint8_t* obs_map
        float* reward
        float* term_sums
        int32_t* info[9]
        RamState ram
        Exploration explore
        RewardState rew
        bint started

    void write_outputs(EnvCore& e, double reward)

    cdef cppclass Batch:
        vector[EnvCore] envs
        const float* weights
        uint32_t* global_counts
        Batch(int num_envs)
        void update_all()
        void reset(const int64_t* ids, int64_t n)
        void run_stage(int stage)


if C_NUM_TERMS != 10 or C_NUM_INFO != 9:
    raise ImportError("csrc term/info counts changed: update the fixed-size arrays declared in _kernels.pyx")

NUM_TERMS = C_NUM_TERMS
NUM_INFO = C_NUM_INFO
NUM_RAM_FEATURES = C_NUM_RAM_FEATURES
TERM_NAMES = tuple(C_TERM_NAMES[k].decode() for k in range(NUM_TERMS))
INFO_NAMES = tuple(C_INFO_NAMES[k].decode() for k in range(NUM_INFO))
RAM_FEATURE_NAMES = tuple(C_RAM_FEATURE_NAMES[k].decode() for k in range(NUM_RAM_FEATURES))
KANTO_SHAPE = (KANTO_HEIGHT, KANTO_WIDTH)
WRAM_BYTES = WRAM_SIZE
SCREEN_SHAPE = (SCREEN_H, SCREEN_W, SCREEN_CHANNELS)
OBS_SCREEN_SHAPE = (OBS_H, OBS_PACKED_W)
OBS_VISITED_SHAPE = (OBS_H, OBS_PACKED_W)
OBS_PIXELS_SHAPE = (OBS_H, OBS_W)
VISITED_GRID = (VISIT_ROWS, VISIT_COLS, VISIT_PLAYER_ROW, VISIT_PLAYER_COL)
EXPLORE_WORDS_PER_ENV = EXPLORE_WORDS
STAGES = ("all", "decode", "explore", "reward", "screen", "visited", "ram_features")

# name -> (per-env shape, dtype); every buffer is (num_envs, *shape), C-contiguous.
BUFFER_SPECS = {
    "screen": (OBS_SCREEN_SHAPE, np.uint8),
    "visited": (OBS_VISITED_SHAPE, np.uint8),
    "ram": ((NUM_RAM_FEATURES,), np.float32),
    "map_id": ((), np.uint8),
    "reward": ((), np.float32),
    "term_sums": ((NUM_TERMS,), np.float32),
}
BUFFER_SPECS.update({"info_" + name: ((), np.int32) for name in INFO_NAMES})


def allocate_buffers(int num_envs):
    """Zeroed output buffers with the shapes and dtypes Kernels expects (see BUFFER_SPECS)."""
    return {name: np.zeros((num_envs,) + shape, dtype) for name, (shape, dtype) in BUFFER_SPECS.items()}


def _check_array(str what, arr, dtype, tuple shape):
    """Returns arr if it is a C-contiguous, writeable numpy array of dtype and shape; else a ValueError saying so."""
    if not isinstance(arr, np.ndarray):
        raise ValueError(f"{what} must be a numpy array of dtype {np.dtype(dtype).name} and shape {shape}, "
                         f"got {type(arr).__name__}; allocate it with allocate_buffers(num_envs)")
    if arr.dtype != np.dtype(dtype) or arr.shape != shape:
        raise ValueError(f"{what} must have dtype {np.dtype(dtype).name} and shape {shape}, "
                         f"got {arr.dtype.name} {arr.shape}; allocate it with allocate_buffers(num_envs)")
    if not arr.flags.c_contiguous:
        raise ValueError(f"{what} must be C-contiguous; pass np.ascontiguousarray(...) or allocate_buffers(num_envs)")
    if not arr.flags.writeable:
        raise ValueError(f"{what} must be writeable; pass a copy (arr.copy())")
    return arr


def _as_bytes(data, int size, str what):
    """Any bytes-like / uint8 array of exactly `size` bytes, as a contiguous uint8 numpy array."""
    arr = np.ascontiguousarray(np.frombuffer(data, np.uint8) if isinstance(data, (bytes, bytearray, memoryview))
                               else np.asarray(data)).reshape(-1)
    if arr.dtype != np.uint8 or arr.size != size:
        raise ValueError(f"{what} must be {size} uint8 bytes, got {arr.dtype.name} with {arr.size} elements")
    return arr


cdef dict _ram_dict(const RamState& s):
    return {
        "map": s.map, "x": s.x, "y": s.y, "facing": s.facing, "badges": s.badges,
        "party_count": s.party_count,
        "species": np.array([s.species[i] for i in range(6)], np.uint8),
        "levels": np.array([s.levels[i] for i in range(6)], np.uint8),
        "hp": np.array([s.hp[i] for i in range(6)], np.uint16),
        "max_hp": np.array([s.max_hp[i] for i in range(6)], np.uint16),
        "in_battle": s.in_battle, "money": s.money, "num_bag_items": s.num_bag_items,
        "bag_ids": np.array([s.bag_ids[i] for i in range(s.num_bag_items)], np.uint8),
        "bag_qty": np.array([s.bag_qty[i] for i in range(s.num_bag_items)], np.uint8),
        "events": np.frombuffer((<const char*> s.events)[:320], np.uint8).copy(),
        "dex_owned": np.frombuffer((<const char*> s.dex_owned)[:19], np.uint8).copy(),
        "dex_seen": np.frombuffer((<const char*> s.dex_seen)[:19], np.uint8).copy(),
        "joy_ignore": s.joy_ignore, "walk_counter": s.walk_counter,
        "badge_count": s.badge_count, "event_count": s.event_count, "required_count": s.required_count,
        "level_sum": s.level_sum, "hp_sum": s.hp_sum, "max_hp_sum": s.max_hp_sum,
        "dex_owned_count": s.dex_owned_count, "dex_seen_count": s.dex_seen_count,
    }


def decode(wram):
    """Decodes 8192 WRAM bytes (0xC000..0xDFFF) into a dict of typed fields (tests, debugging)."""
    cdef const uint8_t[::1] w = _as_bytes(wram, WRAM_SIZE, "wram")
    cdef RamState s
    decode_ram(&w[0], s)
    return _ram_dict(s)


def ready_for_input(wram):
    """True when wJoyIgnore == 0 and wWalkCounter == 0 in these 8192 WRAM bytes."""
    cdef const uint8_t[::1] w = _as_bytes(wram, WRAM_SIZE, "wram")
    return bool(c_ready_for_input(&w[0]))


cdef extern from "render.h" namespace "pokerl" nogil:
    void c_render_half "pokerl::render_half"(const uint8_t* vram, const uint8_t* oam, const uint8_t* regs,
                                             uint8_t* out)


def render_half(vram, oam, regs):
    """72x80 shades drawn from VRAM (8192 bytes), OAM (160) and the 8 LCD registers (see render.h)."""
    cdef const uint8_t[::1] v = _as_bytes(vram, 0x2000, "vram")
    cdef const uint8_t[::1] o = _as_bytes(oam, 0xA0, "oam")
    cdef const uint8_t[::1] r = _as_bytes(regs, 8, "regs")
    out = np.empty((72, 80), np.uint8)
    cdef uint8_t[:, ::1] dst = out
    c_render_half(&v[0], &o[0], &r[0], &dst[0, 0])
    return out


def encode_screen(screen):
    """(144, 160, 4) uint8 RGBA -> (72, 20) packed 2-bit shades."""
    arr = np.ascontiguousarray(screen)
    if arr.dtype != np.uint8 or arr.shape != SCREEN_SHAPE:
        raise ValueError(f"screen must be uint8 of shape {SCREEN_SHAPE}, got {arr.dtype.name} {arr.shape}")
    out = np.empty(OBS_SCREEN_SHAPE, np.uint8)
    cdef const uint8_t[:, :, ::1] src = arr
    cdef uint8_t[:, ::1] dst = out
    c_encode_screen(&src[0, 0, 0], &dst[0, 0])
    return out


cdef class Kernels:
    """Per-env RAM decode, exploration, reward and observation encoding, all envs in one native call.

    Kernels(num_envs, wram_ptrs, screen_ptrs, weights, buffers, global_counts=None, screen_format="rgba")
      wram_ptrs, screen_ptrs: uint64 (num_envs,) raw addresses of each env's 8192 WRAM bytes and
        screen; the caller keeps them alive and in place.
      screen_format: "rgba" (PyBoy's 144x160x4 buffer) or "shades" (a 72x80 picture of shades 0..3,
        drawn natively by the bridge from VRAM).
      weights: float32 (NUM_TERMS,) in TERM_NAMES order; kept by reference, in-place edits apply next update.
      buffers: dict from allocate_buffers(num_envs) (or arrays matching BUFFER_SPECS), written in place.
      global_counts: optional uint32 KANTO_SHAPE array (e.g. shared memory) summing steps per global tile.
    """
    cdef Batch* _b
    cdef readonly int num_envs
    cdef readonly dict buffers
    cdef readonly object weights
    cdef object _counts
    cdef object _wram_ptrs, _screen_ptrs

    def __cinit__(self, int num_envs, wram_ptrs, screen_ptrs, weights, dict buffers, global_counts=None,
                  str screen_format="rgba"):
        if num_envs <= 0:
            raise ValueError(f"num_envs must be positive, got {num_envs}")
        if screen_format not in ("rgba", "shades"):
            raise ValueError(f"screen_format must be 'rgba' or 'shades', got {screen_format!r}")
        cdef bint shades = screen_format == "shades"
        self.num_envs = num_envs
        self._wram_ptrs = self._check_ptrs("wram_ptrs", wram_ptrs)
        self._screen_ptrs = self._check_ptrs("screen_ptrs", screen_ptrs)
        self.weights = _check_array("weights", weights, np.float32, (NUM_TERMS,))
        missing = sorted(set(BUFFER_SPECS) - set(buffers))
        if missing:
            raise ValueError(f"buffers is missing {missing}; allocate them with allocate_buffers(num_envs)")
        self.buffers = {}
        for name, (shape, dtype) in BUFFER_SPECS.items():
            self.buffers[name] = _check_array(f"buffers[{name!r}]", buffers[name], dtype, (num_envs,) + shape)
        if global_counts is None:
            global_counts = np.zeros(KANTO_SHAPE, np.uint32)
        self._counts = _check_array("global_counts", global_counts, np.uint32, KANTO_SHAPE)

        self._b = new Batch(num_envs)
        cdef float[::1] w = self.weights
        cdef uint32_t[:, ::1] counts = self._counts
        self._b.weights = &w[0]
        self._b.global_counts = &counts[0, 0]
        cdef uint8_t[:, :, ::1] screen = self.buffers["screen"]
        cdef uint8_t[:, :, ::1] visited = self.buffers["visited"]
        cdef float[:, ::1] ram = self.buffers["ram"]
        cdef uint8_t[::1] map_id = self.buffers["map_id"]
        cdef float[::1] reward = self.buffers["reward"]
        cdef float[:, ::1] sums = self.buffers["term_sums"]
        cdef int32_t[::1] info
        cdef EnvCore* e
        cdef int i, k
        for i in range(num_envs):
            e = &self._b.envs[i]
            e.wram = <const uint8_t*> <uintptr_t> self._wram_ptrs[i]
            e.screen = <const uint8_t*> <uintptr_t> self._screen_ptrs[i]
            e.screen_is_shades = shades
            e.obs_screen = &screen[i, 0, 0]
            e.obs_visited = &visited[i, 0, 0]
            e.obs_ram = &ram[i, 0]
            e.obs_map = &map_id[i]
            e.reward = &reward[i]
            e.term_sums = &sums[i, 0]
        for k, name in enumerate(INFO_NAMES):
            info = self.buffers["info_" + name]
            for i in range(num_envs):
                self._b.envs[i].info[k] = &info[i]

    def _check_ptrs(self, str what, ptrs):
        arr = np.asarray(ptrs)
        if arr.dtype != np.uint64 or arr.shape != (self.num_envs,):
            raise ValueError(f"{what} must be uint64 of shape ({self.num_envs},), got {arr.dtype.name} {arr.shape}")
        if (arr == 0).any():
            raise ValueError(f"{what} has null addresses at envs {np.flatnonzero(arr == 0).tolist()}; "
                             f"pass each env's buffer address (e.g. arr.ctypes.data)")
        return arr.copy()

    def __dealloc__(self):
        del self._b

    def set_pointers(self, int env, uint64_t wram_ptr, uint64_t screen_ptr):
        """Points env at new emulator memory (e.g. after recreating its emulator)."""
        self._env_index(env)
        if wram_ptr == 0 or screen_ptr == 0:
            raise ValueError("set_pointers needs non-zero wram_ptr and screen_ptr addresses")
        self._wram_ptrs[env] = wram_ptr
        self._screen_ptrs[env] = screen_ptr
        self._b.envs[env].wram = <const uint8_t*> <uintptr_t> wram_ptr
        self._b.envs[env].screen = <const uint8_t*> <uintptr_t> screen_ptr

    cdef int _env_index(self, int env) except -1:
        if env < 0 or env >= self.num_envs:
            raise IndexError(f"env {env} out of range for {self.num_envs} envs")
        return env

    def update(self):
        """Decode, explore, reward and encode every env; fills all buffers. An env never reset resets first."""
        with nogil:
            self._b.update_all()

    def reset(self, env_ids):
        """Starts a new episode for env_ids on their current RAM: clears exploration, re-bases rewards,
        writes fresh observations with reward 0 and term_sums 0."""
        ids = np.ascontiguousarray(env_ids, np.int64).reshape(-1)
        if ids.size and (ids.min() < 0 or ids.max() >= self.num_envs):
            raise IndexError(f"env_ids must lie in [0, {self.num_envs}), got {ids.tolist()}")
        if ids.size == 0:
            return
        cdef const int64_t[::1] v = ids
        with nogil:
            self._b.reset(&v[0], v.shape[0])

    def run_stage(self, str stage):
        """Runs one kernel over all envs (for benchmarks); one of STAGES."""
        if stage not in STAGES:
            raise ValueError(f"stage must be one of {STAGES}, got {stage!r}")
        cdef int s = STAGES.index(stage)
        with nogil:
            self._b.run_stage(s)

    def global_counts(self):
        """The (KANTO_HEIGHT, KANTO_WIDTH) uint32 array of steps per global tile, over all envs (live view)."""
        return self._counts

    def explore_counts(self):
        """Unique tiles visited this episode, per env (int64 copy)."""
        return np.array([self._b.envs[i].explore.count for i in range(self.num_envs)], np.int64)

    def visited_bits(self, int env):
        """Env's global visited bitmap as a bool (KANTO_HEIGHT, KANTO_WIDTH) array (a copy)."""
        self._env_index(env)
        words = np.empty(EXPLORE_WORDS, np.uint64)
        cdef uint64_t[::1] w = words
        memcpy(&w[0], self._b.envs[env].explore.bits.data(), EXPLORE_WORDS * 8)
        bits = np.unpackbits(words.view(np.uint8), bitorder="little")
        return bits[: KANTO_SHAPE[0] * KANTO_SHAPE[1]].reshape(KANTO_SHAPE).astype(bool)

    def get_state(self):
        """Everything needed to resume: exploration, reward bases, global counts, as numpy arrays."""
        cdef int n = self.num_envs, i, k
        cdef EnvCore* e
        words = np.empty((n, EXPLORE_WORDS), np.uint64)
        cdef uint64_t[:, ::1] wv = words
        st = {
            "explore_count": np.empty(n, np.int64),
            "started": np.empty(n, np.uint8),
            "reward_score": np.empty((n, C_NUM_TERMS), np.float64),
            "reward_sums": np.empty((n, C_NUM_TERMS), np.float64),
            "reward_heal": np.empty(n, np.float64),
            "reward_battles_won": np.empty(n, np.int32),
            "reward_blackouts": np.empty(n, np.int32),
            "reward_event_base": np.empty(n, np.int32),
            "reward_items_seen": np.empty((n, 4), np.uint64),
            "prev_in_battle": np.empty(n, np.int32),
            "prev_party_count": np.empty(n, np.int32),
            "prev_blackout": np.empty(n, np.int32),
            "prev_hp_fraction": np.empty(n, np.float64),
        }
        fallback = []
        for i in range(n):
            e = &self._b.envs[i]
            memcpy(&wv[i, 0], e.explore.bits.data(), EXPLORE_WORDS * 8)
            st["explore_count"][i] = e.explore.count
            st["started"][i] = e.started
            for k in range(C_NUM_TERMS):
                st["reward_score"][i, k] = e.rew.score[k]
                st["reward_sums"][i, k] = e.rew.sums[k]
            st["reward_heal"][i] = e.rew.heal
            st["reward_battles_won"][i] = e.rew.battles_won
            st["reward_blackouts"][i] = e.rew.blackouts
            st["reward_event_base"][i] = e.rew.event_base
            for k in range(4):
                st["reward_items_seen"][i, k] = e.rew.items_seen[k]
            st["prev_in_battle"][i] = e.rew.prev_in_battle
            st["prev_party_count"][i] = e.rew.prev_party_count
            st["prev_blackout"][i] = e.rew.prev_blackout
            st["prev_hp_fraction"][i] = e.rew.prev_hp_fraction
            triples = np.empty((e.explore.fallback_count(), 3), np.int32)
            if triples.shape[0]:
                self._export_fallback(i, triples)
            fallback.append(np.column_stack([np.full(triples.shape[0], i, np.int32), triples]))
        st["explore_bits"] = words
        st["explore_fallback"] = np.concatenate(fallback).astype(np.int32).reshape(-1, 4)
        st["global_counts"] = np.array(self._counts, copy=True)
        return st

    cdef _export_fallback(self, int env, triples):
        cdef int32_t[:, ::1] t = triples
        self._b.envs[env].explore.export_fallback(&t[0, 0])

    def set_state(self, dict state):
        """Restores get_state() output. Load the emulators' states first: outputs are rewritten from current RAM."""
        cdef int n = self.num_envs, i, k
        cdef EnvCore* e
        shapes = {
            "explore_bits": ((n, EXPLORE_WORDS), np.uint64), "started": ((n,), np.uint8),
            "reward_score": ((n, C_NUM_TERMS), np.float64), "reward_sums": ((n, C_NUM_TERMS), np.float64),
            "reward_heal": ((n,), np.float64), "reward_battles_won": ((n,), np.int32),
            "reward_blackouts": ((n,), np.int32), "reward_event_base": ((n,), np.int32),
            "reward_items_seen": ((n, 4), np.uint64), "prev_in_battle": ((n,), np.int32),
            "prev_party_count": ((n,), np.int32), "prev_blackout": ((n,), np.int32),
            "prev_hp_fraction": ((n,), np.float64), "global_counts": (KANTO_SHAPE, np.uint32),
        }
        st = {}
        for key, (shape, dtype) in shapes.items():
            if key not in state:
                raise ValueError(f"state is missing {key!r}; pass the dict from Kernels.get_state()")
            st[key] = np.ascontiguousarray(state[key])
            if st[key].shape != shape or st[key].dtype != np.dtype(dtype):
                raise ValueError(f"state[{key!r}] must be {np.dtype(dtype).name} {shape} (num_envs={n}), "
                                 f"got {st[key].dtype.name} {st[key].shape}")
        fb = np.ascontiguousarray(state.get("explore_fallback", np.zeros((0, 4), np.int32)), np.int32).reshape(-1, 4)
        if fb.shape[0] and (fb[:, 0].min() < 0 or fb[:, 0].max() >= n):
            raise ValueError(f"state['explore_fallback'] names envs outside [0, {n})")
        cdef const uint64_t[:, ::1] words = st["explore_bits"]
        cdef const int32_t[:, ::1] triples
        for i in range(n):
            e = &self._b.envs[i]
            mine = np.ascontiguousarray(fb[fb[:, 0] == i, 1:])
            triples = mine if mine.shape[0] else np.zeros((1, 3), np.int32)
            e.explore.load(&words[i, 0], &triples[0, 0], mine.shape[0])
            e.started = st["started"][i] != 0
            for k in range(C_NUM_TERMS):
                e.rew.score[k] = st["reward_score"][i, k]
                e.rew.sums[k] = st["reward_sums"][i, k]
            e.rew.heal = st["reward_heal"][i]
            e.rew.battles_won = st["reward_battles_won"][i]
            e.rew.blackouts = st["reward_blackouts"][i]
            e.rew.event_base = st["reward_event_base"][i]
            for k in range(4):
                e.rew.items_seen[k] = st["reward_items_seen"][i, k]
            e.rew.prev_in_battle = st["prev_in_battle"][i]
            e.rew.prev_party_count = st["prev_party_count"][i]
            e.rew.prev_blackout = st["prev_blackout"][i]
            e.rew.prev_hp_fraction = st["prev_hp_fraction"][i]
            decode_ram(e.wram, e.ram)
            write_outputs(e[0], 0.0)
        self._counts[...] = st["global_counts"]
