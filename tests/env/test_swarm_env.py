"""Swarming and milestones in the vector env, on the real emulator and the test world."""

import numpy as np
import pytest

import pokerl_fast
import support
from pokerl_fast.game import constants as C

EVENT = "EVENT_FOLLOWED_OAK_INTO_LAB"
ADDR, BIT = C.EVENT_FLAGS_BY_NAME[EVENT]


def set_event(env, i, name=EVENT):
    support.set_event_flag(env.emulators[i].wram_view(), name)


def has_event(env, i):
    return bool(np.asarray(env.emulators[i].wram_view())[ADDR - C.WRAM_BASE] >> BIT & 1)


def test_progress_is_archived_and_swarming_moves_envs_bit_exactly():
    env = pokerl_fast.make_vec_env(4, swarm_interval=5, swarm_fraction=0.5, episode_length=10**6, seed=1)
    try:
        env.reset(seed=1)
        set_event(env, 0)
        env.step(np.zeros(4, np.int64))  # env 0 now has a required event the others lack
        assert env.milestones == {EVENT: 1}
        assert len(env.archive) == 1
        key = env.archive.best()
        archived = env.archive.state(key)
        for t in range(2, 5):
            _, _, _, trunc, _ = env.step(np.zeros(4, np.int64))
            assert not trunc.any()
        _, rew, _, trunc, info = env.step(np.zeros(4, np.int64))  # step 5: a swarming round
        moved = np.flatnonzero(trunc)
        assert len(moved) == 2
        assert info["_episode"][moved].all()
        for i in moved:
            assert has_event(env, i)
            assert env.emulators[i].save_state() == archived  # moved without a single frame of drift
            assert info["required_events"][i] == 1
        # The moved envs start their episode there: no reward for what the state already had.
        _, rew, _, _, info = env.step(np.zeros(4, np.int64))
        assert (info["reward/required_events"][moved] == 0).all()
    finally:
        env.close()


def test_badges_are_milestones_and_archive_survives_get_state():
    env = pokerl_fast.make_vec_env(2, swarm_interval=100, episode_length=10**6)
    other = pokerl_fast.make_vec_env(2, swarm_interval=100, episode_length=10**6)
    try:
        env.reset(seed=0)
        np.asarray(env.emulators[1].wram_view())[C.OBTAINED_BADGES - C.WRAM_BASE] |= 1
        env.step(np.zeros(2, np.int64))
        assert env.milestones == {"BADGE_BOULDER": 1}
        other.reset(seed=5)
        other.set_state(env.get_state())
        assert other.milestones == env.milestones
        assert other.archive.keys() == env.archive.keys()
        assert other.archive.state(other.archive.best()) == env.archive.state(env.archive.best())
    finally:
        env.close()
        other.close()


def test_reset_to_archive_starts_episodes_from_the_frontier():
    env = pokerl_fast.make_vec_env(2, reset_to_archive=1.0, episode_length=3)
    try:
        env.reset(seed=0)
        set_event(env, 0)
        env.step(np.zeros(2, np.int64))
        assert len(env.archive) == 1
        env.step(np.zeros(2, np.int64))
        _, _, _, trunc, _ = env.step(np.zeros(2, np.int64))
        assert trunc.all()
        assert has_event(env, 0) and has_event(env, 1)
    finally:
        env.close()


def test_without_swarming_nothing_is_archived_but_milestones_are_logged():
    env = pokerl_fast.make_vec_env(1)
    try:
        env.reset(seed=0)
        set_event(env, 0)
        env.step(np.zeros(1, np.int64))
        assert len(env.archive) == 0 and EVENT in env.milestones
    finally:
        env.close()


@pytest.mark.parametrize("bad", [dict(swarm_fraction=1.5), dict(swarm_interval=-1), dict(reset_to_archive=2.0)])
def test_bad_swarm_config_is_refused(bad):
    with pytest.raises(ValueError):
        pokerl_fast.make_vec_env(1, **bad)


def test_archive_and_milestones_survive_a_checkpoint_on_disk(tmp_path):
    """The env state (archive states as bytes, milestones, RNG states) goes through checkpoint.save/load."""
    from pokerl_fast.learn import checkpoint

    env = pokerl_fast.make_vec_env(3, swarm_interval=4, swarm_fraction=0.7, episode_length=10**6)
    other = pokerl_fast.make_vec_env(3, swarm_interval=4, swarm_fraction=0.7, episode_length=10**6)
    try:
        env.reset(seed=2)
        set_event(env, 2)
        env.step(np.zeros(3, np.int64))
        path = checkpoint.save(tmp_path / "checkpoints", 1, {"env": env.get_state()}, {"note": "test"})
        other.reset(seed=9)
        other.set_state(checkpoint.load(checkpoint.latest(path.parent))["env"])
        assert other.milestones == env.milestones == {EVENT: 1}
        assert other.archive.keys() == env.archive.keys()
        rng = np.random.default_rng(0)
        for _ in range(6):  # crosses a swarming round: the same envs move to the same states
            act = rng.integers(0, 7, 3)
            _, ra, _, ta, _ = env.step(act)
            _, rb, _, tb, _ = other.step(act)
            assert np.array_equal(ra, rb) and np.array_equal(ta, tb)
        assert [e.save_state() for e in env.emulators] == [e.save_state() for e in other.emulators]
    finally:
        env.close()
        other.close()
