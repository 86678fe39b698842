"""Swarming by cells (EnvConfig.swarm_cell_size) and the exploration memory cleared at each new milestone
(explore_reset_on_progress), in the vector env on the real emulator and the test world."""

import numpy as np
import pytest

import pokerl_fast
from pokerl_fast.env.progress import archive_key, milestones_held
from pokerl_fast.game import constants as C

import support

EVENT = "EVENT_FOLLOWED_OAK_INTO_LAB"


def set_event(env, i, name=EVENT):
    support.set_event_flag(env.emulators[i].wram_view(), name)


def held_key(env, i):
    return archive_key(milestones_held(np.asarray(env.emulators[i].wram_view())))


def cell_of(info, i, size):
    return int(info["map"][i]) << 16 | int(info["x"][i]) // size << 8 | int(info["y"][i]) // size


def player_cell(state: bytes, size: int) -> int:
    """Where a save state puts the player, read from its RAM by PyBoy (not by the env)."""
    pb = support.testworld_pyboy(state)
    try:
        m = pb.memory
        return m[C.CUR_MAP] << 16 | m[C.X_COORD] // size << 8 | m[C.Y_COORD] // size
    finally:
        pb.stop(save=False)


def test_every_cell_an_env_enters_is_archived_with_a_state_standing_in_it_and_its_visits_counted(start_state):
    size = 2
    env = pokerl_fast.make_vec_env(2, start_state=start_state, swarm_cell_size=size, swarm_interval=10**6,
                                   swarm_archive_size=1000, episode_length=10**6, seed=3)
    try:
        _, info = env.reset(seed=3)
        rng = np.random.default_rng(3)
        visits: dict[tuple, int] = {}
        before = set()  # the cells found before the milestone
        set_at = 15
        for t in range(200):
            if t == set_at:
                set_event(env, 1)  # a new milestone: its cells start afresh, the old key's are dominated
            _, _, _, trunc, info = env.step(rng.integers(0, 4, 2))
            assert not trunc.any()
            for i in range(2):
                key, cell = held_key(env, i), cell_of(info, i, size)
                visits[key, cell] = visits.get((key, cell), 0) + 1
                if t < set_at:
                    before.add(cell)
                if not env.archive.dominated(key):
                    assert cell in env.archive.cells(key), (t, i, sorted(key), hex(cell))
        assert env.archive.keys() == [frozenset({0}), frozenset()]
        assert env.archive.cells(()) == sorted(before)
        # After the milestone the empty key is dominated: the cells env 0 found only afterwards were not stored.
        assert any(not key and cell not in before for (key, cell) in visits), "env 0 found no cell after the event"
        top = env.archive.best()
        assert len(top) == 1 and len(env.archive.cells(top)) >= 3, "the env walked into several cells"
        for key, cell in env.archive.frontier_entries():
            assert player_cell(env.archive.state(key, cell), size) == cell
            assert env.archive.visits(key, cell) == visits[key, cell]
    finally:
        env.close()


def test_swarming_moves_envs_to_frontier_cells_bit_exactly_and_a_dominated_key_stores_nothing(start_state):
    env = pokerl_fast.make_vec_env(4, start_state=start_state, swarm_cell_size=4, swarm_interval=40,
                                   swarm_fraction=0.5, episode_length=10**6, seed=1)
    try:
        env.reset(seed=1)
        set_event(env, 0)
        rng = np.random.default_rng(1)
        for t in range(39):
            env.step(rng.integers(0, 4, 4))
        top = frozenset(archive_key(milestones_held(np.asarray(env.emulators[0].wram_view()))))
        assert env.archive.keys() == [top], "envs without the event are dominated: none of their cells is kept"
        states = {env.archive.state(top, c) for c in env.archive.cells(top)}
        _, _, _, trunc, _ = env.step(rng.integers(0, 4, 4))  # step 40: a swarming round
        moved = np.flatnonzero(trunc)
        assert len(moved) == 2
        for i in moved:
            assert env.emulators[i].save_state() in states
    finally:
        env.close()


def test_with_cells_a_resumed_env_repeats_the_same_moves_and_archive(tmp_path, start_state):
    from pokerl_fast.learn import checkpoint

    kw = dict(start_state=start_state, swarm_cell_size=3, swarm_interval=16, swarm_fraction=0.5,
              reset_to_archive=0.5, episode_length=24)
    env, other = pokerl_fast.make_vec_env(3, **kw), pokerl_fast.make_vec_env(3, **kw)
    try:
        env.reset(seed=4)
        rng = np.random.default_rng(4)
        for t in range(50):
            if t == 10:
                set_event(env, 2)
            env.step(rng.integers(0, 4, 3))
        path = checkpoint.save(tmp_path / "checkpoints", 1, {"env": env.get_state()}, {"note": "test"})
        other.reset(seed=9)
        other.set_state(checkpoint.load(checkpoint.latest(path.parent))["env"])
        for _ in range(80):  # swarming rounds and episode ends drawn from the archive
            act = rng.integers(0, 4, 3)
            _, ra, _, ta, _ = env.step(act)
            _, rb, _, tb, _ = other.step(act)
            assert np.array_equal(ra, rb) and np.array_equal(ta, tb)
        assert [e.save_state() for e in env.emulators] == [e.save_state() for e in other.emulators]
        for name, value in env.archive.to_arrays().items():
            np.testing.assert_array_equal(other.archive.to_arrays()[name], value, err_msg=name)
    finally:
        env.close()
        other.close()


def test_explore_reset_on_progress_clears_the_memory_at_a_new_milestone_only(start_state):
    kw = dict(start_state=start_state, episode_length=10**6)
    plain = pokerl_fast.make_vec_env(2, **kw)
    resetting = pokerl_fast.make_vec_env(2, explore_reset_on_progress=True, **kw)
    try:
        plain.reset(seed=0)
        resetting.reset(seed=0)
        rng = np.random.default_rng(0)
        for t in range(60):
            if t == 30:
                set_event(plain, 0)
                set_event(resetting, 0)
            act = rng.integers(0, 4, 2)
            _, ra, _, _, ia = plain.step(act)
            _, rb, _, _, ib = resetting.step(act)
            if t < 30:
                assert np.array_equal(ia["explore"], ib["explore"]) and np.array_equal(ra, rb)
            if t == 30:
                assert ib["explore"][0] == 1 and ia["explore"][0] > 1, "env 0's memory is cleared at its milestone"
                assert ib["explore"][1] == ia["explore"][1], "env 1 reached nothing"
                assert rb[0] == ra[0], "clearing the memory takes no reward back"
        assert ib["explore"][1] == ia["explore"][1]
    finally:
        plain.close()
        resetting.close()


@pytest.mark.parametrize("size", [-1, 256])
def test_a_bad_cell_size_is_one_line(size):
    with pytest.raises(ValueError, match="swarm_cell_size must be in 0..255"):
        pokerl_fast.make_vec_env(1, swarm_cell_size=size)
