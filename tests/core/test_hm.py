"""Auto-use of HMs: the native decision (csrc/hm.h) against its Python reference, and the menu macro
driving the test world's Red-like menus in the real emulator."""

from __future__ import annotations

import io

import numpy as np
import pytest

import pokerl_fast
import support

from pokerl_fast.game import constants as C
from pokerl_fast.env import reference as ref
from pokerl_fast.game import testworld as tw
from pokerl_fast._native import _core
from pokerl_fast.env.emulator import Emulator
from pokerl_fast.game.emulator import new_pyboy
from pokerl_fast.game.testworld import layout as L

W = ref.WRAM_BASE
FIELD_AND_OTHER_MOVES = (C.MOVE_CUT, C.MOVE_SURF, C.MOVE_STRENGTH, C.MOVE_FLY, C.MOVE_FLASH, 0x0A, 0x21, 0)
FRONT = ref._FRONT_TILE
DPAD = ref._FACING_DPAD  # facing -> the d-pad bit that pushes that way


def random_hm_wram(rng: np.random.Generator) -> np.ndarray:
    """A WRAM image that lands near the decision's edges: trees, water and shores in various tilesets,
    badges, movesets and party counts, surfing, battles, text boxes."""
    wram = rng.integers(0, 256, ref.WRAM_SIZE, dtype=np.uint8)
    facing = int(rng.choice([0x0, 0x4, 0x8, 0xC, 0x0, 0x4, 0x8, 0xC, 0x2]))
    wram[C.PLAYER_FACING - W] = facing
    tiles = [C.CUT_TREE_TILE_OVERWORLD, C.CUT_TREE_TILE_GYM, C.WATER_TILE, C.WATER_SHORE_TILE_1,
             C.WATER_SHORE_TILE_2, int(rng.integers(0, 256))]
    col, row = FRONT.get(facing, (8, 11))
    pairs = [(C.TILESET_OVERWORLD, C.CUT_TREE_TILE_OVERWORLD), (C.TILESET_GYM, C.CUT_TREE_TILE_GYM),
             (C.TILESET_OVERWORLD, C.WATER_TILE), (17, C.WATER_SHORE_TILE_1), (C.TILESET_SHIP_PORT, C.WATER_TILE)]
    if rng.random() < 0.5:  # a tile the moves act on, in a tileset where they may
        tileset, tile = pairs[rng.integers(len(pairs))]
    else:
        tileset = rng.choice([C.TILESET_OVERWORLD, C.TILESET_GYM, C.TILESET_SHIP_PORT, 3, 17, 1, 24])
        tile = rng.choice(tiles)
    wram[C.TILE_MAP - W + row * C.TILE_MAP_WIDTH + col] = tile
    wram[C.CUR_MAP_TILESET - W] = tileset
    wram[C.OBTAINED_BADGES - W] = rng.choice([0, 0xFF, 1 << C.BIT_CASCADEBADGE, 1 << C.BIT_SOULBADGE,
                                              1 << C.BIT_RAINBOWBADGE, int(rng.integers(0, 256))])
    wram[C.PARTY_COUNT - W] = rng.integers(0, 8)
    for i in range(C.PARTY_MAX):
        base = C.PARTY_MON1_MOVES - W + i * C.PARTY_MON_STRIDE
        wram[base:base + 4] = rng.choice(FIELD_AND_OTHER_MOVES, 4)
    for addr, p_zero in ((C.JOY_IGNORE, 0.9), (C.WALK_COUNTER, 0.9), (C.IS_IN_BATTLE, 0.9)):
        if rng.random() < p_zero:
            wram[addr - W] = 0
    wram[C.WALK_BIKE_SURF_STATE - W] = rng.choice([0, 1, C.SURF_STATE_SURFING])
    return wram


def test_hm_plan_matches_reference_on_random_wram():
    rng = np.random.default_rng(5)
    kinds = {0: 0, 1: 0, 2: 0}
    for _ in range(6000):
        wram = random_hm_wram(rng)
        facing = int(wram[C.PLAYER_FACING - W])
        dmask = DPAD.get(facing, 0x8) if rng.random() < 0.8 else int(rng.choice([0, 1, 2, 4, 8, 3]))
        native = _core.hm_plan(wram, dmask)
        assert native == ref.hm_plan(wram, dmask), (dmask, native)
        assert _core.hm_strength_ready(wram) == ref.strength_ready(wram)
        kinds[native[0]] += 1
    # the generator reaches every outcome, so agreement is not vacuous
    assert min(kinds.values()) > 200, kinds


def test_hm_plan_cases():
    wram = np.zeros(ref.WRAM_SIZE, np.uint8)
    wram[C.PLAYER_FACING - W] = 0x4  # up
    col, row = FRONT[0x4]
    wram[C.TILE_MAP - W + row * C.TILE_MAP_WIDTH + col] = C.CUT_TREE_TILE_OVERWORLD
    wram[C.PARTY_COUNT - W] = 3
    wram[C.PARTY_MON1_MOVES - W + 2 * C.PARTY_MON_STRIDE + 3] = C.MOVE_CUT  # third mon, last slot
    assert _core.hm_plan(wram, 0x4) == (0, -1, 0, 0)  # no Cascade badge
    wram[C.OBTAINED_BADGES - W] = 1 << C.BIT_CASCADEBADGE
    assert _core.hm_plan(wram, 0x4) == (1, 2, C.FIELD_MOVE_CUT, 0)
    addr, bit = C.EVENT_FLAGS_BY_NAME["EVENT_GOT_POKEDEX"]
    wram[addr - W] |= 1 << bit
    assert _core.hm_plan(wram, 0x4) == (1, 2, C.FIELD_MOVE_CUT, 1)  # POKEMON is the second start-menu entry
    assert _core.hm_plan(wram, 0x8)[0] == 0  # pushing left while facing up: not toward the tree
    assert _core.hm_plan(wram, 0)[0] == 0  # no d-pad press
    wram[C.JOY_IGNORE - W] = 0xFF
    assert _core.hm_plan(wram, 0x4)[0] == 0  # a text box or script is running
    wram[C.JOY_IGNORE - W] = 0
    wram[C.PARTY_COUNT - W] = 2  # the mon with Cut is beyond the party count
    assert _core.hm_plan(wram, 0x4)[0] == 0
    with pytest.raises(ValueError, match=f"{C.WRAM_SIZE} uint8 bytes"):
        _core.hm_plan(np.zeros(10, np.uint8), 0)


# ------------------------------------------------------------------ the macro in the real emulator

ROUTE = "ROUTE_2"
TREE = L.cells_of(ROUTE, L.CUT_TREE)[0]
BOULDER = L.cells_of(ROUTE, L.BOULDER)[0]
WATER = max(L.cells_of(ROUTE, L.WATER), key=lambda xy: xy[1])  # the lower water cell, entered from below
TACKLE = 0x21
ALL_HM_BADGES = (1 << C.BIT_CASCADEBADGE) | (1 << C.BIT_SOULBADGE) | (1 << C.BIT_RAINBOWBADGE)


def set_party(pb, movesets, badges=ALL_HM_BADGES, pokedex=False, party_menu_item=0):
    """A party of len(movesets) mons with these moves; badges; the Pokedex event; the party menu's saved row."""
    mem = pb.memory
    mem[C.PARTY_COUNT] = len(movesets)
    for i, moves in enumerate(movesets):
        mem[C.PARTY_SPECIES + i] = tw.STARTER.species_id
        base = C.PARTY_MON1_MOVES + i * C.PARTY_MON_STRIDE
        for slot in range(4):
            mem[base + slot] = moves[slot] if slot < len(moves) else 0
    mem[C.PARTY_SPECIES + len(movesets)] = 0xFF
    mem[C.OBTAINED_BADGES] = badges
    addr, bit = C.EVENT_FLAGS_BY_NAME["EVENT_GOT_POKEDEX"]
    mem[addr] = (mem[addr] | (1 << bit)) if pokedex else (mem[addr] & ~(1 << bit))
    mem[C.PARTY_MENU_SAVED_ITEM] = party_menu_item


def state_facing(cell, **party) -> bytes:
    """Save state: on ROUTE_2, next to ``cell`` and facing it, with the given party."""
    pb = new_pyboy(tw.testworld_rom_path())
    try:
        tw.boot(pb)
        tw.face(pb, ROUTE, cell)
        set_party(pb, **party)
        f = io.BytesIO()
        pb.save_state(f)
        return f.getvalue()
    finally:
        pb.stop(save=False)


def emulator_from(state: bytes):
    pb = new_pyboy(tw.testworld_rom_path())
    emu = Emulator(pb, native_screen=True)
    emu.load_state(state)
    return pb, emu


def front_tile(pb) -> int:
    col, row = FRONT[pb.memory[C.PLAYER_FACING]]
    return pb.memory[C.TILE_MAP + row * C.TILE_MAP_WIDTH + col]


@pytest.mark.parametrize("pokedex, party_menu_item, cut_mon", [(False, 0, 2), (True, 2, 0)])
def test_auto_hm_cuts_the_tree_through_the_menus(pokedex, party_menu_item, cut_mon):
    # Cut is known by one mon, in its third slot after a Surf: the submenu lists [SURF, CUT]. The party menu
    # opens on a remembered row, so the cursor is steered from RAM (down in one case, up in the other), and
    # POKEMON is the start menu's first or second entry depending on the Pokedex.
    moves = [[TACKLE], [TACKLE, C.MOVE_FLASH], [TACKLE]]
    moves[cut_mon] = [TACKLE, C.MOVE_SURF, C.MOVE_CUT]
    pb, emu = emulator_from(state_facing(TREE, movesets=moves, pokedex=pokedex, party_menu_item=party_menu_item))
    try:
        assert front_tile(pb) == C.CUT_TREE_TILE_OVERWORLD
        frames = emu.run_frames("up", helpers=_core.HELPER_AUTO_HM)
        assert (emu.hm_used, emu.hm_aborted) == (1, 0)
        assert frames > 10 * 24  # the menus ran inside this one step
        assert front_tile(pb) != C.CUT_TREE_TILE_OVERWORLD  # the tree is gone
        assert pb.memory[C.JOY_IGNORE] == 0 and not tw.in_menu(pb)  # back in control, menus closed
        emu.run_frames("up", helpers=_core.HELPER_AUTO_HM)
        assert tw.position(pb) == (ROUTE, TREE)  # and the player walks where it stood
    finally:
        pb.stop(save=False)


@pytest.mark.parametrize("case", ["no badge", "no move", "helper off", "pushing sideways"])
def test_auto_hm_leaves_the_tree_when_it_may_not_cut(case):
    moves = [[TACKLE]] if case == "no move" else [[C.MOVE_CUT]]
    badges = 0 if case == "no badge" else ALL_HM_BADGES
    pb, emu = emulator_from(state_facing(TREE, movesets=moves, badges=badges))
    try:
        helpers = 0 if case == "helper off" else _core.HELPER_AUTO_HM
        button = "left" if case == "pushing sideways" else "up"
        frames = emu.run_frames(button, helpers=helpers)
        assert frames == 24 and emu.hm_used == 0 and emu.hm_aborted == 0
        if button == "up":
            assert front_tile(pb) == C.CUT_TREE_TILE_OVERWORLD
            assert tw.position(pb)[1] == (TREE[0], TREE[1] + 1)
    finally:
        pb.stop(save=False)


def test_auto_hm_surfs_onto_the_water():
    pb, emu = emulator_from(state_facing(WATER, movesets=[[TACKLE], [C.MOVE_SURF, C.MOVE_STRENGTH]]))
    try:
        assert front_tile(pb) == C.WATER_TILE
        emu.run_frames("up", helpers=_core.HELPER_AUTO_HM)
        assert emu.hm_used == 1 and pb.memory[C.WALK_BIKE_SURF_STATE] == C.SURF_STATE_SURFING
        emu.run_frames("up", helpers=_core.HELPER_AUTO_HM)
        assert tw.position(pb) == (ROUTE, WATER)
        emu.run_frames("up", helpers=_core.HELPER_AUTO_HM)  # already surfing: no menus again
        assert emu.hm_used == 1
    finally:
        pb.stop(save=False)


@pytest.mark.parametrize("knows_strength", [True, False])
def test_auto_hm_keeps_strength_on_so_the_boulder_moves(knows_strength):
    moves = [[TACKLE, C.MOVE_STRENGTH] if knows_strength else [TACKLE]]
    pb, emu = emulator_from(state_facing(BOULDER, movesets=moves))
    try:
        start = tw.position(pb)
        emu.run_frames("up", helpers=_core.HELPER_AUTO_HM)  # push (the flag is set after the first step)
        for _ in range(3):
            emu.run_frames("up", helpers=_core.HELPER_AUTO_HM)
        strength = pb.memory[C.STATUS_FLAGS1] >> C.BIT_STRENGTH_ACTIVE & 1
        assert strength == knows_strength and emu.hm_used == 0  # no menus for Strength
        moved = tw.position(pb) != start
        assert moved == knows_strength  # the boulder moved up and the player followed it
    finally:
        pb.stop(save=False)


def test_vec_env_cuts_on_every_thread_the_same_way():
    """Through VecEnv (two envs, two OpenMP threads) with the default config: the helper is on by default,
    both envs cut in the same step, identically, and the counts reach helper_counts()."""
    state = state_facing(TREE, movesets=[[C.MOVE_CUT]])
    envs = pokerl_fast.make_vec_env(2, start_state=state, num_threads=2, reset_noop_max=0)
    try:
        envs.reset(seed=3)
        up = envs.config.actions.index("up")
        envs.step(np.full(2, up))
        assert envs.helper_counts() == {"hm_used": 2, "hm_aborted": 0}
        obs, *_ = envs.step(np.full(2, up))
        assert (envs._info_arrays["y"] == TREE[1]).all()
        assert np.array_equal(obs["screen"][0], obs["screen"][1])
    finally:
        envs.close()


@pytest.mark.red
def test_red_start_menu_behaves_as_the_macro_expects(tmp_path):
    """On the real game (POKERL_ROM), from the bedroom start state: START opens the menu the macro waits for
    (no Pokedex yet: Red stores the item count 6 in wMaxMenuItem), DOWN moves wCurrentMenuItem by one, B closes it and control returns;
    wCurMapTileset reads REDS_HOUSE_2 (4)."""

    from pokerl_fast.game.red import probe_control, start_state

    rom = support.red_rom()
    pb, emu = None, None
    try:
        pb = new_pyboy(rom)
        emu = Emulator(pb)
        emu.load_state(start_state(rom, cache_dir=tmp_path))
        assert pb.memory[C.CUR_MAP_TILESET] == 4
        pb.memory[C.MAX_MENU_ITEM] = 0xFF
        emu.run_frames("start")
        for _ in range(10):
            if pb.memory[C.MAX_MENU_ITEM] != 0xFF:
                break
            emu.tick(24)
        items = C.START_MENU_ITEMS_WITH_POKEDEX - 1  # no Pokedex yet: 6 items, and Red stores that count
        assert pb.memory[C.MAX_MENU_ITEM] == items
        item = pb.memory[C.CURRENT_MENU_ITEM]
        emu.run_frames("down")
        assert pb.memory[C.CURRENT_MENU_ITEM] == (item + 1) % items
        for _ in range(2):
            emu.run_frames("b")
        assert probe_control(pb) is None
    finally:
        if pb is not None:
            pb.stop(save=False)


def test_auto_hm_gives_up_within_a_bound_when_no_menu_answers(tmp_path):
    """A ROM made for this test sets up the RAM of a player facing a tree with Cut (everything plan_hm asks),
    then spins with interrupts off and never reads the joypad. The macro must press START a bounded number
    of times, give up, close with B and return: hm_aborted counts it, and the frames are exactly the bound."""
    from pokerl_fast.game.testworld.sm83 import Asm

    col, row = FRONT[0x4]
    ram = {C.PLAYER_FACING: 0x4, C.TILE_MAP + row * C.TILE_MAP_WIDTH + col: C.CUT_TREE_TILE_OVERWORLD,
           C.CUR_MAP_TILESET: C.TILESET_OVERWORLD, C.OBTAINED_BADGES: 1 << C.BIT_CASCADEBADGE,
           C.PARTY_COUNT: 1, C.PARTY_MON1_MOVES: C.MOVE_CUT, C.JOY_IGNORE: 0, C.WALK_COUNTER: 0,
           C.IS_IN_BATTLE: 0, C.MAX_MENU_ITEM: 0}
    a = Asm()
    a.entry("Start")
    a.label("Start")
    a.di()
    for addr, value in ram.items():
        a.ld("a", value)
        a.ld([addr], "a")
    a.label(".spin")
    a.jr(".spin")
    rom = tmp_path / "frozen.gb"
    rom.write_bytes(a.rom(title="HM ABORT TEST"))
    pb = new_pyboy(str(rom))
    try:
        emu = Emulator(pb, native_screen=True)
        emu.tick(120)  # the boot ROM hands over near frame 64
        wram = np.asarray(emu.wram_view())
        assert _core.hm_plan(wram, 0x4) == (1, 0, C.FIELD_MOVE_CUT, 0)
        frames = emu.run_frames("up", helpers=_core.HELPER_AUTO_HM)
        assert (emu.hm_used, emu.hm_aborted) == (0, 1)
        # the step (24) + 3 START presses each followed by an 80-frame wait (3 * (24 + 80)) + 4 B presses (4 * 24)
        assert frames == 24 + 3 * (24 + 80) + 4 * 24
        assert pb.memory[C.MAX_MENU_ITEM] == 0xFF  # the sentinel: no menu ever answered
    finally:
        pb.stop(save=False)
