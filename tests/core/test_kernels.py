"""The native kernels (csrc/ via the _core binding) agree with the plain references in pokerl_fast.env.reference,
on random inputs, on hand-built edge cases, and on real PyBoy states of the test world."""

import numpy as np
import pytest

from pokerl_fast.game import constants as C
from pokerl_fast.game import testworld as tw
from pokerl_fast.game.testworld import world as TW
from pokerl_fast.env import reference as ref
from pokerl_fast._native import _core as K

COLOURS = np.array([[255, 255, 255, 255], [153, 153, 153, 255], [85, 85, 85, 255], [0, 0, 0, 255]], np.uint8)
MAPPED = [m[0] for m in C.MAPS]
UNMAPPED = [m for m in range(256) if m not in ref.MAP_OFFSETS]


def at(addr):
    return addr - C.WRAM_BASE


def random_screen(rng):
    return COLOURS[rng.integers(0, 4, (C.SCREEN_H, C.SCREEN_W))]


def plausible_wram(rng):
    """Random bytes with the fields the kernels read set to values the game could hold."""
    w = rng.integers(0, 256, C.WRAM_SIZE, dtype=np.uint8)
    w[at(C.CUR_MAP)] = rng.choice(MAPPED)
    w[at(C.X_COORD)], w[at(C.Y_COORD)] = rng.integers(0, 20, 2)
    w[at(C.PARTY_COUNT)] = rng.integers(1, 7)
    for i in range(6):
        o = i * C.PARTY_MON_STRIDE
        mx = int(rng.integers(10, 300))
        w[at(C.PARTY_MON1_MAX_HP + o): at(C.PARTY_MON1_MAX_HP + o) + 2] = (mx >> 8, mx & 0xFF)
        hp = int(rng.integers(1, mx + 1))
        w[at(C.PARTY_MON1_HP + o): at(C.PARTY_MON1_HP + o) + 2] = (hp >> 8, hp & 0xFF)
        w[at(C.PARTY_MON1_LEVEL + o)] = rng.integers(2, 60)
        w[at(C.PARTY_SPECIES + i)] = w[at(C.PARTY_MON1_SPECIES + o)]  # a whole mon: the list names its struct's
    w[at(C.IS_IN_BATTLE)] = 0
    w[at(C.NUM_BAG_ITEMS)] = 3
    w[at(C.BAG_ITEMS): at(C.BAG_ITEMS) + 7] = (4, 5, 20, 1, 11, 2, 0xFF)
    w[at(C.EVENT_FLAGS): at(C.EVENT_FLAGS) + C.EVENT_FLAGS_BYTES] &= rng.integers(0, 256, C.EVENT_FLAGS_BYTES, dtype=np.uint8)
    return w


class Harness:
    """num_envs envs whose WRAM and screens are numpy arrays we own, read by Kernels through their addresses."""

    def __init__(self, num_envs, weights=None, seed=0, global_counts=None):
        rng = np.random.default_rng(seed)
        self.wram = np.stack([plausible_wram(rng) for _ in range(num_envs)])
        self.screen = np.stack([random_screen(rng) for _ in range(num_envs)])
        self.weights = np.asarray(rng.uniform(-1, 1, K.NUM_TERMS) if weights is None else weights, np.float32)
        self.buffers = K.allocate_buffers(num_envs)
        wptr = np.array([self.wram[i].ctypes.data for i in range(num_envs)], np.uint64)
        sptr = np.array([self.screen[i].ctypes.data for i in range(num_envs)], np.uint64)
        self.k = K.Batch.from_pointers(num_envs, wptr, sptr, self.weights, self.buffers, global_counts)
        self.refs = [ref.ReferenceEnv(self.weights) for _ in range(num_envs)]
        self.ref_counts = np.zeros(K.KANTO_SHAPE, np.uint32)

    def twin(self):
        """A second Batch over the same emulator memory with buffers of its own: (batch, buffers)."""
        n = len(self.wram)
        buffers = K.allocate_buffers(n)
        wptr = np.array([self.wram[i].ctypes.data for i in range(n)], np.uint64)
        sptr = np.array([self.screen[i].ctypes.data for i in range(n)], np.uint64)
        return K.Batch.from_pointers(n, wptr, sptr, self.weights, buffers), buffers

    def step(self):
        self.k.update()
        return [r.update(self.wram[i], self.screen[i], self.ref_counts) for i, r in enumerate(self.refs)]

    def reset(self, ids):
        self.k.reset(ids)
        return {i: self.refs[i].reset(self.wram[i], self.screen[i]) for i in ids}

    def assert_env_matches(self, i, expected):
        for name, value in expected.items():
            got = self.buffers[name][i]
            if name == "term_sums":
                np.testing.assert_allclose(got, value, rtol=1e-6, atol=1e-6, err_msg=name)
            elif name == "reward":
                np.testing.assert_allclose(got, value, rtol=1e-6, atol=1e-6, err_msg=name)
            else:
                np.testing.assert_array_equal(got, value, err_msg=f"env {i} {name}")


# ---------------------------------------------------------------- constants and decode


def test_exported_names_match_reference():
    assert K.TERM_NAMES == ref.TERM_NAMES
    assert K.INFO_NAMES == ref.INFO_NAMES
    assert K.RAM_FEATURE_NAMES == ref.RAM_FEATURE_NAMES
    assert K.NUM_RAM_FEATURES == len(ref.RAM_FEATURE_NAMES) == 30
    assert K.KANTO_SHAPE == (C.KANTO_HEIGHT, C.KANTO_WIDTH)
    assert K.OBS_SCREEN_SHAPE == K.OBS_VISITED_SHAPE == (C.OBS_H, C.OBS_PACKED_W)


def assert_decode_equal(got, want):
    assert set(got) == set(want)
    for key in want:
        np.testing.assert_array_equal(np.asarray(got[key]), np.asarray(want[key]), err_msg=key)


@pytest.mark.parametrize("plausible", [False, True])
def test_decode_random_wram_matches_reference(plausible):
    rng = np.random.default_rng(1)
    for _ in range(150):
        w = plausible_wram(rng) if plausible else rng.integers(0, 256, C.WRAM_SIZE, dtype=np.uint8)
        assert_decode_equal(K.decode(w), ref.decode_ram(w))
        assert K.ready_for_input(w) == ref.ready_for_input(w)


def test_decode_party_count_over_six_clamps_and_empty_slots_are_zero():
    w = np.full(C.WRAM_SIZE, 0x11, np.uint8)
    w[at(C.PARTY_COUNT)] = 0xFF
    d = K.decode(w)
    assert d["party_count"] == 6
    assert d["hp"].tolist() == [0x1111] * 6
    w[at(C.PARTY_COUNT)] = 2
    d = K.decode(w)
    assert d["levels"].tolist() == [0x11, 0x11, 0, 0, 0, 0]
    assert d["hp"].tolist() == [0x1111, 0x1111, 0, 0, 0, 0]
    assert d["level_sum"] == 0x22 and d["max_hp_sum"] == 2 * 0x1111
    assert_decode_equal(d, ref.decode_ram(w))


def test_decode_bag_stops_at_ff_and_at_twenty():
    w = np.zeros(C.WRAM_SIZE, np.uint8)
    w[at(C.NUM_BAG_ITEMS)] = 10
    w[at(C.BAG_ITEMS): at(C.BAG_ITEMS) + 9] = (1, 9, 2, 8, 3, 7, 0xFF, 5, 5)
    d = K.decode(w)
    assert d["num_bag_items"] == 3 and d["bag_ids"].tolist() == [1, 2, 3] and d["bag_qty"].tolist() == [9, 8, 7]
    w[at(C.NUM_BAG_ITEMS)] = 200
    w[at(C.BAG_ITEMS): at(C.BAG_ITEMS) + 60] = np.arange(60) % 0xF0 + 1
    d = K.decode(w)
    assert d["num_bag_items"] == 20 and d["bag_ids"].tolist() == list(range(1, 41, 2))
    assert_decode_equal(d, ref.decode_ram(w))


def test_decode_money_bcd_and_big_endian_hp():
    w = np.zeros(C.WRAM_SIZE, np.uint8)
    w[at(C.PLAYER_MONEY): at(C.PLAYER_MONEY) + 3] = (0x12, 0x34, 0x56)
    w[at(C.PARTY_COUNT)] = 1
    w[at(C.PARTY_MON1_HP): at(C.PARTY_MON1_HP) + 2] = (0x01, 0x02)
    w[at(C.PARTY_MON1_MAX_HP): at(C.PARTY_MON1_MAX_HP) + 2] = (0x02, 0x01)
    d = K.decode(w)
    assert d["money"] == 123456
    assert d["hp"][0] == 258 and d["max_hp"][0] == 513


TEXT_ARROW = C.TEXT_ARROW_ROW * C.TILE_MAP_WIDTH + C.TEXT_ARROW_COL  # the blinking arrow's cell in wTileMap


@pytest.mark.parametrize("plausible", [False, True])
def test_scene_and_its_fingerprint_match_reference_on_random_wram(plausible):
    rng = np.random.default_rng(5)
    scenes = set()
    for _ in range(200):
        w = plausible_wram(rng) if plausible else rng.integers(0, 256, C.WRAM_SIZE, dtype=np.uint8)
        w[at(C.IS_IN_BATTLE)] = rng.choice([0, 0, 1, 2, 0xFF])
        assert K.scene_of(w) == ref.scene_of(w)
        assert K.scene_fingerprint(w) == ref.scene_fingerprint(w)
        scenes.add(K.scene_of(w))
    assert scenes == {K.SCENE_FREE, K.SCENE_TEXT, K.SCENE_BATTLE}


def test_scene_reads_battle_then_the_font_bit_and_the_fingerprint_skips_only_the_arrow():
    w = np.zeros(C.WRAM_SIZE, np.uint8)
    assert K.scene_of(w) == K.SCENE_FREE
    w[at(C.FONT_LOADED)] = 0xFE  # other bits of wFontLoaded are not the text box's
    assert K.scene_of(w) == K.SCENE_FREE
    w[at(C.FONT_LOADED)] = 1 << C.BIT_FONT_LOADED
    assert K.scene_of(w) == K.SCENE_TEXT
    for battle in (1, 2, 0xFF):
        w[at(C.IS_IN_BATTLE)] = battle
        assert K.scene_of(w) == K.SCENE_BATTLE
    base = K.scene_fingerprint(w)
    w[at(C.TILE_MAP) + TEXT_ARROW] = 0xEE  # the arrow blinks: the scene has not changed
    assert K.scene_fingerprint(w) == base
    changes = [at(C.TILE_MAP), at(C.TILE_MAP) + TEXT_ARROW - 1, at(C.TILE_MAP) + TEXT_ARROW + 1,
               at(C.TILE_MAP) + C.TILE_MAP_WIDTH * C.TILE_MAP_HEIGHT - 1, at(C.CURRENT_MENU_ITEM),
               at(C.BATTLE_MON_HP), at(C.BATTLE_MON_HP) + 1, at(C.ENEMY_MON_HP), at(C.ENEMY_MON_HP) + 1]
    for addr in changes:
        w[addr] ^= 1
        assert K.scene_fingerprint(w) != base, hex(addr + C.WRAM_BASE)
        w[addr] ^= 1
    assert K.scene_fingerprint(w) == base
    w[at(C.TILE_MAP) + C.TILE_MAP_WIDTH * C.TILE_MAP_HEIGHT] ^= 1  # past the tile map: not the scene
    assert K.scene_fingerprint(w) == base


def test_game_beaten_is_the_hall_of_fame_with_the_champion_beaten_native_and_reference_agree():
    h, w = one_env()
    addr, bit = C.EVENT_BEAT_CHAMPION_RIVAL_ADDR, C.EVENT_BEAT_CHAMPION_RIVAL_BIT
    h.k.reset([0])
    h.refs[0].reset(h.wram[0], h.screen[0])
    seen = []
    for map_id, flag in ((C.MAP_HALL_OF_FAME, 0), (C.MAP_IDS["CHAMPIONS_ROOM"], 1), (C.MAP_HALL_OF_FAME, 1),
                         (C.MAP_HALL_OF_FAME, 0)):  # Red's HallOfFame script clears the flag again
        w[at(C.CUR_MAP)] = map_id
        w[at(addr)] = int(w[at(addr)]) & ~(1 << bit) & 0xFF | flag << bit
        want = h.step()[0]
        h.assert_env_matches(0, want)
        seen.append(int(h.buffers["info_game_beaten"][0]))
        assert ref.game_beaten(w) == bool(seen[-1])
    assert seen == [0, 0, 1, 0]


def test_scene_changed_is_one_for_a_step_that_changed_the_scene_and_zero_at_a_reset():
    h, w = one_env(np.ones(K.NUM_TERMS, np.float32))
    w[at(C.FONT_LOADED)] = 1
    h.k.reset([0])
    assert h.buffers["info_scene"][0] == K.SCENE_TEXT and h.buffers["info_scene_changed"][0] == 0
    h.k.update()
    assert h.buffers["info_scene_changed"][0] == 0  # nothing changed
    w[at(C.TILE_MAP) + 3] = 0x80  # a letter printed
    h.k.update()
    assert h.buffers["info_scene_changed"][0] == 1
    h.k.update()
    assert h.buffers["info_scene_changed"][0] == 0
    w[at(C.TILE_MAP) + 4] = 0x81
    state = h.k.get_state()
    del state["scene_print"], state["scene_changed"]  # a checkpoint from before the fingerprint
    h.k.set_state(state)
    assert h.buffers["info_scene_changed"][0] == 0
    h.k.update()
    assert h.buffers["info_scene_changed"][0] == 0  # the loaded RAM is the baseline


def test_ready_for_input_reads_joy_ignore_and_walk_counter():
    w = np.full(C.WRAM_SIZE, 7, np.uint8)
    assert not K.ready_for_input(w)
    w[at(C.JOY_IGNORE)] = 0
    assert not K.ready_for_input(w)
    w[at(C.WALK_COUNTER)] = 0
    assert K.ready_for_input(w)
    w[at(C.JOY_IGNORE)] = 1
    assert not K.ready_for_input(w.tobytes())
    with pytest.raises(ValueError, match=str(C.WRAM_SIZE)):
        K.ready_for_input(w[:100])


# ---------------------------------------------------------------- screen


def test_encode_screen_random_matches_reference():
    rng = np.random.default_rng(2)
    for _ in range(20):
        s = random_screen(rng)
        np.testing.assert_array_equal(K.encode_screen(s), ref.encode_screen(s))


def test_encode_screen_samples_top_left_pixel_and_packs_high_bits_first():
    s = np.broadcast_to(COLOURS[0], (C.SCREEN_H, C.SCREEN_W, C.SCREEN_CHANNELS)).copy()
    assert not K.encode_screen(s).any()
    s[0, 0] = COLOURS[3]       # obs pixel (0, 0) -> shade 3 in the top two bits
    s[0, 2] = COLOURS[1]       # obs pixel (0, 1) -> shade 1
    s[1, 1] = COLOURS[3]       # not a top-left pixel: ignored
    s[142, 158] = COLOURS[2]   # last obs pixel -> shade 2 in the low bits of the last byte
    out = K.encode_screen(s)
    assert out[0, 0] == 0b11_01_00_00
    assert out[71, 19] == 0b00_00_00_10
    assert np.count_nonzero(out) == 2
    assert ref.unpack_shades(out)[0, :2].tolist() == [3, 1]


# ---------------------------------------------------------------- full update vs reference


def perturb(rng, w, scene_rng=None):
    """One random 'step' of game state: walks, map changes, battles, HP, events, items, dex, badges; with
    ``scene_rng`` (its own generator, so the other draws stay as they were) text boxes and the tile map too."""
    r = rng.random()
    if r < 0.5:
        axis = at(C.X_COORD) if rng.random() < 0.5 else at(C.Y_COORD)
        w[axis] = (int(w[axis]) + rng.choice([-1, 1])) % 256
    elif r < 0.56:
        w[at(C.CUR_MAP)] = (C.MAP_OAKS_LAB if rng.random() < 0.2 else
                            rng.choice(MAPPED) if rng.random() < 0.7 else rng.choice(UNMAPPED))
    elif r < 0.6:
        w[at(C.X_COORD)], w[at(C.Y_COORD)] = rng.integers(0, 256, 2)  # may leave the global map
    if rng.random() < 0.08:
        w[at(C.IS_IN_BATTLE)] = rng.choice([0, 0, 1, 2, 0xFF])
    if rng.random() < 0.1:  # the enemy mon faints, or a new one comes out
        w[at(C.ENEMY_MON_HP): at(C.ENEMY_MON_HP) + 2] = (0, 0) if rng.random() < 0.6 else (0, rng.integers(1, 40))
    if rng.random() < 0.05:  # the rival (forgiven in Oak's lab), a gym leader, a wild species
        w[at(C.CUR_OPPONENT)] = rng.choice([C.OPP_RIVAL1, C.OPP_RIVAL1, C.OPP_BROCK, int(rng.integers(1, 190))])
    if rng.random() < 0.15:
        slot = int(rng.integers(0, 6)) * C.PARTY_MON_STRIDE
        w[at(C.PARTY_MON1_HP + slot): at(C.PARTY_MON1_HP + slot) + 2] = (0, rng.integers(0, 40))
    if rng.random() < 0.03:  # whole party faints (blackout) or heals
        for i in range(6):
            o = at(C.PARTY_MON1_HP + i * C.PARTY_MON_STRIDE)
            w[o: o + 2] = (0, 0) if rng.random() < 0.5 else w[at(C.PARTY_MON1_MAX_HP + i * C.PARTY_MON_STRIDE):][:2]
    if rng.random() < 0.05:
        w[at(C.PARTY_COUNT)] = rng.integers(0, 8)
    if rng.random() < 0.1:
        w[at(C.EVENT_FLAGS) + rng.integers(0, C.EVENT_FLAGS_BYTES)] ^= np.uint8(1 << rng.integers(0, 8))
    if rng.random() < 0.05:
        addr, bit = C.EVENT_FLAGS_BY_NAME[C.REQUIRED_EVENTS[rng.integers(len(C.REQUIRED_EVENTS))]]
        w[at(addr)] |= np.uint8(1 << bit)
    if rng.random() < 0.05:
        w[at(C.BAG_ITEMS) + 2 * rng.integers(0, 3)] = rng.integers(1, 90)
    if rng.random() < 0.03:
        w[at(C.POKEDEX_SEEN) + rng.integers(0, 19)] |= np.uint8(1 << rng.integers(0, 8))
    if rng.random() < 0.02:
        w[at(C.OBTAINED_BADGES)] |= np.uint8(1 << rng.integers(0, 8))
    if rng.random() < 0.05:
        w[at(C.PARTY_MON1_LEVEL) + rng.integers(0, 6) * C.PARTY_MON_STRIDE] += np.uint8(1)
    if scene_rng is None:
        return
    if scene_rng.random() < 0.05:  # a text box or menu opens or closes
        w[at(C.FONT_LOADED)] ^= np.uint8(1 << C.BIT_FONT_LOADED)
    if scene_rng.random() < 0.1:  # text prints, a cursor moves: one tile, or the blinking arrow
        cells = C.TILE_MAP_WIDTH * C.TILE_MAP_HEIGHT
        cell = TEXT_ARROW if scene_rng.random() < 0.3 else int(scene_rng.integers(0, cells))
        w[at(C.TILE_MAP) + cell] = scene_rng.integers(0, 256)


def test_random_walks_match_reference_env_every_step():
    rng, scene_rng = np.random.default_rng(3), np.random.default_rng(33)
    h = Harness(4, seed=3)
    terms_seen = np.zeros(K.NUM_TERMS, bool)
    cases = dict.fromkeys(("forgiven loss", "battle left", "party grew", "party shrank"), 0)
    scenes = set()
    for t in range(300):
        for i in range(4):
            perturb(rng, h.wram[i], scene_rng)
            if rng.random() < 0.3:
                h.screen[i] = random_screen(rng)
        if t % 50 == 0:
            h.weights[:] = rng.uniform(-1, 1, K.NUM_TERMS)  # in-place weight edits apply to the next update
        if rng.random() < 0.03:
            ids = sorted(set(rng.integers(0, 4, 2).tolist()))
            for i, want in h.reset(ids).items():
                h.assert_env_matches(i, want)
        prev = [(r.reward.prev_in_battle, r.reward.prev_blackout, r.reward.prev_party_count) if r.started else None
                for r in h.refs]
        for i, want in enumerate(h.step()):
            h.assert_env_matches(i, want)
            if prev[i] is not None:
                in_battle, blackout, count = prev[i]
                d, rw = h.refs[i].ram, h.refs[i].reward
                cases["forgiven loss"] += rw._blackout(d) and not blackout and rw.blackout_forgiven(d)
                cases["battle left"] += in_battle in (1, 2) and d["in_battle"] == 0 and d["enemy_hp"] > 0
                cases["party grew"] += d["party_count"] > count
                cases["party shrank"] += d["party_count"] < count
        terms_seen |= (h.buffers["term_sums"] != 0).any(axis=0)
        scenes |= set(zip(h.buffers["info_scene"].tolist(), h.buffers["info_scene_changed"].tolist()))
    assert terms_seen.all(), f"the walk never moved terms {np.array(K.TERM_NAMES)[~terms_seen]}: widen perturb()"
    assert all(cases.values()), f"the walk missed some reward cases {cases}: widen perturb()"
    assert {(s, c) for s in range(3) for c in range(2)} <= scenes, f"the walk missed scenes: {scenes}"
    np.testing.assert_array_equal(h.k.global_counts(), h.ref_counts)
    assert h.ref_counts.sum() > 0
    for i in range(4):
        want_bits = h.refs[i].explore.bitmap
        np.testing.assert_array_equal(h.k.visited_bits(i), want_bits)
    assert (h.k.explore_counts() == [r.explore.count for r in h.refs]).all()
    assert sum(len(r.explore.fallback) for r in h.refs) > 0, "the walk never used the fallback: widen it"


def test_ram_features_match_reference_on_random_wram():
    rng = np.random.default_rng(4)
    h = Harness(8, seed=4)
    for _ in range(20):
        h.wram[:] = rng.integers(0, 256, h.wram.shape, dtype=np.uint8)
        h.k.update()
        for i in range(8):
            np.testing.assert_array_equal(h.buffers["ram"][i], ref.ram_features(ref.decode_ram(h.wram[i])))
            assert h.buffers["map_id"][i] == h.wram[i, at(C.CUR_MAP)]


# ---------------------------------------------------------------- exploration


def set_pos(w, map_id, x, y):
    w[at(C.CUR_MAP)], w[at(C.X_COORD)], w[at(C.Y_COORD)] = map_id, x, y


def visited_cells(buf):
    """(72, 20) packed visited mask -> (9, 10) bool cells, checking each cell is uniformly 0 or 3."""
    shades = ref.unpack_shades(buf).reshape(9, 8, 10, 8)
    cells = shades[:, 0, :, 0]
    assert (shades == cells[:, None, :, None]).all()
    assert set(np.unique(cells)) <= {0, 3}
    return cells == 3


def test_visited_crop_puts_player_at_row4_col4_and_neighbours_around_it():
    h = Harness(1, seed=5)
    w = h.wram[0]
    pallet = C.MAP_IDS["PALLET_TOWN"]
    set_pos(w, pallet, 5, 5)
    h.reset([0])
    assert visited_cells(h.buffers["visited"][0]).tolist() == (np.eye(1, 90, 4 * 10 + 4).reshape(9, 10) == 1).tolist()
    for x, y in [(6, 5), (6, 4), (0, 0), (3, 7)]:
        set_pos(w, pallet, x, y)
        h.k.update()
    cells = visited_cells(h.buffers["visited"][0])  # player now at (3, 7); (0, 0) is out of view
    want = np.zeros((9, 10), bool)
    for x, y in [(5, 5), (6, 5), (6, 4), (3, 7)]:
        want[y - 7 + 4, x - 3 + 4] = True
    assert cells.tolist() == want.tolist()
    assert h.buffers["info_explore"][0] == 5


def test_visited_crop_is_empty_outside_the_map_edges():
    h = Harness(1, seed=6)
    w = h.wram[0]
    set_pos(w, C.MAP_IDS["PALLET_TOWN"], 0, 0)
    h.reset([0])
    cells = visited_cells(h.buffers["visited"][0])
    assert cells[4, 4] and cells.sum() == 1
    np.testing.assert_array_equal(h.buffers["visited"][0], ref.ReferenceEnv(h.weights).reset(w, h.screen[0])["visited"])


def test_neighbouring_maps_share_the_global_map():
    """Route 1 sits directly north of Pallet Town: a Route 1 tile shows in Pallet's crop."""
    h = Harness(1, seed=7)
    w = h.wram[0]
    pallet, route1 = C.MAP_IDS["PALLET_TOWN"], C.MAP_IDS["ROUTE_1"]
    (px, py), (rx, ry) = ref.MAP_OFFSETS[pallet], ref.MAP_OFFSETS[route1]
    set_pos(w, route1, px - rx + 5, py - ry - 1)  # the Route 1 tile just above Pallet (5, 0)
    h.reset([0])
    set_pos(w, pallet, 5, 0)
    h.k.update()
    cells = visited_cells(h.buffers["visited"][0])
    assert cells[3, 4] and cells[4, 4] and cells.sum() == 2


def test_maps_without_offset_and_off_map_tiles_fall_back_without_loss():
    assert C.MAP_IDS.get("UNUSED_MAP_0B") is None and 11 in UNMAPPED
    h = Harness(1, seed=8)
    w = h.wram[0]
    set_pos(w, 11, 10, 10)
    h.reset([0])
    for x, y in [(11, 10), (10, 10), (200, 255), (255, 0)]:
        set_pos(w, 11, x, y)
        h.k.update()
    assert h.buffers["info_explore"][0] == 4
    set_pos(w, 11, 11, 11)
    h.k.update()
    cells = visited_cells(h.buffers["visited"][0])
    assert cells[3, 3] and cells[3, 4] and cells[4, 4] and cells.sum() == 3
    cinnabar = C.MAP_IDS["CINNABAR_ISLAND"]  # gy 426: y >= 18 leaves the 444-row global map
    set_pos(w, cinnabar, 3, 100)
    h.k.update()
    assert h.buffers["info_explore"][0] == 6
    assert h.k.global_counts().sum() == 0, "fallback tiles have no global place to count"
    st = h.k.get_state()
    assert sorted(map(tuple, st["explore_fallback"].tolist())) == sorted(
        [(0, 11, x, y) for x, y in [(10, 10), (11, 10), (200, 255), (255, 0), (11, 11)]] + [(0, cinnabar, 3, 100)])


def test_reset_clears_only_that_envs_exploration():
    h = Harness(2, seed=9)
    for i in range(2):
        set_pos(h.wram[i], C.MAP_IDS["VIRIDIAN_CITY"], 3, 3)
    h.reset([0, 1])
    for x in range(4, 10):
        for i in range(2):
            set_pos(h.wram[i], C.MAP_IDS["VIRIDIAN_CITY"], x, 3)
        h.k.update()
    assert h.k.explore_counts().tolist() == [7, 7]
    h.k.reset([1])
    assert h.k.explore_counts().tolist() == [7, 1]
    assert h.k.visited_bits(1).sum() == 1 and h.k.visited_bits(0).sum() == 7
    assert h.buffers["info_explore"].tolist() == [7, 1]
    assert h.k.global_counts().sum() == 12, "global counts survive resets"


# ---------------------------------------------------------------- reward


def one_env(weights=None):
    w = np.ones(K.NUM_TERMS, np.float32) if weights is None else weights
    h = Harness(1, weights=w, seed=10)
    return h, h.wram[0]


def term(name):
    return K.TERM_NAMES.index(name)


def step_reward(h):
    h.k.update()
    return float(h.buffers["reward"][0])


def set_word(w, addr, value):
    """A big-endian 2-byte value, as Red stores HP."""
    w[at(addr): at(addr) + 2] = (value >> 8, value & 0xFF)


def set_hp(w, slot, hp):
    set_word(w, C.PARTY_MON1_HP + slot * C.PARTY_MON_STRIDE, hp)


def test_reset_gives_zero_reward_for_what_the_state_already_has():
    h, w = one_env()
    w[at(C.OBTAINED_BADGES)] = 0b111
    w[at(C.EVENT_FLAGS): at(C.EVENT_FLAGS) + 20] = 0xFF
    h.k.reset([0])
    assert h.buffers["reward"][0] == 0 and not h.buffers["term_sums"][0].any()
    assert step_reward(h) == 0.0
    w[at(C.OBTAINED_BADGES)] = 0b1111
    assert step_reward(h) == 1.0
    assert h.buffers["term_sums"][0, term("badges")] == 1.0


def test_each_term_pays_its_weight_times_its_delta():
    weights = np.arange(1, K.NUM_TERMS + 1, dtype=np.float32)
    weights[term("blackout")] = -5
    h, w = one_env(weights)
    set_pos(w, C.MAP_IDS["PALLET_TOWN"], 3, 3)
    h.k.reset([0])

    w[at(C.X_COORD)] = 4
    assert step_reward(h) == weights[term("explore")]
    w[at(C.X_COORD)] = 3
    assert step_reward(h) == 0.0, "revisiting a tile pays nothing"

    before = bin(int(w[at(C.EVENT_FLAGS) + 100])).count("1")
    w[at(C.EVENT_FLAGS) + 100] |= 0b11
    added = bin(int(w[at(C.EVENT_FLAGS) + 100])).count("1") - before
    got = step_reward(h)
    assert got == weights[term("events")] * added

    addr, bit = C.EVENT_FLAGS_BY_NAME["EVENT_BEAT_BROCK"]
    was_set = (w[at(addr)] >> bit) & 1
    w[at(addr)] |= np.uint8(1 << bit)
    assert step_reward(h) == (0.0 if was_set else weights[term("required_events")] + weights[term("events")])

    w[at(C.PARTY_MON1_LEVEL)] += np.uint8(2)
    assert step_reward(h) == 2 * weights[term("levels")]

    for _ in range(3):  # three dex bits not set before: seen or owned, each pays
        where = first_clear_bit(w, C.POKEDEX_OWNED, C.POKEDEX_BYTES)
        w[at(where[0])] |= np.uint8(1 << where[1])
    assert step_reward(h) == 3 * weights[term("dex")]

    w[at(C.BAG_ITEMS)] = 0x14  # a potion: not a key item
    assert step_reward(h) == 0.0
    w[at(C.BAG_ITEMS)] = 0xC4  # HM01, a new key item
    assert step_reward(h) == weights[term("key_items")]
    w[at(C.BAG_ITEMS)] = 4
    step_reward(h)
    w[at(C.BAG_ITEMS)] = 0xC4  # held before in this episode: nothing new
    assert step_reward(h) == 0.0


def test_heal_pays_hp_fraction_gains_only_outside_battle():
    h, w = one_env()
    w[at(C.PARTY_COUNT)] = 1
    w[at(C.PARTY_MON1_MAX_HP): at(C.PARTY_MON1_MAX_HP) + 2] = (0, 100)
    set_hp(w, 0, 50)
    h.k.reset([0])
    set_hp(w, 0, 80)
    assert step_reward(h) == pytest.approx(0.3)
    set_hp(w, 0, 20)
    assert step_reward(h) == 0.0, "losing HP is not penalised by heal"
    w[at(C.IS_IN_BATTLE)] = 1
    step_reward(h)
    set_hp(w, 0, 90)
    assert step_reward(h) == 0.0, "healing in battle does not count"
    w[at(C.IS_IN_BATTLE)] = 0
    set_word(w, C.ENEMY_MON_HP, 0)  # the enemy fainted
    assert step_reward(h) == 0.0, "a wild battle won pays only through its levels"
    w[at(C.IS_IN_BATTLE)] = C.BATTLE_TRAINER
    set_word(w, C.ENEMY_MON_HP, 9)
    step_reward(h)
    w[at(C.IS_IN_BATTLE)] = 0
    set_word(w, C.ENEMY_MON_HP, 0)
    r = step_reward(h)
    assert r == pytest.approx(1.0), "ending a trainer battle with the enemy fainted and HP left is a battle won (weight 1)"
    assert h.buffers["term_sums"][0, term("heal")] == pytest.approx(0.3)
    assert h.buffers["term_sums"][0, term("battles_won")] == 1.0
    w[at(C.IS_IN_BATTLE)] = 0xFF  # a lost battle
    step_reward(h)
    w[at(C.IS_IN_BATTLE)] = 0
    assert step_reward(h) == 0.0, "leaving a lost battle is not a win"


def test_blackout_is_an_edge_not_a_level():
    weights = np.zeros(K.NUM_TERMS, np.float32)
    weights[term("blackout")] = -3
    h, w = one_env(weights)
    w[at(C.PARTY_COUNT)] = 2
    w[at(C.CUR_OPPONENT)] = C.OPP_BROCK
    h.k.reset([0])
    set_hp(w, 0, 0)
    set_hp(w, 1, 0)
    assert step_reward(h) == -3.0
    assert step_reward(h) == 0.0
    set_hp(w, 1, 5)
    step_reward(h)
    set_hp(w, 1, 0)
    assert step_reward(h) == -3.0
    assert h.buffers["term_sums"][0, term("blackout")] == -6.0
    w[at(C.PARTY_COUNT)] = 0
    step_reward(h)
    assert K.decode(w)["hp_sum"] == 0 and step_reward(h) == 0.0, "an empty party is not a blackout"


def lose_battle(h, w, map_id, opponent):
    """Reward of the step where the whole party faints in a trainer battle against ``opponent`` on ``map_id``;
    the party is healed and the battle left afterwards (as Red does after either kind of loss)."""
    set_pos(w, map_id, 3, 3)
    w[at(C.CUR_OPPONENT)] = opponent
    w[at(C.IS_IN_BATTLE)] = C.BATTLE_TRAINER
    step_reward(h)
    for slot in range(int(w[at(C.PARTY_COUNT)])):
        set_hp(w, slot, 0)
    r = step_reward(h)
    w[at(C.IS_IN_BATTLE)] = 0xFF
    step_reward(h)
    for slot in range(int(w[at(C.PARTY_COUNT)])):
        set_hp(w, slot, 10)
    w[at(C.IS_IN_BATTLE)] = 0
    step_reward(h)
    return r


def test_losing_to_the_rival_in_oaks_lab_is_not_a_blackout():
    """Red's HandlePlayerBlackOut: wCurOpponent == OPP_RIVAL1 and wCurMap == OAKS_LAB continues the game."""
    weights = np.zeros(K.NUM_TERMS, np.float32)
    weights[term("blackout")] = -3
    h, w = one_env(weights)
    w[at(C.PARTY_COUNT)] = 1
    set_pos(w, C.MAP_IDS["PALLET_TOWN"], 3, 3)
    h.k.reset([0])
    assert lose_battle(h, w, C.MAP_OAKS_LAB, C.OPP_RIVAL1) == 0.0, "the starter battle is forgiven"
    assert lose_battle(h, w, C.MAP_IDS["ROUTE_22"], C.OPP_RIVAL1) == -3.0, "the rival elsewhere blacks out"
    assert lose_battle(h, w, C.MAP_OAKS_LAB, C.OPP_BROCK) == -3.0, "another opponent in the lab blacks out"
    assert lose_battle(h, w, C.MAP_IDS["PEWTER_GYM"], C.OPP_BROCK) == -3.0
    assert h.buffers["term_sums"][0, term("blackout")] == -9.0


def test_battles_won_counts_a_fainted_enemy_not_a_battle_left():
    weights = np.zeros(K.NUM_TERMS, np.float32)
    weights[term("battles_won")] = 2
    h, w = one_env(weights)
    w[at(C.PARTY_COUNT)] = 1
    set_hp(w, 0, 20)
    h.k.reset([0])

    def battle(kind, enemy_hp_at_end, party_hp_at_end=20):
        w[at(C.IS_IN_BATTLE)] = kind
        set_word(w, C.ENEMY_MON_HP, 15)
        assert step_reward(h) == 0.0, "a battle starting pays nothing"
        set_word(w, C.ENEMY_MON_HP, enemy_hp_at_end)
        set_hp(w, 0, party_hp_at_end)
        assert step_reward(h) == 0.0, "the enemy fainting pays when the battle ends"
        w[at(C.IS_IN_BATTLE)] = 0
        r = step_reward(h)
        set_hp(w, 0, 20)
        step_reward(h)
        return r

    assert battle(C.BATTLE_TRAINER, 0) == 2.0, "the trainer's last mon fainted: won"
    assert battle(C.BATTLE_WILD, 0) == 0.0, "a wild mon fainted: won, but wild wins pay through their levels only"
    assert battle(C.BATTLE_TRAINER, 7) == 0.0, "left with the enemy standing: not won"
    assert battle(C.BATTLE_TRAINER, 0, party_hp_at_end=0) == 0.0, "both down: not a win"
    assert battle(0xFF, 0) == 0.0, "0xFF is a lost battle"
    assert battle(C.BATTLE_TRAINER, 0) == 2.0
    assert h.buffers["term_sums"][0, term("battles_won")] == 4.0


def set_slot(w, slot, level, species=0xB1):
    """A whole mon in party slot ``slot``: species in the list and the struct, level, 30/30 HP."""
    o = slot * C.PARTY_MON_STRIDE
    w[at(C.PARTY_SPECIES + slot)] = w[at(C.PARTY_MON1_SPECIES + o)] = species
    w[at(C.PARTY_MON1_LEVEL + o)] = level
    set_word(w, C.PARTY_MON1_MAX_HP + o, 30)
    set_hp(w, slot, 30)


def test_a_mon_being_added_joins_the_party_only_with_its_stats():
    """Red's AddPartyMon raises wPartyCount and lists the species, asks for a nickname (many steps), then fills
    the mon's struct. Until then the slot is no mon: no blackout at its 0 HP, no heal and no level gain when its
    stats appear; a slot whose struct holds another species (stale) is not the new mon either."""
    weights = np.ones(K.NUM_TERMS, np.float32)
    weights[term("explore")] = 0
    h, w = one_env(weights)
    w[at(C.PARTY_COUNT)] = 0
    h.k.reset([0])
    w[at(C.PARTY_MON1_SPECIES)] = w[at(C.PARTY_MON1_LEVEL)] = 0  # the empty struct of a new game
    set_word(w, C.PARTY_MON1_MAX_HP, 0)
    set_hp(w, 0, 0)
    w[at(C.PARTY_COUNT)] = 1
    w[at(C.PARTY_SPECIES)], w[at(C.PARTY_SPECIES) + 1] = 0xB1, 0xFF  # listed; the struct is still empty
    assert K.decode(w)["party_count"] == ref.decode_ram(w)["party_count"] == 0
    assert step_reward(h) == 0.0
    w[at(C.PARTY_MON1_SPECIES)] = 0x99  # a stale struct of another mon
    set_word(w, C.PARTY_MON1_MAX_HP, 30)
    assert K.decode(w)["party_count"] == ref.decode_ram(w)["party_count"] == 0
    assert step_reward(h) == 0.0
    set_slot(w, 0, 5)  # the prompt is over: the starter's struct
    assert K.decode(w)["party_count"] == ref.decode_ram(w)["party_count"] == 1
    assert step_reward(h) == 0.0 and not h.buffers["term_sums"][0].any()
    set_hp(w, 0, 0)  # and now a real faint is a blackout
    assert step_reward(h) == weights[term("blackout")]
    w[at(C.PARTY_COUNT)] = 2  # a second mon listed before the first: the party stops at the first unfilled slot
    w[at(C.PARTY_SPECIES) + 1] = 0x99
    assert K.decode(w)["party_count"] == 1


def test_levels_pay_only_what_a_mon_gains_after_joining():
    weights = np.zeros(K.NUM_TERMS, np.float32)
    weights[term("levels")] = 1
    h, w = one_env(weights)
    w[at(C.PARTY_COUNT)] = 0
    h.k.reset([0])
    set_slot(w, 0, 5)
    w[at(C.PARTY_COUNT)] = 1
    assert step_reward(h) == 0.0, "the starter's level 5 is not grinding"
    w[at(C.PARTY_MON1_LEVEL)] = 7
    assert step_reward(h) == 2.0, "two levels gained"
    set_slot(w, 1, 12)
    set_slot(w, 2, 3)
    w[at(C.PARTY_COUNT)] = 3
    assert step_reward(h) == 0.0, "caught mons join at their own level"
    w[at(C.PARTY_MON1_LEVEL + 2 * C.PARTY_MON_STRIDE)] = 4
    assert step_reward(h) == 1.0
    # Deposit slot 1 (Red shifts slot 2 up): the party shrinks, the score stays.
    set_slot(w, 1, 4)
    w[at(C.PARTY_COUNT)] = 2
    assert step_reward(h) == 0.0, "a mon leaving neither pays nor costs"
    set_slot(w, 2, 12)
    w[at(C.PARTY_COUNT)] = 3
    assert step_reward(h) == 0.0, "withdrawing it again pays nothing"
    w[at(C.PARTY_MON1_LEVEL + 2 * C.PARTY_MON_STRIDE)] = 13
    assert step_reward(h) == 1.0
    assert h.buffers["term_sums"][0, term("levels")] == 4.0
    assert h.buffers["info_levels"][0] == 7 + 4 + 13, "info keeps the plain level sum"


def test_levels_at_the_episode_start_are_the_baseline():
    weights = np.zeros(K.NUM_TERMS, np.float32)
    weights[term("levels")] = 1
    h, w = one_env(weights)
    w[at(C.PARTY_COUNT)] = 2
    set_slot(w, 0, 30)
    set_slot(w, 1, 20)
    h.k.reset([0])
    assert step_reward(h) == 0.0
    w[at(C.PARTY_MON1_LEVEL)] = 31
    assert step_reward(h) == 1.0


def test_loading_a_blacked_out_state_is_not_a_blackout():
    weights = np.zeros(K.NUM_TERMS, np.float32)
    weights[term("blackout")] = -3
    h, w = one_env(weights)
    w[at(C.PARTY_COUNT)] = 1
    set_hp(w, 0, 0)
    h.k.reset([0])
    assert step_reward(h) == 0.0


# ---------------------------------------------------------------- checkpoints and validation


def test_get_set_state_resumes_bit_for_bit():
    rng = np.random.default_rng(11)
    a = Harness(3, seed=11)
    for _ in range(120):
        for i in range(3):
            perturb(rng, a.wram[i])
        a.k.update()
    state = a.k.get_state()
    assert len(state["explore_fallback"]) > 0, "the checkpoint should carry fallback tiles too"
    # A fresh Kernels over the same emulator memory, restored from the checkpoint.
    b, buffers = a.twin()
    b.set_state(state)
    for name in ("visited", "screen", "ram", "term_sums", "info_explore", "info_events"):
        np.testing.assert_array_equal(buffers[name], a.buffers[name], err_msg=name)
    np.testing.assert_array_equal(b.global_counts(), a.k.global_counts())
    for _ in range(60):
        for i in range(3):
            perturb(rng, a.wram[i])
        a.k.update()
        b.update()
        for name in K.BUFFER_SPECS:
            np.testing.assert_array_equal(buffers[name], a.buffers[name], err_msg=name)
    st2 = b.get_state()
    for key in state:
        assert st2[key].shape[1:] == state[key].shape[1:]
    assert (b.explore_counts() == a.k.explore_counts()).all()


def test_set_pointers_moves_an_env_to_new_memory():
    h = Harness(2, seed=14)
    h.k.update()
    other = h.wram[0].copy()
    set_pos(other, C.MAP_IDS["ROUTE_2"], 7, 8)
    h.k.set_pointers(1, other.ctypes.data, h.screen[1].ctypes.data)
    h.k.update()
    assert (h.buffers["info_map"][1], h.buffers["info_x"][1], h.buffers["info_y"][1]) == (C.MAP_IDS["ROUTE_2"], 7, 8)
    with pytest.raises(ValueError, match="non-zero"):
        h.k.set_pointers(1, 0, h.screen[1].ctypes.data)
    with pytest.raises(IndexError, match="env 2 out of range"):
        h.k.set_pointers(2, other.ctypes.data, h.screen[1].ctypes.data)


def test_first_update_without_reset_starts_the_episode():
    h = Harness(2, seed=12)
    h.k.update()
    assert (h.buffers["reward"] == 0).all()
    assert h.buffers["info_explore"].tolist() == [1, 1]


@pytest.mark.parametrize("mutate, message", [
    (lambda b: b.__setitem__("screen", np.zeros((2, C.OBS_H, C.OBS_PACKED_W + 1), np.uint8)),
     rf"buffers\['screen'\].*shape \(2, {C.OBS_H}, {C.OBS_PACKED_W}\)"),
    (lambda b: b.__setitem__("reward", np.zeros(2, np.float64)), r"buffers\['reward'\].*float32"),
    (lambda b: b.__setitem__("ram", np.zeros((30, 2), np.float32).T), r"buffers\['ram'\].*C-contiguous"),
    (lambda b: b.pop("info_x"), r"missing \['info_x'\].*allocate_buffers"),
])
def test_bad_buffers_are_refused_with_what_to_fix(mutate, message):
    wram = np.zeros((2, C.WRAM_SIZE), np.uint8)
    screen = np.zeros((2, C.SCREEN_H, C.SCREEN_W, C.SCREEN_CHANNELS), np.uint8)
    ptrs = np.array([wram[0].ctypes.data, wram[1].ctypes.data], np.uint64)
    sptrs = np.array([screen[0].ctypes.data, screen[1].ctypes.data], np.uint64)
    buffers = K.allocate_buffers(2)
    mutate(buffers)
    with pytest.raises(ValueError, match=message):
        K.Batch.from_pointers(2, ptrs, sptrs, np.ones(K.NUM_TERMS, np.float32), buffers)


def test_bad_pointers_and_weights_are_refused():
    buffers = K.allocate_buffers(2)
    wram = np.zeros((2, C.WRAM_SIZE), np.uint8)
    ok = np.array([wram[0].ctypes.data, wram[1].ctypes.data], np.uint64)
    w = np.ones(K.NUM_TERMS, np.float32)
    with pytest.raises(ValueError, match=r"wram_ptrs has null addresses at envs \[1\]"):
        K.Batch.from_pointers(2, np.array([ok[0], 0], np.uint64), ok, w, buffers)
    with pytest.raises(ValueError, match=r"screen_ptrs must be uint64 of shape \(2,\)"):
        K.Batch.from_pointers(2, ok, ok.astype(np.int64), w, buffers)
    with pytest.raises(ValueError, match=r"weights must have dtype float32 and shape \(10,\)"):
        K.Batch.from_pointers(2, ok, ok, np.ones(9, np.float32), buffers)
    k = K.Batch.from_pointers(2, ok, ok, w, buffers)
    with pytest.raises(IndexError, match="env_ids"):
        k.reset([2])
    with pytest.raises(ValueError, match="state is missing"):
        k.set_state({})


# ---------------------------------------------------------------- real PyBoy states of the test world


class RealWorld:
    """One test-world PyBoy whose WRAM and screen are copied after every action into arrays that both the
    native kernels (by address) and the reference env read; every action compares all outputs."""

    def __init__(self, pb, weights):
        self.pb = pb
        self.wram = np.zeros((1, C.WRAM_SIZE), np.uint8)
        self.screen = np.zeros((1, C.SCREEN_H, C.SCREEN_W, C.SCREEN_CHANNELS), np.uint8)
        self.buffers = K.allocate_buffers(1)
        self.k = K.Batch.from_pointers(1, np.array([self.wram.ctypes.data], np.uint64),
                           np.array([self.screen.ctypes.data], np.uint64), weights, self.buffers)
        self.env = ref.ReferenceEnv(weights)
        self.counts = np.zeros(K.KANTO_SHAPE, np.uint32)
        self.steps = 0
        self.positions = set()
        self.scenes = set()  # (scene, scene_changed) seen
        self.battles = 0

    def compare(self):
        self.wram[0] = np.asarray(self.pb.memory[C.WRAM_BASE:C.WRAM_BASE + C.WRAM_SIZE], np.uint8)
        self.screen[0] = self.pb.screen.ndarray
        assert set(np.unique(self.screen[0, :, :, 0])) <= {0, 85, 153, 255}, "screen outside the DMG grey palette"
        self.k.update()
        want = self.env.update(self.wram[0], self.screen[0], self.counts)
        for name, value in want.items():
            np.testing.assert_allclose(self.buffers[name][0], value, rtol=1e-6, atol=1e-6,
                                       err_msg=f"step {self.steps} {name}")
        assert_decode_equal(K.decode(self.wram[0]), ref.decode_ram(self.wram[0]))
        self.positions.add((int(want["info_map"]), int(want["info_x"]), int(want["info_y"])))
        self.scenes.add((int(want["info_scene"]), int(want["info_scene_changed"])))
        self.steps += 1

    def act(self, button):
        in_battle = self.pb.memory[C.IS_IN_BATTLE] != 0
        self.pb.button(button, 8)
        self.pb.tick(24, render=True)
        self.battles += in_battle and self.pb.memory[C.IS_IN_BATTLE] == 0
        self.compare()

    def walk_to(self, room_name, xy, max_actions=300):
        from pokerl_fast.game.testworld import drive, find_path

        for _ in range(max_actions):
            m = self.pb.memory
            if m[C.IS_IN_BATTLE]:
                self.act("a")
            elif m[C.JOY_IGNORE] or m[C.WALK_COUNTER]:
                self.pb.tick(1, render=True)
                self.compare()
            elif drive.position(self.pb) == (room_name, tuple(xy)):
                return
            else:
                self.act(find_path(*drive.position(self.pb), room_name, xy)[0])
        pytest.fail(f"test world tour did not reach {room_name} {xy}; at {drive.position(self.pb)}")


@pytest.fixture
def testworld_pyboy(booted_pyboy):
    booted_pyboy.tick(1, render=True)  # PyBoy's screen is current
    return booted_pyboy


def test_real_testworld_random_play_matches_reference(testworld_pyboy):
    world = RealWorld(testworld_pyboy, np.ones(K.NUM_TERMS, np.float32))
    world.compare()
    rng = np.random.default_rng(13)
    for _ in range(120):
        world.act(("down", "left", "right", "up", "a")[rng.integers(5)])
    assert len(world.positions) > 3, "the player never moved: the real-state check saw one state"
    assert len(np.unique(world.screen[0, :, :, 0])) > 1
    np.testing.assert_array_equal(world.k.global_counts(), world.counts)


def test_real_testworld_menus_and_talks_read_as_text_scenes(testworld_pyboy):
    """Random play with every button on the real test world: the start menu and talks set wFontLoaded's bit as
    Red's DisplayTextIDInit does (the test world's own state says which), and a cursor moved in a menu changes
    the scene; the native outputs match the reference at every step."""
    world = RealWorld(testworld_pyboy, np.ones(K.NUM_TERMS, np.float32))
    world.compare()
    rng = np.random.default_rng(21)
    text_states = {TW.STATES[name] for name in ("DIALOG",) + TW.MENU_STATES}
    for _ in range(150):
        world.act(("down", "left", "right", "up", "a", "b", "start")[rng.integers(7)])
        m = testworld_pyboy.memory
        assert (m[C.FONT_LOADED] & 1) == (m[TW.PRIVATE_RAM["wState"]] in text_states)
    assert {(K.SCENE_TEXT, 0), (K.SCENE_TEXT, 1), (K.SCENE_FREE, 0)} <= world.scenes


def test_real_testworld_tour_moves_every_progress_term(testworld_pyboy):
    """A scripted tour (triggers, Oak, item pickup, grass battles, gym badge, heal) through real game states:
    native and reference agree at every action, and the progress terms all pay."""
    world = RealWorld(testworld_pyboy, np.ones(K.NUM_TERMS, np.float32))
    world.compare()
    world.walk_to("PALLET_TOWN", (3, 2))
    for xy in [(4, 6), (5, 3), (2, 5), (3, 2)]:
        world.walk_to("OAKS_LAB", xy)
    world.act("up")  # face Oak
    world.act("a")
    world.walk_to("VIRIDIAN_CITY", (7, 1))  # the parcel
    for xy in [(2, 4), (4, 5), (2, 5), (3, 4), (7, 5), (7, 6), (2, 4), (4, 4)]:  # grass: wild battles
        world.walk_to("VIRIDIAN_CITY", xy)
    world.walk_to("OAKS_LAB", (3, 2))
    world.act("up")
    world.act("a")
    world.act("a")
    world.walk_to("PEWTER_GYM", (3, 1))
    won = sums_of(world)["battles_won"]
    written_win(world, C.OPP_BROCK)  # the test world has no trainer: one written into RAM, as Red ends a won one
    assert sums_of(world)["battles_won"] == won + 1
    world.walk_to("REDS_HOUSE_1F", (1, 4))  # heal tile
    sums = dict(zip(K.TERM_NAMES, world.buffers["term_sums"][0]))
    for name in ("explore", "events", "required_events", "badges", "levels", "key_items", "dex", "battles_won", "heal"):
        assert sums[name] > 0, f"the tour never moved {name}: {sums} after {world.steps} steps"
    assert world.battles > 0
    np.testing.assert_array_equal(world.k.global_counts(), world.counts)


# The reward's Red rules on the real test world ROM (native and reference compared at every action).
GRASS = ("ROUTE_1", (1, 1)), ("ROUTE_1", (2, 1))  # two neighbouring grass tiles


def sums_of(world) -> dict:
    return dict(zip(K.TERM_NAMES, world.buffers["term_sums"][0].astype(float)))


def real_wild_battle(world, max_steps=200):
    """Pace between two grass tiles until the ROM starts a wild battle (1 in 4 grass steps)."""
    world.walk_to(*GRASS[1])
    for i in range(max_steps):
        world.act("left" if i % 2 == 0 else "right")
        if world.pb.memory[C.IS_IN_BATTLE]:
            return
    pytest.fail(f"no wild battle in {max_steps} grass steps")


def press_a_until_in_control(world, max_actions=20):
    """A until the battle (won, or a blackout's 48 frames) is over and input is taken again."""
    for _ in range(max_actions):
        if world.pb.memory[C.IS_IN_BATTLE] == 0 and world.pb.memory[C.JOY_IGNORE] == 0:
            return
        world.act("a")
    pytest.fail("the battle did not end")


def idle(world, frames=24):
    """Let the game run one action's frames without a press, then compare (after writing RAM)."""
    world.pb.tick(frames, render=True)
    world.compare()


def write_word(pb, addr, value):
    pb.memory[addr], pb.memory[addr + 1] = value >> 8, value & 0xFF


def written_battle(world, opponent, won: bool):
    """Red's trainer battle against ``opponent`` written into RAM where the player stands, ended as Red ends it:
    won (the enemy's last mon faints, wEnemyMonHP 0) or lost (the party's HP to 0 with the enemy standing, then
    healed); then out of battle."""
    pb = world.pb
    pb.memory[C.CUR_OPPONENT] = opponent
    pb.memory[C.IS_IN_BATTLE] = C.BATTLE_TRAINER
    write_word(pb, C.ENEMY_MON_HP, 12)
    idle(world)
    write_word(pb, C.ENEMY_MON_HP if won else C.PARTY_MON1_HP, 0)
    idle(world)
    if not won:
        write_word(pb, C.PARTY_MON1_HP, pb.memory[C.PARTY_MON1_MAX_HP] << 8 | pb.memory[C.PARTY_MON1_MAX_HP + 1])
    pb.memory[C.IS_IN_BATTLE] = 0
    idle(world)


def written_loss(world, opponent):
    written_battle(world, opponent, won=False)


def written_win(world, opponent):
    written_battle(world, opponent, won=True)


def test_real_testworld_blackout_is_forgiven_only_for_the_rival_in_oaks_lab(testworld_pyboy):
    weights = np.ones(K.NUM_TERMS, np.float32)
    weights[term("blackout")] = -1
    world = RealWorld(testworld_pyboy, weights)
    world.compare()
    world.walk_to("OAKS_LAB", (3, 2))
    written_loss(world, C.OPP_RIVAL1)
    assert sums_of(world)["blackout"] == 0.0, "losing the starter battle in Oak's lab is no blackout in Red"
    assert sums_of(world)["battles_won"] == 0.0, "a lost battle is not won"
    world.walk_to("PALLET_TOWN", (3, 2))
    written_loss(world, C.OPP_RIVAL1)
    assert sums_of(world)["blackout"] == -1.0, "the same loss outside the lab is a blackout"
    # The ROM's own blackout (HP to 0 at a wild battle's start); wCurOpponent still holds the rival, which
    # outside Oak's lab changes nothing. Leaving that battle (HP restored, the enemy standing) is no win.
    world.walk_to(*GRASS[1])  # battles on the way are won (A)
    write_word(world.pb, C.PARTY_MON1_HP, 1)
    won = sums_of(world)["battles_won"]
    real_wild_battle(world)
    press_a_until_in_control(world)
    assert tw.position(world.pb) == (tw.BLACKOUT_ROOM, tw.BLACKOUT_XY), "the ROM blacked out"
    assert sums_of(world)["blackout"] == -2.0
    assert sums_of(world)["battles_won"] == won


def test_real_testworld_battles_won_pays_a_trainer_win_not_a_flight(testworld_pyboy):
    from pokerl_fast.game.testworld.world import PRIVATE_RAM, STATES

    world = RealWorld(testworld_pyboy, np.ones(K.NUM_TERMS, np.float32))
    world.compare()
    real_wild_battle(world)
    before = sums_of(world)
    level = world.pb.memory[C.PARTY_MON1_LEVEL]
    press_a_until_in_control(world)  # A wins: the ROM zeroes wEnemyMonHP and gives a level
    after = sums_of(world)
    assert after["battles_won"] == before["battles_won"], "a wild win pays through its level only"
    assert world.pb.memory[C.PARTY_MON1_LEVEL] == level + 1 and after["levels"] - before["levels"] == 1.0
    written_win(world, C.OPP_RIVAL1)
    assert sums_of(world)["battles_won"] - after["battles_won"] == 1.0, "a trainer's last mon fainted: a win"

    real_wild_battle(world)
    before = sums_of(world)
    m = world.pb.memory
    assert m[C.ENEMY_MON_HP] << 8 | m[C.ENEMY_MON_HP + 1] > 0
    # Run away: the ROM has no RUN, so end the battle in RAM as Red leaves it (enemy standing, party fine).
    m[PRIVATE_RAM["wState"]] = STATES["IDLE"]
    m[C.IS_IN_BATTLE] = 0
    m[C.JOY_IGNORE] = 0
    idle(world)
    after = sums_of(world)
    assert after["battles_won"] == before["battles_won"], "fleeing is not winning"
    assert after["levels"] == before["levels"]


def test_real_testworld_levels_pay_gains_not_the_starters_level(testworld_pyboy):
    pb = testworld_pyboy
    world = RealWorld(pb, np.ones(K.NUM_TERMS, np.float32))
    pb.memory[C.PARTY_COUNT] = 0  # the episode starts before the starter is received
    world.compare()
    pb.memory[C.PARTY_COUNT] = 1  # the starter joins at its level
    idle(world)
    assert pb.memory[C.PARTY_MON1_LEVEL] == tw.STARTER_LEVEL and sums_of(world)["levels"] == 0.0
    real_wild_battle(world)
    press_a_until_in_control(world)
    gained = pb.memory[C.PARTY_MON1_LEVEL] - tw.STARTER_LEVEL
    assert gained >= 1 and sums_of(world)["levels"] == gained, "every level won in battle pays, only those"
    # A caught mon joins at level 9, then goes to the PC: neither pays.
    slot2 = C.PARTY_MON_STRIDE
    pb.memory[C.PARTY_MON1_LEVEL + slot2] = 9
    pb.memory[C.PARTY_COUNT] = 2
    idle(world)
    assert sums_of(world)["levels"] == gained
    pb.memory[C.PARTY_COUNT] = 1
    idle(world)
    assert sums_of(world)["levels"] == gained


def first_clear_bit(w, addr, n):
    """(byte address, bit) of the first 0 bit in n bytes of WRAM at addr."""
    for k in range(n):
        for b in range(8):
            if not w[at(addr + k)] >> b & 1:
                return addr + k, b
    raise AssertionError("no clear bit")


@pytest.mark.parametrize("name, addr, n", [("events", C.EVENT_FLAGS, C.EVENT_FLAGS_BYTES),
                                           ("badges", C.OBTAINED_BADGES, 1),
                                           ("dex", C.POKEDEX_SEEN, C.POKEDEX_BYTES)])
def test_event_terms_count_the_most_seen_so_a_cleared_flag_never_costs(name, addr, n):
    """A flag the game clears (Red's Safari Zone, a script resetting its own flags, a new game after the credits)
    costs nothing, setting it again pays nothing twice, and a new one pays; native and reference agree each step."""
    weights = np.zeros(K.NUM_TERMS, np.float32)
    weights[term(name)] = 1
    h, w = one_env(weights)
    h.k.reset([0])
    h.refs[0].reset(h.wram[0], h.screen[0])
    rewards = []
    first = first_clear_bit(w, addr, n)
    for action in ("set", "clear", "set", "clear", "set", "new"):  # "new": another bit, beyond the most seen
        where = first if action != "new" else first_clear_bit(w, addr, n)
        if action == "clear":
            w[at(where[0])] &= np.uint8(~(1 << where[1]) & 0xFF)
        else:
            w[at(where[0])] |= np.uint8(1 << where[1])
        want = h.step()[0]
        h.assert_env_matches(0, want)
        rewards.append(float(h.buffers["reward"][0]))
    assert rewards == [1.0, 0.0, 0.0, 0.0, 0.0, 1.0]


def test_real_testworld_a_cleared_event_flag_never_costs_reward(testworld_pyboy):
    """On the real test world: an event flag set, cleared by hand (as Red's scripts do with their own), set again;
    the events and required terms pay once; native and reference agree at every step."""
    pb = testworld_pyboy
    world = RealWorld(pb, np.ones(K.NUM_TERMS, np.float32))
    world.compare()
    name = C.REQUIRED_EVENTS[0]
    addr, bit = C.EVENT_FLAGS_BY_NAME[name]
    assert not pb.memory[addr] >> bit & 1
    seen = []
    for value in (1, 0, 1, 0):
        pb.memory[addr] = pb.memory[addr] & ~(1 << bit) & 0xFF | value << bit
        idle(world)
        seen.append((sums_of(world)["events"], sums_of(world)["required_events"]))
    assert seen == [(1.0, 1.0)] * 4  # weights of 1: one event bit, one required event, paid once


def test_levels_above_the_cap_pay_a_quarter_each_and_a_levelled_state_starts_at_its_value():
    weights = np.zeros(K.NUM_TERMS, np.float32)
    weights[term("levels")] = 1
    h, w = one_env(weights)
    h.k.set_mechanics(levels_cap=15.0)
    w[at(C.PARTY_COUNT)] = 1
    set_slot(w, 0, 13)
    h.k.reset([0])
    w[at(C.PARTY_MON1_LEVEL)] = 15
    assert step_reward(h) == 2.0, "up to the cap a level pays the full weight"
    w[at(C.PARTY_MON1_LEVEL)] = 19
    assert step_reward(h) == 1.0, "four levels above the cap pay one"
    set_slot(w, 1, 40)
    w[at(C.PARTY_COUNT)] = 2
    assert step_reward(h) == 0.0, "a mon joining at 40 pays nothing"
    w[at(C.PARTY_MON1_LEVEL + C.PARTY_MON_STRIDE)] = 42
    assert step_reward(h) == 0.5
    w[at(C.PARTY_COUNT)] = 1
    assert step_reward(h) == 0.0, "a mon leaving neither pays nor costs"
    w[at(C.PARTY_MON1_LEVEL)] = 20
    assert step_reward(h) == 0.25
    assert h.buffers["term_sums"][0, term("levels")] == 3.75
    # An episode started from a levelled state (swarming): its levels are the baseline, more pay a quarter.
    h.k.reset([0])
    w[at(C.PARTY_MON1_LEVEL)] = 24
    assert step_reward(h) == 1.0


def test_the_level_taper_matches_the_reference_on_random_parties():
    rng = np.random.default_rng(41)
    weights = np.zeros(K.NUM_TERMS, np.float32)
    weights[term("levels")] = 0.25
    h, w = one_env(weights)
    h.k.set_mechanics(levels_cap=12.0)
    r = ref.Reward(levels_cap=12.0)
    w[at(C.PARTY_COUNT)] = 2
    set_slot(w, 0, 5)
    set_slot(w, 1, 9)
    h.k.reset([0])
    r.reset(ref.decode_ram(w), 1)
    total = 0.0
    for t in range(3000):
        count = int(w[at(C.PARTY_COUNT)])
        roll = rng.random()
        if roll < 0.6 and count:  # a level up (or a few)
            slot = int(rng.integers(0, count))
            o = slot * C.PARTY_MON_STRIDE
            w[at(C.PARTY_MON1_LEVEL + o)] = min(100, int(w[at(C.PARTY_MON1_LEVEL + o)]) + int(rng.integers(1, 4)))
        elif roll < 0.75 and count < C.PARTY_MAX:  # a catch
            set_slot(w, count, int(rng.integers(2, 60)))
            w[at(C.PARTY_COUNT)] = count + 1
        elif roll < 0.85 and count > 1:  # a deposit
            w[at(C.PARTY_COUNT)] = count - 1
        got = step_reward(h)
        want = r.step(ref.decode_ram(w), 1, weights)
        assert got == pytest.approx(want, abs=1e-6), t
        total += want
        if rng.random() < 0.01:
            h.k.reset([0])
            r.reset(ref.decode_ram(w), 1)
            total = 0.0
    assert h.buffers["term_sums"][0, term("levels")] == pytest.approx(total, abs=1e-4)
