"""The state archive: keeps new bests, bounded, samples from the frontier, round-trips bit-exactly;
and a state moved between emulators (the swarming move) carries the game exactly."""

import io

import numpy as np
import pytest

from support import save_state

from pokerl_fast.game import constants as C
from pokerl_fast.game.emulator import new_pyboy
from pokerl_fast.env.swarm import BADGE_BASE, StateArchive, make_key, plan_moves


def st(tag: int, size: int = 64) -> bytes:
    return bytes([tag % 256]) * size


def test_keeps_new_keys_and_better_scores_rejects_the_rest():
    a = StateArchive(10)
    assert a.offer((0, 1), st(1), score=1.0)
    assert not a.offer([1, 0], st(2), score=1.0), "equal score is not an improvement"
    assert not a.offer(frozenset({0, 1}), st(3), score=0.5)
    assert a.state((0, 1)) == st(1)
    assert a.offer((1, 0), st(4), score=2.0)
    assert a.state((0, 1)) == st(4) and a.score((0, 1)) == 2.0
    assert a.offer((0,), st(5))
    assert len(a) == 2


def test_frontier_is_the_undominated_keys():
    a = StateArchive(10)
    a.offer((), st(0))
    a.offer((0,), st(1))
    a.offer((0, 1), st(2))
    a.offer((0, 2), st(3))
    a.offer((5,), st(4))
    assert set(a.frontier()) == {frozenset({0, 1}), frozenset({0, 2}), frozenset({5})}
    assert a.frontier()[0] in (frozenset({0, 1}), frozenset({0, 2})), "most achievements first"
    a.offer((0, 1, 2), st(5))
    assert set(a.frontier()) == {frozenset({0, 1, 2}), frozenset({5})}
    assert a.best() == frozenset({0, 1, 2})


def test_sample_only_from_frontier():
    a = StateArchive(10)
    for i, key in enumerate([(), (0,), (0, 1), (3,), (0, 1, 2)]):
        a.offer(key, st(i))
    rng = np.random.default_rng(0)
    got = a.sample(rng, 400)
    assert set(got) == {a.state((0, 1, 2)), a.state((3,))}
    # Both frontier keys are drawn (uniformly): neither is starved.
    assert 120 < sum(s == a.state((3,)) for s in got) < 280
    with pytest.raises(ValueError, match="empty"):
        StateArchive(3).sample(rng, 1)


def test_bounded_evicts_lowest_keys_first():
    a = StateArchive(3)
    a.offer((0,), st(0), score=5.0)
    a.offer((0, 1), st(1))
    a.offer((7,), st(2), score=1.0)
    assert a.offer((0, 1, 2), st(3))
    assert len(a) == 3
    assert (0,) not in a, "a dominated key goes first"
    assert a.offer((0, 1, 2, 3), st(4))
    assert len(a) == 3 and (0, 1) not in a
    assert set(a.keys()) == {frozenset({7}), frozenset({0, 1, 2}), frozenset({0, 1, 2, 3})}
    a.offer((8, 9, 10, 11, 12), st(5))
    assert (0, 1, 2) not in a and (7,) in a, "dominated before undominated, even with more achievements"
    # All left are on the frontier: the fewest achievements, then the lowest score, go.
    assert not a.offer((20,), st(6), score=0.0), "ranks below (7,) with score 1"
    assert a.offer((21,), st(7), score=2.0)
    assert set(a.keys()) == {frozenset({21}), frozenset({0, 1, 2, 3}), frozenset({8, 9, 10, 11, 12})}


def test_new_smallest_key_rejected_when_full():
    a = StateArchive(2)
    a.offer((0, 1), st(0))
    a.offer((2, 3), st(1))
    assert not a.offer((9,), st(2))
    assert (9,) not in a and len(a) == 2


def test_round_trip_bit_exact():
    rng = np.random.default_rng(1)
    a = StateArchive(50)
    for i in range(40):
        key = set(rng.choice(30, size=rng.integers(0, 6), replace=False).tolist())
        a.offer(make_key(key, badges=int(rng.integers(0, 256))), rng.bytes(int(rng.integers(1, 300))),
                score=float(rng.normal()))
    arrays = a.to_arrays()
    assert all(isinstance(v, np.ndarray) and v.dtype != object for v in arrays.values())
    # Through an .npz with pickle refused, as a checkpoint would store it.
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as z:
        b = StateArchive.from_arrays(dict(z))
    assert b.max_size == a.max_size and b.keys() == a.keys() and b.frontier() == a.frontier()
    for k in a.keys():
        assert b.state(k) == a.state(k) and b.score(k) == a.score(k)
    # Same future behaviour: same eviction and sampling.
    rng1, rng2 = np.random.default_rng(7), np.random.default_rng(7)
    assert a.sample(rng1, 20) == b.sample(rng2, 20)
    for arc in (a, b):
        for i in range(20):
            arc.offer((100 + i,), st(i))
    assert a.keys() == b.keys()
    with pytest.raises(ValueError, match="lack"):
        StateArchive.from_arrays({"states": arrays["states"]})
    empty = StateArchive.from_arrays(StateArchive(4).to_arrays())
    assert len(empty) == 0 and empty.max_size == 4


def test_make_key_and_bad_keys():
    assert make_key([3, 1], badges=0b101) == frozenset({1, 3, BADGE_BASE, BADGE_BASE + 2})
    with pytest.raises(ValueError, match="0-255"):
        make_key([], badges=256)
    with pytest.raises(TypeError, match="set of achievement"):
        StateArchive(2).offer("abc", st(0))
    with pytest.raises(ValueError, match="save_state"):
        StateArchive(2).offer((1,), b"")
    with pytest.raises(ValueError, match="max_size"):
        StateArchive(0)


def test_plan_moves():
    rng = np.random.default_rng(3)
    idx = plan_moves(rng, 48, 0.25)
    assert idx.dtype == np.int64 and len(idx) == 12
    assert len(set(idx.tolist())) == 12 and list(idx) == sorted(idx) and 0 <= idx.min() and idx.max() < 48
    assert len(plan_moves(rng, 48, 0.0)) == 0
    assert plan_moves(rng, 5, 1.0).tolist() == [0, 1, 2, 3, 4]
    # Different draws move different envs.
    draws = {tuple(plan_moves(rng, 48, 0.25)) for _ in range(10)}
    assert len(draws) > 1
    with pytest.raises(ValueError, match="fraction"):
        plan_moves(rng, 4, 1.5)


# --- a real swarming move between two emulators on the test world -----------------------------


def _wram(pb) -> bytes:
    return bytes(pb.memory[C.WRAM_BASE:C.WRAM_BASE + C.WRAM_SIZE])




def test_moved_env_continues_bit_exactly():
    from pokerl_fast.game.testworld import testworld_rom_path

    rom = testworld_rom_path()
    src, dst = new_pyboy(rom), new_pyboy(rom)
    try:
        src.tick(240, render=False)
        dst.tick(97, render=False)  # the destination is somewhere else entirely
        for b in ("right", "right", "down", "a", "down", "left"):
            src.button(b)
            src.tick(24, render=False)
        archive = StateArchive(4)
        assert archive.offer((0,), save_state(src))
        [state] = archive.sample(np.random.default_rng(0), 1)
        dst.load_state(io.BytesIO(state))
        assert save_state(dst) == state, "re-saving the moved env changes its state"
        assert _wram(dst) == _wram(src)
        for b in ("up", "up", "right", "a", "b", "down", "left", "start"):
            for pb in (src, dst):
                pb.button(b)
                pb.tick(17, render=False)
            assert _wram(dst) == _wram(src), f"envs diverged after pressing {b}"
        for pb in (src, dst):
            pb.tick(1, render=True)
        np.testing.assert_array_equal(src.screen.ndarray, dst.screen.ndarray)
        assert save_state(dst) == save_state(src)
    finally:
        src.stop(save=False)
        dst.stop(save=False)


# --- cells (Go-Explore): several states per key, drawn by how little envs have been there ----------


def test_cells_keep_a_state_each_within_a_key_and_the_frontier_draws_them_all():
    a = StateArchive(10)
    assert a.offer((0,), st(1), cell=5)
    assert a.offer((0,), st(2), cell=7)
    assert a.offer((), st(3), cell=5)
    assert not a.offer((0,), st(4), cell=7), "the first to reach a cell is kept at equal score"
    assert len(a) == 3 and a.keys() == [frozenset({0}), frozenset()] and a.cells((0,)) == [5, 7]
    assert a.state((0,), 7) == st(2) and a.state((), 5) == st(3)
    assert a.dominated(()) and not a.dominated((0,)) and not a.dominated((1,))
    assert a.frontier_entries() == [(frozenset({0}), 5), (frozenset({0}), 7)]
    got = a.sample_entries(np.random.default_rng(0), 200)
    assert {e for e in got} == {(frozenset({0}), 5), (frozenset({0}), 7)}  # the dominated key's cell never
    with pytest.raises(ValueError, match="cell"):
        a.offer((0,), st(5), cell=-1)


def test_observe_counts_visits_and_names_new_cells_once_marked():
    a = StateArchive(10)
    k0, k1 = a.key_id((0,)), a.key_id((0, 1))
    assert (k0, k1) == (0, 1) and a.key_id(frozenset({0})) == 0
    ids, cells = np.array([k0, k0, k1, k0]), np.array([3, 3, 3, 9])
    assert a.observe(ids, cells).tolist() == [True, True, True, True]
    a.mark_seen(ids, cells)  # the first sighting counts as a visit each
    assert a.visits((0,), 3) == 2 and a.visits((0, 1), 3) == 1 and a.visits((0,), 9) == 1
    assert a.observe(np.array([k0, k1, k1]), np.array([3, 3, 4])).tolist() == [False, False, True]
    assert a.visits((0,), 3) == 3 and a.visits((0, 1), 3) == 2 and a.visits((0, 1), 4) == 0
    assert a.visits((5,), 3) == 0  # a key no env reported


def test_cells_are_drawn_with_weight_one_over_sqrt_one_plus_visits():
    a = StateArchive(10)
    visits = {1: 0, 2: 3, 3: 99}
    for cell, v in visits.items():
        a.offer((0,), st(cell), cell=cell)
        ids, cells = np.full(v + 1, a.key_id((0,))), np.full(v + 1, cell)
        a.mark_seen(ids[:1], cells[:1])
        a.observe(ids[1:], cells[1:])
    assert {c: a.visits((0,), c) for c in visits} == {1: 1, 2: 4, 3: 100}
    got = [c for _, c in a.sample_entries(np.random.default_rng(3), 20000)]
    w = np.array([1 / np.sqrt(2), 1 / np.sqrt(5), 1 / np.sqrt(101)])
    expect = w / w.sum()
    share = np.array([got.count(c) for c in visits]) / len(got)
    np.testing.assert_allclose(share, expect, atol=0.015)


def test_a_full_archive_with_cells_evicts_the_dominated_then_the_most_visited():
    a = StateArchive(3)
    a.offer((), st(0), cell=1)
    a.offer((0,), st(1), cell=1)
    a.offer((0,), st(2), cell=2)
    a.mark_seen(np.array([a.key_id((0,))] * 3), np.array([1, 2, 2]))  # cell 2 visited twice, cell 1 once
    assert a.offer((0,), st(3), cell=3)
    assert a.keys() == [frozenset({0})], "the dominated key went first"
    assert a.offer((0,), st(4), cell=4)
    assert a.cells((0,)) == [1, 3, 4], "then the most visited cell"


def test_round_trip_with_cells_visits_and_ids_and_an_archive_saved_before_cells():
    a = StateArchive(20)
    rng = np.random.default_rng(5)
    for i in range(15):
        key = tuple(rng.choice(6, size=rng.integers(0, 3), replace=False).tolist())
        a.offer(key, rng.bytes(500), score=float(rng.normal()), cell=int(rng.integers(0, 50)))
        a.mark_seen(np.array([a.key_id(key)]), np.array([int(rng.integers(0, 50))]))
    buf = io.BytesIO()
    np.savez(buf, **a.to_arrays())
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as z:
        b = StateArchive.from_arrays(dict(z))
    for name, value in a.to_arrays().items():
        np.testing.assert_array_equal(b.to_arrays()[name], value, err_msg=name)
    assert a.sample_entries(np.random.default_rng(1), 50) == b.sample_entries(np.random.default_rng(1), 50)
    # An archive written before cells existed: raw states, no cells, no visits.
    old = {"max_size": np.array([4]), "next_order": np.array([2]), "key_lengths": np.array([1, 2]),
           "key_items": np.array([0, 0, 1]), "scores": np.array([0.0, -3.0]), "orders": np.array([0, 1]),
           "state_lengths": np.array([64, 64]), "states": np.frombuffer(st(1) + st(2), np.uint8)}
    c = StateArchive.from_arrays(old)
    assert c.state((0,)) == st(1) and c.state((0, 1)) == st(2) and c.cells((0, 1)) == [0] and c.best() == {0, 1}


def test_states_are_kept_compressed():
    a = StateArchive(2)
    state = bytes(150_000) + b"\x01\x02"
    a.offer((0,), state)
    assert a.state((0,)) == state
    assert len(a.to_arrays()["states"]) < 2_000
