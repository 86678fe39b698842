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
