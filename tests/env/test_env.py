"""The batched environment on the real emulator and the test world ROM."""

import os
import shutil

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode

import pokerl_fast
from pokerl_fast.game.red import StartStateError
from pokerl_fast.env import TERM_NAMES, VecEnv
from pokerl_fast.game import constants as C
from pokerl_fast.game.rom import RomError


def rollout(env, steps, seed=0, action_seed=0):
    rng = np.random.default_rng(action_seed)
    obs, _ = env.reset(seed=seed)
    trace = [{k: v.copy() for k, v in obs.items()}]
    rewards = []
    for _ in range(steps):
        obs, rew, term, trunc, info = env.step(rng.integers(0, env.single_action_space.n, env.num_envs))
        trace.append({k: v.copy() for k, v in obs.items()})
        rewards.append(rew.copy())
    return trace, np.array(rewards)


def test_spaces_shapes_and_info(start_state):
    env = pokerl_fast.make_vec_env(3, start_state=start_state)
    try:
        assert env.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
        obs, info = env.reset(seed=0)
        packed = (3, C.OBS_H, C.OBS_PACKED_W)
        assert obs["screen"].shape == packed and obs["visited"].shape == packed
        assert obs["map_id"].shape == (3, 1)
        assert env.observation_space.contains(obs)
        obs, rew, term, trunc, info = env.step(np.zeros(3, np.int64))
        assert rew.shape == (3,) and rew.dtype == np.float32
        for key in ("map", "x", "y", "badges", "events"):
            assert info[key].shape == (3,)
        for name in TERM_NAMES:
            assert info[f"reward/{name}"].shape == (3,)
        assert env.single_action_space.n == 7
        # The screen observation carries the world: several shades are present.
        shades = np.unpackbits(obs["screen"][0]).reshape(-1, 2)
        assert len({tuple(s) for s in shades}) >= 3
    finally:
        env.close()


def test_same_seed_same_rollout_and_thread_count_does_not_matter(start_state):
    a = pokerl_fast.make_vec_env(4, start_state=start_state, num_threads=1)
    b = pokerl_fast.make_vec_env(4, start_state=start_state, num_threads=2)
    try:
        ta, ra = rollout(a, 60, seed=7)
        tb, rb = rollout(b, 60, seed=7)
        assert np.array_equal(ra, rb)
        for oa, ob in zip(ta, tb):
            for k in oa:
                assert np.array_equal(oa[k], ob[k]), k
        assert [bytes(e.wram_view()) for e in a.emulators] == [bytes(e.wram_view()) for e in b.emulators]
    finally:
        a.close()
        b.close()


def test_different_seeds_differ(start_state):
    env = pokerl_fast.make_vec_env(2, start_state=start_state, reset_noop_max=60)
    try:
        env.reset(seed=1)
        first = [e.save_state() for e in env.emulators]
        env.reset(seed=2)
        second = [e.save_state() for e in env.emulators]
        assert first != second
        # within one reset, env i uses seed + i
        assert first[0] != first[1]
    finally:
        env.close()


def test_episode_truncates_and_resets_in_the_same_step(start_state):
    env = pokerl_fast.make_vec_env(2, start_state=start_state, episode_length=5, reset_noop_max=0)
    try:
        obs0, _ = env.reset(seed=0)
        first_obs = {k: v.copy() for k, v in obs0.items()}
        for t in range(5):
            obs, rew, term, trunc, info = env.step(np.array([2, 3]))  # walk right / up
        assert trunc.all() and not term.any()
        assert info["_episode"].all()
        assert (info["episode_length"] == 5).all()
        # SAME_STEP: the returned observation is already the reset one
        for k in obs:
            assert np.array_equal(obs[k], first_obs[k]), k
        assert (info["explore"] <= 1).all()
        obs, rew, term, trunc, info = env.step(np.array([0, 0]))
        assert not trunc.any() and "_episode" not in info
    finally:
        env.close()


def test_reward_is_the_sum_of_the_logged_terms(start_state):
    env = pokerl_fast.make_vec_env(4, start_state=start_state, episode_length=10**6)
    try:
        env.reset(seed=3)
        rng = np.random.default_rng(3)
        total = np.zeros(4)
        for _ in range(200):
            _, rew, _, _, info = env.step(rng.integers(0, 7, 4))
            total += rew
        sums = np.stack([info[f"reward/{t}"] for t in TERM_NAMES], 1).sum(1)
        np.testing.assert_allclose(total, sums, rtol=1e-4, atol=1e-4)
        assert (info["explore"] > 1).any(), "random play should reach new tiles"
    finally:
        env.close()


def test_get_state_set_state_continues_exactly(start_state):
    a = pokerl_fast.make_vec_env(2, start_state=start_state, episode_length=30)
    b = pokerl_fast.make_vec_env(2, start_state=start_state, episode_length=30)
    try:
        rng = np.random.default_rng(5)
        a.reset(seed=5)
        for _ in range(20):
            a.step(rng.integers(0, 7, 2))
        b.reset(seed=99)
        b.set_state(a.get_state())
        actions = rng.integers(0, 7, (40, 2))  # crosses an episode end
        for act in actions:
            oa, ra, _, ta, ia = a.step(act)
            ob, rb, _, tb, ib = b.step(act)
            assert np.array_equal(ra, rb) and np.array_equal(ta, tb)
            for k in oa:
                assert np.array_equal(oa[k], ob[k])
    finally:
        a.close()
        b.close()


def test_set_state_from_another_rom_is_refused(start_state):
    env = pokerl_fast.make_vec_env(1, start_state=start_state)
    try:
        state = env.get_state()
        state["rom_sha1"] = "0" * 40
        with pytest.raises(ValueError, match="same ROM"):
            env.set_state(state)
    finally:
        env.close()


def test_adaptive_steps_use_fewer_frames(start_state):
    env = pokerl_fast.make_vec_env(2, start_state=start_state, adaptive_steps=True, min_frames_per_step=8)
    try:
        env.reset(seed=0)
        frames = []
        for _ in range(30):
            _, _, _, _, info = env.step(np.array([0, 4]))
            frames.append(info["frames"].copy())
        frames = np.array(frames)
        assert frames.min() >= 8 and frames.max() <= 24
        assert frames.mean() < 24
    finally:
        env.close()


def test_single_env_passes_gymnasium_checker():
    env = pokerl_fast.make_env()
    try:
        check_env(env, skip_render_check=True)
        obs, info = env.reset(seed=0)
        assert env.observation_space.contains(obs)
        assert isinstance(info["map"], int)
    finally:
        env.close()


@pytest.mark.parametrize("bad, message", [
    (dict(frames_per_step=0), "frames_per_step"),
    (dict(button_hold_frames=30), "button_hold_frames"),
    (dict(actions=("jump",)), "not buttons"),
    (dict(episode_length=0), "episode_length"),
])
def test_bad_config_is_one_clear_line(bad, message):
    with pytest.raises(ValueError, match=message) as err:
        pokerl_fast.make_vec_env(1, **bad)
    assert "\n" not in str(err.value)


def test_bad_rom_is_refused_before_any_emulator_starts(tmp_path):
    bad = tmp_path / "game.gb"
    bad.write_bytes(b"not a rom")
    with pytest.raises(RomError):
        pokerl_fast.make_vec_env(1, rom=bad)
    with pytest.raises(RomError):
        pokerl_fast.make_vec_env(1, rom=tmp_path / "missing.gb")


def test_no_files_are_written_beside_the_rom(tmp_path, start_state):
    from pokerl_fast.game.testworld import testworld_rom_path

    rom = tmp_path / "world.gb"
    shutil.copy(testworld_rom_path(), rom)
    env = pokerl_fast.make_vec_env(2, rom=rom, start_state=start_state)
    env.reset(seed=0)
    env.step(np.zeros(2, np.int64))
    env.close()
    assert os.listdir(tmp_path) == ["world.gb"]


def test_vector_env_is_a_gymnasium_vector_env(start_state):
    env = pokerl_fast.make_vec_env(2, start_state=start_state)
    try:
        assert isinstance(env, gym.vector.VectorEnv)
        assert isinstance(env, VecEnv)
    finally:
        env.close()


def test_start_state_as_bytes_or_path_for_both_entry_points(tmp_path, start_state):
    path = tmp_path / "start.state"
    path.write_bytes(start_state)
    for kwargs in (dict(start_state=start_state), dict(start_state=str(path))):
        single = pokerl_fast.make_env(**kwargs)
        vec = pokerl_fast.make_vec_env(1, **kwargs)
        try:
            assert single._vec.start_state == vec.start_state == start_state
        finally:
            single.close()
            vec.close()
    with pytest.raises(StartStateError, match="does not exist"):
        pokerl_fast.make_vec_env(1, start_state=str(tmp_path / "missing.state"))


def test_state_made_with_sound_on_is_refused(start_state):
    env = pokerl_fast.make_vec_env(1, start_state=start_state)
    try:
        state = env.get_state()
        assert state["sound_emulated"] is False
        state["sound_emulated"] = True
        with pytest.raises(ValueError, match="sound"):
            env.set_state(state)
    finally:
        env.close()


def test_pyboy_screen_source_agrees_with_the_native_picture_on_a_still_screen(start_state):
    native = pokerl_fast.make_vec_env(1, start_state=start_state, reset_noop_max=0)
    rendered = pokerl_fast.make_vec_env(1, start_state=start_state, reset_noop_max=0, screen_source="pyboy")
    try:
        a, _ = native.reset(seed=0)
        b, _ = rendered.reset(seed=0)
        for _ in range(3):  # B does nothing while standing: the picture stays still
            a, *_ = native.step(np.array([5]))
            b, *_ = rendered.step(np.array([5]))
        assert np.array_equal(a["screen"], b["screen"])
        assert len(np.unique(np.unpackbits(a["screen"]).reshape(-1, 2), axis=0)) >= 3
    finally:
        native.close()
        rendered.close()
