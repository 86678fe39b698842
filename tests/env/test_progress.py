"""The milestone tracker alone (no emulator): which milestones a WRAM image holds, per-env episode steps, the
run's first steps, who progressed, and its part of a checkpoint."""

import numpy as np

from pokerl_fast.env.progress import (
    MILESTONE_NAMES,
    NUM_REQUIRED,
    Progress,
    archive_key,
    milestones_held,
    steps_by_milestone,
)
from pokerl_fast.env.swarm import make_key
from pokerl_fast.game import constants as C
from pokerl_fast.learn import checkpoint

M = len(MILESTONE_NAMES)


def held_by_hand(wram: np.ndarray) -> list[bool]:
    """One bit at a time, straight from the constants."""
    out = []
    for name in C.REQUIRED_EVENTS:
        addr, bit = C.EVENT_FLAGS_BY_NAME[name]
        out.append(bool(int(wram[addr - C.WRAM_BASE]) >> bit & 1))
    badges = int(wram[C.OBTAINED_BADGES - C.WRAM_BASE])
    return out + [bool(badges >> i & 1) for i in range(8)]


def random_wram(rng, n: int) -> np.ndarray:
    """Dense random bytes for some images, sparse bits (most milestones unset) for the others."""
    dense = rng.integers(0, 256, (n, C.WRAM_SIZE), dtype=np.uint8)
    sparse = (rng.random((n, C.WRAM_SIZE)) < 0.02).astype(np.uint8) << rng.integers(0, 8, (n, C.WRAM_SIZE),
                                                                                    dtype=np.uint8)
    return np.where(np.arange(n)[:, None] % 2 == 0, dense, sparse).astype(np.uint8)


def test_names_are_the_required_events_then_the_badges():
    assert MILESTONE_NAMES[:NUM_REQUIRED] == tuple(C.REQUIRED_EVENTS)
    assert MILESTONE_NAMES[NUM_REQUIRED:] == ("BADGE_BOULDER", "BADGE_CASCADE", "BADGE_THUNDER", "BADGE_RAINBOW",
                                              "BADGE_SOUL", "BADGE_MARSH", "BADGE_VOLCANO", "BADGE_EARTH")


def test_held_milestones_match_a_per_bit_check_on_random_wram():
    rng = np.random.default_rng(0)
    wram = random_wram(rng, 64)
    held = milestones_held(wram)
    assert held.shape == (64, M) and held.dtype == bool
    for w, row in zip(wram, held):
        assert row.tolist() == held_by_hand(w)
        assert milestones_held(w).tolist() == row.tolist()  # one image alone: the same row
    assert held.any() and not held.all()


def test_archive_key_is_the_swarm_key_of_the_held_events_and_badge_byte():
    rng = np.random.default_rng(1)
    for w in random_wram(rng, 16):
        row = milestones_held(w)
        expect = make_key(np.flatnonzero(row[:NUM_REQUIRED]).tolist(), int(w[C.OBTAINED_BADGES - C.WRAM_BASE]))
        assert archive_key(row) == expect
    assert archive_key(np.zeros(M, bool)) == frozenset()


def counts(held: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What the env's info arrays would say: required events and badges held, per env."""
    return held[:, :NUM_REQUIRED].sum(1).astype(np.int32), held[:, NUM_REQUIRED:].sum(1).astype(np.int32)


def test_episode_steps_first_steps_and_who_progressed():
    n = 3
    badge = NUM_REQUIRED  # BADGE_BOULDER
    p = Progress(n)
    held = np.zeros((n, M), bool)
    held[0, 2] = True  # env 0 starts its episode with required event 2
    p.start_episodes(np.arange(n), held, *counts(held))
    assert p.episode_steps[0, 2] == 0 and (np.delete(p.episode_steps[0], 2) == -1).all()
    assert (p.episode_steps[1:] == -1).all()
    assert p.first_step == {}  # held at the start is not reached by the run
    assert p.progressed(*counts(held)).tolist() == []

    elapsed = np.array([4, 5, 6])
    held[1, [2, 7]] = True
    assert p.progressed(*counts(held)).tolist() == [1]
    p.record([1], held[[1]], elapsed, 10, *counts(held))
    assert p.episode_steps[1, 2] == 5 and p.episode_steps[1, 7] == 5
    assert p.episode_steps[0, 2] == 0  # other envs untouched
    assert p.first_step == {MILESTONE_NAMES[2]: 10, MILESTONE_NAMES[7]: 10}
    assert p.progressed(*counts(held)).tolist() == []  # noted
    assert p.take_new_firsts() == [(MILESTONE_NAMES[2], 10), (MILESTONE_NAMES[7], 10)]
    assert p.take_new_firsts() == []

    elapsed = np.array([8, 9, 10])
    held[1, badge] = True
    held[2, [7, badge + 3]] = True
    assert p.progressed(*counts(held)).tolist() == [1, 2]
    p.record([1, 2], held[[1, 2]], elapsed, 14, *counts(held))
    assert p.episode_steps[1, [2, 7, badge]].tolist() == [5, 5, 9]  # earlier steps kept, the new one dated
    assert p.episode_steps[2, [7, badge + 3]].tolist() == [10, 10]
    assert p.first_step[MILESTONE_NAMES[7]] == 10  # the run's first stays the first
    # env by env, in milestone order within an env
    assert p.take_new_firsts() == [(MILESTONE_NAMES[badge], 14), (MILESTONE_NAMES[badge + 3], 14)]

    p.start_episodes([1], np.zeros((1, M), bool), *counts(np.zeros((n, M), bool)))
    assert (p.episode_steps[1] == -1).all() and p.episode_steps[2, 7] == 10
    assert len(p.first_step) == 4  # the run's firsts survive episode ends


def test_state_round_trips_through_a_checkpoint(tmp_path):
    p = Progress(2)
    held = np.zeros((2, M), bool)
    p.start_episodes([0, 1], held, *counts(held))
    held[0, [1, NUM_REQUIRED + 1]] = True
    p.record([0], held[[0]], np.array([3, 3]), 7, *counts(held))
    state = p.get_state(total_steps=7)
    assert set(state) == {"progress", "milestones", "episode_milestones"}
    assert set(state["progress"]) == {"prev_required", "prev_badges", "total_steps"}
    assert state["progress"]["total_steps"].tolist() == [7]
    loaded = checkpoint.load(checkpoint.save(tmp_path, 1, {"env": state}, {}))["env"]

    q = Progress(2)
    q.set_state(loaded)
    assert q.first_step == p.first_step
    assert (q.episode_steps == p.episode_steps).all()
    assert q.progressed(*counts(held)).tolist() == []  # the noted counts came back too
    assert q.take_new_firsts() == []  # restored firsts were reported by the run that reached them

    old = {k: v for k, v in loaded.items() if k != "episode_milestones"}  # a state from before per-env rows
    r = Progress(2)
    r.set_state(old)
    assert (r.episode_steps == -1).all() and r.first_step == p.first_step


def test_steps_by_milestone_matches_a_plain_loop():
    rng = np.random.default_rng(2)
    rows = np.where(rng.random((9, M)) < 0.1, rng.integers(0, 50, (9, M)), -1)
    got = {name: steps.tolist() for name, steps in steps_by_milestone(rows)}
    want = {}
    for k, name in enumerate(MILESTONE_NAMES):
        steps = [int(rows[e, k]) for e in range(len(rows)) if rows[e, k] >= 0]
        if steps:
            want[name] = steps
    assert got == want and list(got) == list(want)
    assert steps_by_milestone(np.full((0, M), -1)) == []
