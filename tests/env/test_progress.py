"""The milestone tracker alone (no emulator): which milestones a WRAM image holds, per-env episode steps, the
run's first steps, who progressed, and its part of a checkpoint; held at the start vs earned, the run-wide progress
tally; and the stuck detector on the test world."""

import numpy as np
import pytest

from pokerl_fast.env.progress import (
    MILESTONE_NAMES,
    NUM_REQUIRED,
    Progress,
    archive_key,
    earned,
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
    addr, bit = C.EVENT_FLAGS_BY_NAME["EVENT_BEAT_CHAMPION_RIVAL"]
    beaten = int(wram[C.CUR_MAP - C.WRAM_BASE]) == C.MAP_IDS["HALL_OF_FAME"] and bool(int(wram[addr - C.WRAM_BASE]) >> bit & 1)
    return out + [bool(badges >> i & 1) for i in range(8)] + [beaten]


def random_wram(rng, n: int) -> np.ndarray:
    """Dense random bytes for some images, sparse bits (most milestones unset) for the others."""
    dense = rng.integers(0, 256, (n, C.WRAM_SIZE), dtype=np.uint8)
    sparse = (rng.random((n, C.WRAM_SIZE)) < 0.02).astype(np.uint8) << rng.integers(0, 8, (n, C.WRAM_SIZE),
                                                                                    dtype=np.uint8)
    return np.where(np.arange(n)[:, None] % 2 == 0, dense, sparse).astype(np.uint8)


def test_names_are_the_required_events_then_the_badges_then_the_games_end():
    assert MILESTONE_NAMES[:NUM_REQUIRED] == tuple(C.REQUIRED_EVENTS)
    assert MILESTONE_NAMES[NUM_REQUIRED:] == ("BADGE_BOULDER", "BADGE_CASCADE", "BADGE_THUNDER", "BADGE_RAINBOW",
                                              "BADGE_SOUL", "BADGE_MARSH", "BADGE_VOLCANO", "BADGE_EARTH",
                                              "GAME_BEATEN")


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
    p.record([0], held[[0]], np.array([3, 3]), 7, *counts(held), frames=336)
    assert p.first_frames == {MILESTONE_NAMES[1]: 336, MILESTONE_NAMES[NUM_REQUIRED + 1]: 336}
    state = p.get_state(total_steps=7, total_frames=336)
    assert set(state) == {"progress", "milestones", "milestone_frames", "episode_milestones"}
    assert set(state["progress"]) == {"prev_required", "prev_badges", "total_steps", "total_frames"}
    assert state["progress"]["total_steps"].tolist() == [7]
    assert state["progress"]["total_frames"].tolist() == [336]
    loaded = checkpoint.load(checkpoint.save(tmp_path, 1, {"env": state}, {}))["env"]

    q = Progress(2)
    q.set_state(loaded)
    assert q.first_step == p.first_step and q.first_frames == p.first_frames
    assert (q.episode_steps == p.episode_steps).all()
    assert q.progressed(*counts(held)).tolist() == []  # the noted counts came back too
    assert q.take_new_firsts() == []  # restored firsts were reported by the run that reached them

    old = {k: v for k, v in loaded.items() if k not in ("episode_milestones", "milestone_frames")}  # from before them
    r = Progress(2)
    r.set_state(old)
    assert (r.episode_steps == -1).all() and r.first_step == p.first_step and r.first_frames == {}


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


# --- held at the start vs earned, the run-wide tally, the stuck detector ----------------------------------------


def test_milestones_held_at_the_start_are_not_earned_nor_a_run_first():
    p = Progress(2)
    held = np.zeros((2, M), bool)
    held[:, [0, 1]] = True  # both envs start (from a swarmed / archive state) holding two milestones
    p.start_episodes([0, 1], held, *counts(held))
    held[0, 2] = True  # env 0 then earns a third
    p.record([0], held[[0]], np.array([1, 1]), 5, *counts(held))
    assert p.episode_steps[0, :3].tolist() == [0, 0, 1]  # reached at the episode's first step: 1, not 0
    assert p.first_step == {MILESTONE_NAMES[2]: 5}  # the held ones were not reached by the run
    assert p.take_new_firsts() == [(MILESTONE_NAMES[2], 5)]
    assert earned(p.episode_steps)[0, :3].tolist() == [-1, -1, 1]
    assert (earned(p.episode_steps)[1] == -1).all()


def test_episode_stats_count_a_milestone_only_in_episodes_that_earned_it():
    from pokerl_fast.run.logger import EpisodeStats

    stats = EpisodeStats((), MILESTONE_NAMES)
    rows = np.full((4, M), -1)
    rows[:, 0] = [0, 0, 7, -1]  # two held it at the start, one earned it at step 7
    rows[:, 1] = [0, 3, 5, 9]
    n = 4
    info = {"map": np.zeros(n, np.int32), "_episode": np.ones(n, bool), "episode_return": np.zeros(n),
            "episode_length": np.full(n, 10), "final": {"map": np.array([0, 0, 1, 1], np.int32),
                                                         "milestone_steps": rows, "stuck": np.array([1, 0, 0, 0], bool)}}
    stats.record(np.zeros(n), info, n)
    out = stats.drain()
    assert out["episode/milestone_rate/" + MILESTONE_NAMES[0]] == 0.25
    assert out["episode/milestone_step/" + MILESTONE_NAMES[0]] == 7
    assert out["episode/milestone_rate/" + MILESTONE_NAMES[1]] == 0.75
    assert out["episode/stuck_end"] == 0.25
    assert out["progress/reach_rate/" + MILESTONE_NAMES[1]] == 0.75
    assert out["progress/median_steps/" + MILESTONE_NAMES[1]] == 5
    assert out["progress/map_share/PALLET_TOWN"] == out["progress/map_share/VIRIDIAN_CITY"] == 0.5
    assert out["progress/stuck_share"] == 0.25 and out["progress/stuck_episode_ends"] == 1
    assert not any(k.startswith("episode/milestone_") and MILESTONE_NAMES[2] in k for k in out)


def test_progress_tally_on_synthetic_arrays(tmp_path):
    from pokerl_fast.env.tally import ProgressTally, format_progress_table, summary_scalars

    names = ("A", "B", "C")
    t = ProgressTally(names)
    t.add_episodes(np.array([[0, 4, -1], [10, -1, -1], [2, 6, -1]]), np.array([False, True, False]))
    t.add_episodes(np.array([[5, 0, -1]]))
    for maps, stuck in (([1, 1, 2], [0, 0, 0]), ([1, 3, 3], [1, 0, 0]), ([1, 1, 1], [1, 1, 0])):
        t.add_steps(np.array(maps), np.array(stuck, bool))
    s = t.summary()
    assert s["episodes"] == 4 and s["env_steps"] == 9
    assert s["milestones"]["A"] == {"reach_rate": 0.75, "median_steps": 5.0, "reached": 3, "held_at_start": 1}
    assert s["milestones"]["B"] == {"reach_rate": 0.5, "median_steps": 5.0, "reached": 2, "held_at_start": 1}
    assert s["milestones"]["C"] == {"reach_rate": 0.0, "median_steps": None, "reached": 0, "held_at_start": 0}
    assert s["map_share"] == {"VIRIDIAN_CITY": 6 / 9, "CERULEAN_CITY": 2 / 9, "PEWTER_CITY": 1 / 9}
    assert list(s["map_share"]) == ["VIRIDIAN_CITY", "CERULEAN_CITY", "PEWTER_CITY"]  # most time first
    assert s["stuck_share"] == 3 / 9 and s["stuck_episode_ends"] == 1
    tags = summary_scalars(s, "progress")
    assert tags["progress/reach_rate/A"] == 0.75 and tags["progress/median_steps/B"] == 5.0
    assert "progress/reach_rate/C" not in tags and tags["progress/map_share/PEWTER_CITY"] == 1 / 9
    table = format_progress_table(s)
    assert "A" in table and "75.0%" in table and "VIRIDIAN_CITY 66.7%" in table
    # a checkpoint round trip keeps it exact (the trainer saves it with the episode statistics)
    u = ProgressTally(names)
    u.load_state_dict(checkpoint.load(checkpoint.save(tmp_path, 1, {"t": t.state_dict()}, {}))["t"])
    assert u.summary() == s
    t.add_steps(np.array([0]))
    u.add_steps(np.array([0]))
    assert u.summary() == t.summary()


STUCK = 6


@pytest.mark.parametrize("ends", [False, True])
def test_an_env_pressing_only_b_goes_stuck_and_is_reset_when_asked(ends):
    """Pressing B in the bedroom finds no tile and no event: stuck after STUCK steps. Env 1 walks up and down."""
    import pokerl_fast

    envs = pokerl_fast.make_vec_env(2, stuck_steps=STUCK, stuck_ends_episode=ends, episode_length=200,
                                    reset_noop_max=0, num_threads=1)
    try:
        envs.reset(seed=0)
        actions = envs.config.actions
        b = actions.index("b")
        stuck_at, ended_at = [], []
        for t in range(1, 3 * STUCK + 1):
            walk = actions.index("left" if (t // 3) % 2 else "right")
            _, _, _, truncated, info = envs.step(np.array([b, walk]))
            last = info.get("final") or info
            if last["stuck"][0]:
                stuck_at.append(t)
            if truncated[0]:
                ended_at.append(t)
                assert not info["stuck"][0] and envs._elapsed[0] == 0  # reset in the same step
        if ends:
            assert stuck_at == ended_at == [STUCK, 2 * STUCK, 3 * STUCK]  # ended and reset each time
        else:
            assert stuck_at == list(range(STUCK, 3 * STUCK + 1)) and ended_at == []  # stays stuck
        assert envs.get_state()["stuck"]["since_new"].shape == (2,)
    finally:
        envs.close()


def test_a_menu_that_changes_is_not_stuck_and_a_stuck_env_ends_only_in_free_play():
    """Both envs open the start menu (Red's RAM: a text scene). Env 0 moves the cursor every step: the menu
    changes, so it never goes stuck. Env 1 presses LEFT, which the menu ignores: stuck after STUCK steps, yet
    its episode is not ended while the menu is up; the step B closes the menu, it is."""
    import pokerl_fast
    from pokerl_fast._native import _core

    envs = pokerl_fast.make_vec_env(2, stuck_steps=STUCK, stuck_ends_episode=True, episode_length=200,
                                    reset_noop_max=0, num_threads=1)
    try:
        envs.reset(seed=0)
        act = envs.config.actions.index
        _, _, _, truncated, info = envs.step(np.array([act("start"), act("start")]))
        assert info["scene"].tolist() == [_core.SCENE_TEXT] * 2 and not truncated.any()
        for t in range(3 * STUCK):
            _, _, _, truncated, info = envs.step(np.array([act("down" if t % 2 else "up"), act("left")]))
            assert info["scene"].tolist() == [_core.SCENE_TEXT] * 2
            assert info["scene_changed"][0] == 1 and info["scene_changed"][1] == 0
            assert not info["stuck"][0] and not truncated.any()
            assert info["stuck"][1] == (t + 2 >= STUCK)  # the menu's opening step counted too
        for i, emu in enumerate(envs._emus):  # the native read is Red's wFontLoaded as PyBoy's memory shows it
            assert emu.pyboy.memory[C.FONT_LOADED] & 1 == (info["scene"][i] == _core.SCENE_TEXT)
        _, _, _, truncated, info = envs.step(np.array([act("b"), act("b")]))
        final = info["final"]
        assert truncated.tolist() == [False, True] and final["scene"][1] == _core.SCENE_FREE and final["stuck"][1]
    finally:
        envs.close()


def test_stuck_config_is_validated_with_one_line():
    from pokerl_fast.config import EnvConfig

    with pytest.raises(ValueError, match="stuck_steps must be >= 0"):
        EnvConfig(stuck_steps=-1).validate()
    with pytest.raises(ValueError, match="needs the stuck detector on: set stuck_steps > 0"):
        EnvConfig(stuck_ends_episode=True).validate()
