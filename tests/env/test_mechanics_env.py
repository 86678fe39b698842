"""Progress mechanics end to end on the test world: explore_reset_interval, explore_boost, observe_progress."""

import numpy as np
import pytest

import pokerl_fast
from pokerl_fast._native import _core as K
from pokerl_fast.config import ACTIONS, EnvConfig
from pokerl_fast.env import reference as ref
from pokerl_fast.game import constants as C
from pokerl_fast.game.testworld import drive, find_path

EXPLORE_ONLY = {name: 0.0 for name in K.TERM_NAMES} | {"explore": 1.0}


def wram_of(env, i=0):
    return np.asarray(env.pyboys[i].memory[C.WRAM_BASE:C.WRAM_BASE + C.WRAM_SIZE], np.uint8)


def walk(env, room, xy, max_steps=200):
    """Steps env 0 (of a 1-env VecEnv) towards (room, xy); yields each step's (reward, info, wram before)."""
    for _ in range(max_steps):
        pos = drive.position(env.pyboys[0])
        if pos == (room, tuple(xy)):
            return
        button = find_path(*pos, room, xy)[0]
        before = wram_of(env)
        _, rew, _, _, info = env.step(np.array([ACTIONS.index(button)]))
        yield float(rew[0]), info, before
    pytest.fail(f"did not reach {room} {xy}; at {drive.position(env.pyboys[0])}")


def test_bad_mechanics_config_is_one_clear_line():
    with pytest.raises(ValueError, match="explore_reset_interval must be >= 0"):
        EnvConfig(explore_reset_interval=-1).validate()
    with pytest.raises(ValueError, match="explore_boost must be >= 0"):
        EnvConfig(explore_boost=-2.0).validate()


def test_explore_reset_interval_pays_revisited_tiles_again(start_state):
    n = 25
    kw = dict(start_state=start_state, episode_length=500, reward=EXPLORE_ONLY)
    plain = pokerl_fast.make_vec_env(1, **kw)
    resetting = pokerl_fast.make_vec_env(1, explore_reset_interval=n, **kw)
    try:
        plain.reset(seed=1)
        resetting.reset(seed=1)
        rng = np.random.default_rng(1)
        r_plain, r_reset = [], []
        count = 1
        for t in range(1, 3 * n + 1):
            act = rng.integers(0, 4, 1)  # d-pad only: walk around the first rooms
            _, ra, _, _, ia = plain.step(act)
            _, rb, _, _, ib = resetting.step(act)
            r_plain.append(float(ra[0]))
            r_reset.append(float(rb[0]))
            assert ia["map"][0] == ib["map"][0] and ia["x"][0] == ib["x"][0]  # the emulator is not touched
            now = int(ib["explore"][0])
            if t % n == 0:
                assert now == 1, "the memory was not cleared at a multiple of n"
                assert rb[0] in (0.0, 1.0)
            else:
                assert rb[0] == now - count  # one per tile new to the memory since the last clear
            count = now
        assert min(r_reset) >= 0.0
        assert r_plain[:n] == r_reset[:n]
        assert sum(r_reset) > sum(r_plain), "no tile paid again after the reset"
        assert resetting._term_sums[0, K.TERM_NAMES.index("explore")] == pytest.approx(sum(r_reset))
    finally:
        plain.close()
        resetting.close()


def test_explore_boost_pays_boost_times_on_unfinished_maps(start_state):
    boost = 3.0
    env = pokerl_fast.make_vec_env(1, start_state=start_state, explore_boost=boost, reward=EXPLORE_ONLY,
                                   episode_length=1000)
    try:
        _, info = env.reset(seed=0)
        count = int(info["explore"][0])
        paid = {1.0: 0, boost: 0}
        # REDS_HOUSE_2F/1F have no completion events; PALLET_TOWN is unfinished until EVENT_FOLLOWED_OAK_INTO_LAB.
        for room, xy in (("PALLET_TOWN", (6, 6)), ("PALLET_TOWN", (8, 3))):
            for rew, info, _ in walk(env, room, xy):
                new = int(info["explore"][0]) - count
                count = int(info["explore"][0])
                assert new in (0, 1)
                value = boost if ref.map_unfinished(ref.decode_ram(wram_of(env))) else 1.0
                assert rew == pytest.approx(new * value), (drive.position(env.pyboys[0]), rew, new)
                if new:
                    paid[value] += 1
        assert paid[1.0] > 0 and paid[boost] > 0, paid
    finally:
        env.close()


def test_observe_progress_adds_the_key_with_the_ram_values(start_state):
    env = pokerl_fast.make_vec_env(2, start_state=start_state, observe_progress=True)
    off = pokerl_fast.make_vec_env(1, start_state=start_state)
    try:
        assert "progress" not in off.single_observation_space.spaces
        obs, _ = env.reset(seed=0)
        assert env.single_observation_space["progress"].shape == (K.NUM_PROGRESS_FEATURES,)
        rng = np.random.default_rng(2)
        for t in range(40):
            for i in range(2):
                w = wram_of(env, i)
                np.testing.assert_array_equal(obs["progress"][i], ref.progress_features(ref.decode_ram(w), w))
                mem = env.pyboys[i].memory
                count = min(mem[C.PARTY_COUNT], C.PARTY_MAX)
                f = obs["progress"][i]
                for s in range(C.PARTY_MAX):
                    o = s * C.PARTY_MON_STRIDE
                    species = mem[C.PARTY_SPECIES + s] if s < count else 0
                    level = mem[C.PARTY_MON1_LEVEL + o] if s < count else 0
                    assert f[s] == np.float32(species / 255.0) and f[C.PARTY_MAX + s] == np.float32(level / 100.0)
                for k, (addr, bit) in enumerate(ref.REQUIRED_EVENT_BITS):
                    assert f[K.PROGRESS_OFFSETS[4] + k] == (mem[addr] >> bit) & 1
            assert env.observation_space.contains(obs)
            obs, *_ = env.step(rng.integers(0, 7, 2))
    finally:
        env.close()
        off.close()


def test_mechanics_on_resume_exactly_and_repeat_with_the_seed(start_state):
    kw = dict(start_state=start_state, episode_length=40, explore_reset_interval=7, explore_boost=2.0,
              observe_progress=True, revisit_half_life=5.0)
    a = pokerl_fast.make_vec_env(2, **kw)
    b = pokerl_fast.make_vec_env(2, **kw)
    try:
        rng = np.random.default_rng(5)
        a.reset(seed=5)
        for _ in range(20):
            a.step(rng.integers(0, 7, 2))
        b.reset(seed=99)
        b.set_state(a.get_state())
        for act in rng.integers(0, 7, (40, 2)):  # crosses resets of the memory and an episode end
            oa, ra, _, ta, _ = a.step(act)
            ob, rb, _, tb, _ = b.step(act)
            assert np.array_equal(ra, rb) and np.array_equal(ta, tb)
            for k in oa:
                assert np.array_equal(oa[k], ob[k]), k
        assert a.total_frames == b.total_frames == 60 * 2 * 24
    finally:
        a.close()
        b.close()


def test_total_frames_sums_each_steps_frames_with_adaptive_steps(start_state):
    env = pokerl_fast.make_vec_env(2, start_state=start_state, adaptive_steps=True, min_frames_per_step=8)
    try:
        rng = np.random.default_rng(3)
        env.reset(seed=3)
        frames = 0
        for _ in range(30):
            *_, info = env.step(rng.integers(0, 7, 2))
            frames += int(info["frames"].sum())
        assert env.total_frames == frames
        assert 30 * 2 * 8 <= frames < 30 * 2 * 24  # some steps ended early: the game waited for input
    finally:
        env.close()
