"""Progress mechanics in the kernels (explore_boost, revisit decay, reset_exploration, the progress observation) agree with
pokerl_fast.env.reference on random and real inputs."""

import numpy as np
import pytest

from pokerl_fast.game import constants as C
from pokerl_fast.env import reference as ref
from pokerl_fast._native import _core as K

from test_kernels import Harness, at, perturb, plausible_wram, random_screen


def completion_wram(rng):
    """Plausible WRAM on a map with completion events, each of them set or unset at random."""
    w = plausible_wram(rng)
    w[at(C.CUR_MAP)] = rng.choice(list(C.MAP_COMPLETION_EVENTS) + [38, 12])  # and two maps without an entry
    for names in C.MAP_COMPLETION_EVENTS.values():
        for name in names:
            addr, bit = C.EVENT_FLAGS_BY_NAME[name]
            w[at(addr)] = (w[at(addr)] & ~np.uint8(1 << bit)) | np.uint8(int(rng.random() < 0.7) << bit)
    return w


def test_completion_table_names_real_maps_and_events():
    assert C.NUM_MAP_COMPLETION_EVENTS == sum(len(v) for v in C.MAP_COMPLETION_EVENTS.values())
    for map_id, names in C.MAP_COMPLETION_EVENTS.items():
        assert 0 <= map_id < 256 and names
        assert all(n in C.EVENT_FLAGS_BY_NAME for n in names)
    assert C.MAP_COMPLETION_EVENTS[40][-1] == "EVENT_GOT_POKEDEX"  # OAKS_LAB
    assert C.MAP_COMPLETION_EVENTS[0] == ("EVENT_FOLLOWED_OAK_INTO_LAB",)  # PALLET_TOWN


def test_map_unfinished_matches_reference_on_random_wram():
    rng = np.random.default_rng(21)
    seen = set()
    for _ in range(400):
        w = completion_wram(rng) if rng.random() < 0.8 else rng.integers(0, 256, C.WRAM_SIZE, dtype=np.uint8)
        want = ref.map_unfinished(ref.decode_ram(w))
        assert K.map_unfinished(w) == want
        seen.add(want)
    assert seen == {True, False}


def test_map_unfinished_is_false_on_unlisted_maps_and_once_all_events_are_set():
    w = np.zeros(C.WRAM_SIZE, np.uint8)
    w[at(C.CUR_MAP)] = 38  # REDS_HOUSE_2F: no entry
    assert not K.map_unfinished(w)
    w[at(C.CUR_MAP)] = 40  # OAKS_LAB
    for name in C.MAP_COMPLETION_EVENTS[40][:-1]:
        addr, bit = C.EVENT_FLAGS_BY_NAME[name]
        w[at(addr)] |= np.uint8(1 << bit)
    assert K.map_unfinished(w)
    addr, bit = C.EVENT_FLAGS_BY_NAME["EVENT_GOT_POKEDEX"]
    w[at(addr)] |= np.uint8(1 << bit)
    assert not K.map_unfinished(w)


def test_progress_features_match_reference_on_random_wram():
    rng = np.random.default_rng(22)
    for _ in range(200):
        w = plausible_wram(rng) if rng.random() < 0.7 else rng.integers(0, 256, C.WRAM_SIZE, dtype=np.uint8)
        if rng.random() < 0.5:  # key items in the bag
            n = int(rng.integers(1, 6))
            w[at(C.NUM_BAG_ITEMS)] = n
            for i in range(n):
                w[at(C.BAG_ITEMS) + 2 * i] = rng.choice(C.KEY_ITEMS)
            w[at(C.BAG_ITEMS) + 2 * n] = 0xFF
        np.testing.assert_array_equal(K.encode_progress(w), ref.progress_features(ref.decode_ram(w), w))
    assert K.NUM_PROGRESS_FEATURES == 3 * C.PARTY_MAX + len(C.KEY_ITEMS) + C.NUM_REQUIRED_EVENTS


class MechHarness(Harness):
    def __init__(self, n, seed, boost, half_life=0.0, levels_cap=0.0):
        super().__init__(n, seed=seed)
        rng = np.random.default_rng(seed + 100)
        for i in range(n):
            self.wram[i] = completion_wram(rng)
        self.k.set_mechanics(boost, True, half_life, levels_cap)
        self.refs = [ref.ReferenceEnv(self.weights, explore_boost=boost, observe_progress=True,
                                      revisit_half_life=half_life, levels_cap=levels_cap) for _ in range(n)]

    def reset_exploration(self, ids):
        self.k.reset_exploration(ids)
        return {i: self.refs[i].reset_exploration(self.screen[i]) for i in ids}


@pytest.mark.parametrize("half_life, levels_cap", [(0.0, 0.0), (6.0, 0.0), (0.0, 9.0)])
def test_random_walks_with_boost_reset_exploration_and_progress_match_reference(half_life, levels_cap):
    rng = np.random.default_rng(23)
    h = MechHarness(4, 23, boost=2.5, half_life=half_life, levels_cap=levels_cap)
    resets = 0
    for t in range(300):
        for i in range(4):
            perturb(rng, h.wram[i])
            if rng.random() < 0.05:
                h.wram[i, at(C.CUR_MAP)] = rng.choice(list(C.MAP_COMPLETION_EVENTS))
            if rng.random() < 0.3:
                h.screen[i] = random_screen(rng)
        for i, want in enumerate(h.step()):
            h.assert_env_matches(i, want)
        if rng.random() < 0.1:
            ids = sorted(set(rng.integers(0, 4, 2).tolist()))
            before = h.buffers["term_sums"][ids].copy()
            for i, want in h.reset_exploration(ids).items():
                want = {k: v for k, v in want.items() if k not in ("reward", "term_sums")}  # the step's stay
                h.assert_env_matches(i, want)
                assert h.buffers["info_explore"][i] == 1
            np.testing.assert_array_equal(h.buffers["term_sums"][ids], before)
            resets += 1
        if rng.random() < 0.02:
            ids = [int(rng.integers(0, 4))]
            for i, want in h.reset(ids).items():
                h.assert_env_matches(i, want)
    assert resets > 10
    # Boost paid somewhere: the explore score is not the unique-tile count.
    assert any(r.reward.score[0] != int(r.reward.score[0]) for r in h.refs)


def test_reset_exploration_repays_tiles_without_a_negative_reward():
    weights = np.zeros(K.NUM_TERMS, np.float32)
    weights[K.TERM_NAMES.index("explore")] = 1.0
    h = Harness(1, weights=weights, seed=5)
    h.wram[0, at(C.CUR_MAP)] = 12  # ROUTE_1: no completion events
    h.wram[0, at(C.X_COORD)], h.wram[0, at(C.Y_COORD)] = 5, 5
    h.k.reset([0])
    rewards = []
    for x in (6, 7, 6, 5):  # two new tiles, then back over known ones
        h.wram[0, at(C.X_COORD)] = x
        h.k.update()
        rewards.append(float(h.buffers["reward"][0]))
    assert rewards == [1.0, 1.0, 0.0, 0.0]
    h.k.reset_exploration([0])
    assert h.buffers["info_explore"][0] == 1
    for x in (6, 7):
        h.wram[0, at(C.X_COORD)] = x
        h.k.update()
        rewards.append(float(h.buffers["reward"][0]))
    assert rewards[4:] == [1.0, 1.0] and min(rewards) >= 0
    assert h.buffers["term_sums"][0, K.TERM_NAMES.index("explore")] == 4.0


def test_boost_one_keeps_the_explore_score_the_unique_tile_count():
    rng = np.random.default_rng(24)
    h = MechHarness(2, 24, boost=1.0)
    for _ in range(100):
        for i in range(2):
            perturb(rng, h.wram[i])
        for i, want in enumerate(h.step()):
            h.assert_env_matches(i, want)
    for r in h.refs:
        assert r.reward.score[0] == r.explore.count


def _explore_walk(half_life, xs, start=5):
    """Rewards (explore weight 1, Route 1: no completion events) of a walk along x on one row."""
    weights = np.zeros(K.NUM_TERMS, np.float32)
    weights[K.TERM_NAMES.index("explore")] = 1.0
    h = Harness(1, weights=weights, seed=5)
    h.k.set_mechanics(1.0, False, half_life)
    h.wram[0, at(C.CUR_MAP)] = C.MAP_IDS["ROUTE_1"]
    h.wram[0, at(C.X_COORD)], h.wram[0, at(C.Y_COORD)] = start, 5
    h.k.reset([0])
    rewards = []
    for x in xs:
        h.wram[0, at(C.X_COORD)] = x
        h.k.update()
        rewards.append(float(h.buffers["reward"][0]))
    return h, rewards


def test_revisit_decay_pays_back_what_a_known_tile_lost_since_the_player_stood_there():
    # Steps 1-5: x = 6, 7 (new), 6 (left 2 steps ago), 5 (left 4 steps ago: the start), 5 again (1 step).
    _, rewards = _explore_walk(2.0, [6, 7, 6, 5, 5])
    np.testing.assert_allclose(rewards, [1.0, 1.0, 1 - 2 ** -1, 1 - 2 ** -2, 1 - 2 ** -0.5], rtol=1e-6)
    _, off = _explore_walk(0.0, [6, 7, 6, 5, 5])
    assert off == [1.0, 1.0, 0.0, 0.0, 0.0]
    # Pacing between two tiles pays little; coming back after a long walk pays nearly a new tile.
    _, pace = _explore_walk(100.0, [6, 5] * 20)
    assert max(pace[2:]) < 0.02
    _, loop = _explore_walk(100.0, list(range(6, 206)) + [205])
    assert loop[-1] == pytest.approx(1 - 2 ** -0.01, rel=1e-5)
    h, back = _explore_walk(10.0, list(range(6, 60)) + list(range(58, 4, -1)))
    assert 0.9 < back[-1] < 1.0  # the start tile, left 107 steps ago


def test_revisit_decay_state_travels_in_checkpoints_only_when_on():
    rng = np.random.default_rng(31)
    a = MechHarness(2, 31, boost=2.0, half_life=8.0)
    for _ in range(80):
        for i in range(2):
            perturb(rng, a.wram[i])
        a.k.update()
    state = a.k.get_state()
    assert state["revisit_stamps"].shape == (2, C.KANTO_WIDTH * C.KANTO_HEIGHT)
    assert (state["revisit_clock"] == 79).all()  # the first update was the implicit reset (clock 0)
    b, buffers = a.twin()
    b.set_mechanics(2.0, True, 8.0)
    b.set_state(state)
    for _ in range(60):
        for i in range(2):
            perturb(rng, a.wram[i])
        a.k.update()
        b.update()
        for name in K.BUFFER_SPECS:
            np.testing.assert_array_equal(buffers[name], a.buffers[name], err_msg=name)
    assert "revisit_stamps" not in MechHarness(2, 31, boost=2.0).k.get_state()
    with pytest.raises(ValueError, match="revisit_half_life must be >= 0"):
        b.set_mechanics(1.0, False, -1.0)
    bad = dict(state, revisit_stamps=state["revisit_stamps"][:, :10])
    with pytest.raises(ValueError, match="revisit_stamps"):
        b.set_state(bad)
